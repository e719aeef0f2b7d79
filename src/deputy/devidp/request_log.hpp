#pragma once
// The dev Graph's request log, for tests that must see what reached the downstream API: which requests, with
// what answer, and which token each carried, identified by its SHA-256 and a few claims, never by the token
// itself (the log is served over HTTP at GET /_dev/requests). A ring: past kMaxLoggedRequests the oldest go.
// Thread-safe.

#include <boost/json/object.hpp>

#include <chrono>
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace deputy::devidp {

/// Requests remembered: a few hundred bytes each, so 10,000 are a few MiB, more than any test sends.
inline constexpr std::size_t kMaxLoggedRequests = 10'000;

/// What the log says about a presented bearer token. The claims are read whether or not the token verified
/// (a forged token is logged with what it claims); `verified` says which.
struct LoggedToken {
  std::string sha256;  // lowercase hex of the token's bytes
  bool verified = false;
  std::string aud;
  std::string appid;  // appid (v1) or azp (v2): the client that obtained the token
  std::string uti;
  std::string oid;
  std::string scp;
  std::string idtyp;  // "app", "user", or empty when the token does not say
};

struct LoggedRequest {
  std::uint64_t sequence = 0;  // 1, 2, ... since start (a clear does not reset it)
  std::chrono::system_clock::time_point time;
  std::string method;
  std::string path;  // without the query string
  unsigned status = 0;
  std::string error;   // Graph's error code (accessDenied, InvalidAuthenticationToken, ...), empty on success
  std::string reason;  // why, as a stable label (wrong_audience, expired, insufficient_scope, ...), or empty
  std::optional<LoggedToken> token;  // none when no bearer token was presented

  /// {"sequence","time":"2027-01-15T08:00:00Z","method","path","status","error"?,"reason"?,"token"?:{"sha256","verified",
  /// "aud","appid","uti","oid","scp","idtyp"}}
  [[nodiscard]] boost::json::object to_json() const;
};

/// Describes `token` for the log: its hash and its claims as written (unverified).
[[nodiscard]] LoggedToken describe_token(std::string_view token, bool verified);
/// Lowercase hex SHA-256 of `bytes`.
[[nodiscard]] std::string sha256_hex(std::string_view bytes);

class RequestLog {
 public:
  void record(LoggedRequest entry);
  /// The entries in order, oldest first.
  [[nodiscard]] std::vector<LoggedRequest> entries() const;
  void clear();
  /// {"requests":[...],"dropped":n} (dropped: entries that fell off the ring since start).
  [[nodiscard]] boost::json::object to_json() const;

 private:
  mutable std::mutex mutex_;
  std::deque<LoggedRequest> entries_;
  std::uint64_t next_sequence_ = 1;
  std::uint64_t dropped_ = 0;
};

}  // namespace deputy::devidp
