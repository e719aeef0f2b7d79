#pragma once
// The audit trail as `deputy demo` shows it: one row per record (time, event, user, and what the event is
// about: the tool, the scope, the status), the count by event, and the proof that none of the tokens the
// demo handled appears in the file. Reads the JSON lines audit/record.hpp writes.

#include <cstddef>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace deputy::demo {

struct TrailRow {
  std::string time;    // HH:MM:SS.mmm (UTC)
  std::string event;   // tools_listed, tool_denied, ...
  std::string user;    // the upn, "-" for an anonymous record
  std::string detail;  // "check_sharepoint_site_access", "GET /v1.0/me → 200", ...
};

/// The records of `trail` (one JSON object per line); lines that are not records are skipped.
[[nodiscard]] std::vector<TrailRow> read_trail(std::string_view trail);
/// The rows as an aligned table under a header line.
[[nodiscard]] std::string format_trail(const std::vector<TrailRow>& rows);
/// How many records of each event.
[[nodiscard]] std::map<std::string, std::size_t> count_events(const std::vector<TrailRow>& rows);
/// How many of `secrets` occur in `text` (whole, or their JWS signature part alone); empty secrets are
/// ignored.
[[nodiscard]] std::size_t secrets_found(std::string_view text, const std::vector<std::string>& secrets);

}  // namespace deputy::demo
