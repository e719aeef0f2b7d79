#pragma once
// An MCP client over Streamable HTTP (protocol 2025-06-18) on net::HttpClient: initialize and
// notifications/initialized, tools/list (every page), tools/call, the Mcp-Session-Id and MCP-Protocol-Version
// headers, answers as JSON or as an SSE stream (the response is the `data:` message with our id; progress and
// other notifications before it are skipped), and DELETE of the session on close.
// Authentication: every request carries the token `Credentials::current` gives. On 401 the WWW-Authenticate
// challenge decides (www_authenticate.hpp): invalid_token → `renew` and retry once; insufficient_claims →
// `step_up` with the decoded claims (a new sign-in) and retry once. A 404 for our session (the server forgot
// it) starts one new session and retries once, as the transport specification asks.

#include "deputy/client/error.hpp"
#include "deputy/net/http_client.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <chrono>
#include <expected>
#include <functional>
#include <string>
#include <vector>

namespace deputy::client {

inline constexpr std::string_view kMcpProtocolVersion = "2025-06-18";
/// initialize, tools/list and the like: the server answers them from memory.
inline constexpr std::chrono::seconds kRequestTimeout{30};
/// A tool call may wait on downstream APIs (Graph, a token exchange); the server's own limits end it sooner.
inline constexpr std::chrono::minutes kToolCallTimeout{2};
/// tools/list pages followed at most: a server that keeps handing out cursors is looping.
inline constexpr int kMaxListPages = 100;

using TokenFunction = std::function<boost::asio::awaitable<std::expected<std::string, Error>>()>;

struct Credentials {
  TokenFunction current;  // the token to send (cached, silently renewed); null: no Authorization header
  TokenFunction renew;    // a fresh token after invalid_token; null: no retry
  std::function<boost::asio::awaitable<std::expected<std::string, Error>>(std::string claims)> step_up;
};

/// The JSON-RPC messages of an SSE body: each event's `data:` lines joined (RFC: one event per blank line),
/// comments and other fields skipped, events that are not JSON skipped.
[[nodiscard]] std::vector<boost::json::value> parse_sse(std::string_view body);

/// Whether a bearer token may be sent to `url`: https, or plain http to this machine (`deputy dev`). A token
/// sent in the clear to another host is a token anyone on the path can replay.
[[nodiscard]] bool carries_tokens_safely(std::string_view url);

class McpClient {
 public:
  McpClient(net::HttpClient& http, std::string url, Credentials credentials = {});

  /// initialize + notifications/initialized; the server's initialize result.
  [[nodiscard]] boost::asio::awaitable<std::expected<boost::json::object, Error>> initialize();
  /// Every tool the server lists to us (all pages).
  [[nodiscard]] boost::asio::awaitable<std::expected<std::vector<boost::json::object>, Error>> list_tools();
  /// The tools/call result (content, isError, structuredContent); a JSON-RPC error is kMcp.
  [[nodiscard]] boost::asio::awaitable<std::expected<boost::json::object, Error>> call_tool(
      std::string name, boost::json::object arguments);
  /// DELETE of the session (when there is one); errors ignored: the server ends idle sessions anyway.
  boost::asio::awaitable<void> close();

  [[nodiscard]] const std::string& session_id() const { return session_id_; }

 private:
  struct Answer {
    unsigned status = 0;
    std::string www_authenticate;
    std::string session_id;
    std::string content_type;
    std::string body;
  };
  boost::asio::awaitable<std::expected<Answer, Error>> post(const boost::json::object& message,
                                                            std::chrono::milliseconds timeout);
  boost::asio::awaitable<std::expected<boost::json::object, Error>> request(
      std::string method, boost::json::object params, std::chrono::milliseconds timeout);
  boost::asio::awaitable<std::expected<boost::json::object, Error>> handshake();

  net::HttpClient& http_;
  std::string url_;
  Credentials credentials_;
  std::string token_;
  std::string session_id_;
  bool initialized_ = false;
  std::int64_t next_id_ = 1;
};

}  // namespace deputy::client
