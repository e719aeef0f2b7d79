#pragma once
// One audit record per decision (authentication failed, list filtered, call denied, tool called, token
// exchanged, downstream call, tool result), and its encoding as one JSON line. The trail (trail.hpp) writes
// the lines; this file only says what a record holds and how it reads.
//
// A record names who (the principal's oid, tid, upn and client), what (the event and its fields) and the
// outcome. It NEVER carries a token, a secret, or a tool's argument values:
//   - the principal enters through `Actor`, which copies four identifiers and nothing else from an
//     auth::Principal (not the raw token, not the claims);
//   - a tool call keeps the argument names and a SHA-256 digest of their canonical serialization, so equal
//     calls can be matched without the values being written anywhere;
//   - a token exchange keeps the new token's `uti` (an identifier Entra puts in the token), never the token;
//   - a downstream call keeps the path template (`/sites/{id}/drive`), never the concrete path or query.
// Whoever adds a field: it must never carry a token, an assertion, a client secret, a code, a cookie or an
// argument value. Reasons and outcomes are stable codes (auth::to_string, "invalid_grant"), not messages
// that might quote what the peer sent.

#include "deputy/auth/error.hpp"
#include "deputy/auth/principal.hpp"

#include <boost/json/object.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace deputy::audit {

/// Strings longer than this are cut (at a character boundary) and end with "...": a record stays a line
/// that log shippers accept, however long a tool or argument name someone sends.
inline constexpr std::size_t kMaxFieldBytes = 1024;

/// The kinds of record. The names (to_string) are stable: they are what queries and alerts match on.
enum class Event {
  kAuthnFailed,     // authn_failed: a request without a valid token was refused
  kToolsListed,     // tools_listed: tools/list answered, after filtering by role
  kToolDenied,      // tool_denied: a call refused by the policy (or for an unknown tool)
  kToolCalled,      // tool_called: a call allowed and handed to the tool
  kTokenExchanged,  // token_exchanged: an On-Behalf-Of exchange, answered from the cache or by the IdP
  kDownstreamCall,  // downstream_call: a tool's request to a downstream API answered (or failed)
  kToolResult,      // tool_result: a tool finished
};

[[nodiscard]] std::string_view to_string(Event event);

/// Who acted: four identifiers of an auth::Principal and nothing else. A record without an actor is
/// anonymous (a request that did not authenticate).
struct Actor {
  std::string oid;     // the user's object id (empty for issuers without one)
  std::string tid;     // tenant id
  std::string upn;     // preferred_username / upn (empty for app-only tokens)
  std::string client;  // the calling app (azp / appid)

  [[nodiscard]] static Actor of(const auth::Principal& principal);
};

// Event-specific fields, one struct per event, in the order of `Event` (Record::event() relies on it).
struct AuthnFailed {
  std::string reason;  // a stable reason code, e.g. auth::to_string(auth::Error::kExpired)
};
struct ToolsListed {
  std::uint64_t count = 0;  // tools the caller was shown
};
struct ToolDenied {
  std::string tool;
  std::string reason;  // a stable reason code from the policy
};
struct ToolCalled {
  std::string tool;
  std::vector<std::string> argument_names;  // sorted
  std::string arguments_sha256;             // lowercase hex of SHA-256(canonical_json(arguments))
};
enum class CacheResult { kHit, kMiss };
struct TokenExchanged {
  CacheResult cache = CacheResult::kMiss;
  std::string scope;     // the scopes asked for, space-separated
  std::string audience;  // the downstream API (its app id URI or client id)
  std::string uti;       // the new token's uti claim (its identifier), empty when the exchange failed
  std::string outcome;   // "ok", or a stable error code ("invalid_grant", "AADSTS65001", "timeout")
};
struct DownstreamCall {
  std::string method;         // "GET"
  std::string host;           // "graph.microsoft.com"
  std::string path_template;  // "/v1.0/sites/{site-id}/drive": no ids, no query
  int status = 0;             // the HTTP status, 0 when no answer came
  std::chrono::milliseconds elapsed{0};
};
struct ToolResult {
  std::string tool;
  bool is_error = false;
  std::chrono::milliseconds elapsed{0};
};

