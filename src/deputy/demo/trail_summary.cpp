#include "deputy/demo/trail_summary.hpp"

#include <fmt/format.h>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <algorithm>

namespace deputy::demo {

namespace json = boost::json;

namespace {

/// "2026-11-27T07:47:07.123Z": the time of day is what tells the records of one short run apart.
constexpr std::size_t kTimeOfDayStart = 11;
constexpr std::size_t kTimeOfDayLength = 12;

std::string field(const json::object& record, std::string_view name) {
  const auto* value = record.if_contains(name);
  if (value == nullptr) return {};
  if (value->is_string()) return std::string(value->get_string());
  if (value->is_bool()) return value->get_bool() ? "true" : "false";
  if (value->is_int64() || value->is_uint64()) return json::serialize(*value);
  return {};
}

std::string detail(const json::object& record, std::string_view event) {
  if (event == "authn_failed") return field(record, "reason");
  if (event == "tools_listed") return field(record, "count") + " tools";
  if (event == "tool_denied") return fmt::format("{} ({})", field(record, "tool"), field(record, "reason"));
  if (event == "tool_called") return field(record, "tool");
  if (event == "token_exchanged") {
    return fmt::format("{} → {} (cache {})", field(record, "scope"), field(record, "outcome"),
                       field(record, "cache"));
  }
  if (event == "downstream_call") {
    return fmt::format("{} {} → {}", field(record, "method"), field(record, "path_template"),
                       field(record, "status"));
  }
  if (event == "tool_result") {
    return fmt::format("{} {}", field(record, "tool"), field(record, "is_error") == "true" ? "error" : "ok");
  }
  return {};
}

/// Display width of UTF-8 text: one column per code point (the table holds arrows, not wide characters).
std::size_t width(std::string_view text) {
  return static_cast<std::size_t>(std::ranges::count_if(text, [](char c) { return (c & 0xC0) != 0x80; }));
}

std::string padded(std::string_view text, std::size_t columns) {
  return std::string(text) + std::string(columns > width(text) ? columns - width(text) : 0, ' ');
}

}  // namespace

std::vector<TrailRow> read_trail(std::string_view trail) {
  std::vector<TrailRow> rows;
  std::size_t start = 0;
  while (start < trail.size()) {
    auto end = trail.find('\n', start);
    if (end == std::string_view::npos) end = trail.size();
    const auto line = trail.substr(start, end - start);
    start = end + 1;
    boost::system::error_code ec;
    auto value = json::parse(line, ec);
    if (ec || !value.is_object()) continue;
    const auto& record = value.get_object();
    const auto event = field(record, "event");
    if (event.empty()) continue;
    const auto time = field(record, "time");
    const auto upn = field(record, "upn");
    rows.push_back({.time = time.size() >= kTimeOfDayStart + kTimeOfDayLength
                                ? time.substr(kTimeOfDayStart, kTimeOfDayLength)
                                : time,
                    .event = event,
                    .user = upn.empty() ? "-" : upn,
                    .detail = detail(record, event)});
  }
  return rows;
}

std::string format_trail(const std::vector<TrailRow>& rows) {
  std::size_t time = 4, event = 5, user = 4;
  for (const auto& row : rows) {
    time = std::max(time, width(row.time));
    event = std::max(event, width(row.event));
    user = std::max(user, width(row.user));
  }
  auto line = [&](std::string_view a, std::string_view b, std::string_view c, std::string_view d) {
    std::string out =
        padded(a, time) + "  " + padded(b, event) + "  " + padded(c, user) + "  " + std::string(d);
    while (out.ends_with(' ')) out.pop_back();
    return out + "\n";
  };
  std::string out = line("time", "event", "user", "tool / scope / status");
  for (const auto& row : rows) out += line(row.time, row.event, row.user, row.detail);
  return out;
}

std::map<std::string, std::size_t> count_events(const std::vector<TrailRow>& rows) {
  std::map<std::string, std::size_t> counts;
  for (const auto& row : rows) ++counts[row.event];
  return counts;
}

std::size_t secrets_found(std::string_view text, const std::vector<std::string>& secrets) {
  std::size_t found = 0;
  for (const auto& secret : secrets) {
    if (secret.empty()) continue;
    // A JWS's signature alone identifies it; a record that kept only that part would still leak the token.
    const auto dot = secret.rfind('.');
    const std::string_view signature =
        dot == std::string::npos ? std::string_view(secret) : std::string_view(secret).substr(dot + 1);
    if (text.find(secret) != std::string_view::npos ||
        (!signature.empty() && text.find(signature) != std::string_view::npos)) {
      ++found;
    }
  }
  return found;
}

}  // namespace deputy::demo