using Details = std::variant<AuthnFailed, ToolsListed, ToolDenied, ToolCalled, TokenExchanged, DownstreamCall,
                             ToolResult>;

struct Record {
  std::chrono::system_clock::time_point time;
  std::string request_id;      // the JSON-RPC id as text; empty when there is none (authn_failed)
  std::string session;         // Mcp-Session-Id; empty before initialize
  std::optional<Actor> actor;  // nullopt: anonymous
  Details details;

  [[nodiscard]] Event event() const { return static_cast<Event>(details.index()); }
};

/// What every builder needs: when, which request, which session, who. The builders copy what a record
/// keeps, so the views and the principal need only outlive the builder call (build the Context in the call
/// expression, or from strings that outlive it). A null principal means anonymous. Time is passed in,
/// like everywhere else: callers take it from their clock.
struct Context {
  std::chrono::system_clock::time_point time;
  std::string_view request_id;
  std::string_view session;
  const auth::Principal* principal = nullptr;
};

// Builders, one per event.
[[nodiscard]] Record authn_failed(const Context& context, std::string_view reason);
[[nodiscard]] Record authn_failed(const Context& context, auth::Error error);
[[nodiscard]] Record tools_listed(const Context& context, std::uint64_t count);
[[nodiscard]] Record tool_denied(const Context& context, std::string_view tool, std::string_view reason);
/// Keeps the argument names and the digest of `arguments`; the values go no further than this call.
[[nodiscard]] Record tool_called(const Context& context, std::string_view tool,
                                 const boost::json::object& arguments);
[[nodiscard]] Record token_exchanged(const Context& context, TokenExchanged exchange);
[[nodiscard]] Record downstream_call(const Context& context, DownstreamCall call);
[[nodiscard]] Record tool_result(const Context& context, std::string_view tool, bool is_error,
                                 std::chrono::milliseconds elapsed);

/// The record as one JSON object on one line, ending with '\n'. Keys, always in this order:
///   time, event, request_id, session, [oid, tid, upn, client — only with an actor], then the event's:
///   authn_failed     reason
///   tools_listed     count
///   tool_denied      tool, reason
///   tool_called      tool, arg_names, args_sha256
///   token_exchanged  cache ("hit"/"miss"), scope, audience, uti, outcome
///   downstream_call  method, host, path_template, status, ms
///   tool_result      tool, is_error, ms
/// `time` is RFC 3339 UTC with milliseconds ("2026-11-27T07:47:07.123Z"). Strings are JSON-escaped (every
/// control character, and U+2028/U+2029 for JavaScript readers); invalid UTF-8 becomes U+FFFD; strings
/// longer than kMaxFieldBytes are cut.
[[nodiscard]] std::string encode(const Record& record);

/// The canonical serialization the argument digest is taken over: objects with keys sorted by their
/// bytes, no whitespace, integers in decimal (an integral double such as 2.0 is written as 2, so equal
/// numbers give equal text), other doubles in their shortest round-trip form, strings escaped minimally
/// and otherwise byte for byte (nothing replaced, so different strings never give the same text).
[[nodiscard]] std::string canonical_json(const boost::json::value& value);
/// Lowercase hex SHA-256 of canonical_json(arguments).
[[nodiscard]] std::string arguments_digest(const boost::json::object& arguments);

/// `text` as the contents of a JSON string (without the quotes), as encode() writes it.
void append_json_string_contents(std::string& out, std::string_view text,
                                 std::size_t max_bytes = kMaxFieldBytes);
/// RFC 3339 UTC with milliseconds.
[[nodiscard]] std::string format_time(std::chrono::system_clock::time_point time);

}  // namespace deputy::audit
