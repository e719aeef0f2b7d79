#pragma once
// MCP's Streamable HTTP transport (2025-03-26 and later): POST, GET and DELETE on one endpoint,
// answers as JSON or as server-sent events, sessions by `Mcp-Session-Id`, and the DNS-rebinding checks.

#include "deputy/audit/trail.hpp"
#include "deputy/auth/bearer.hpp"
#include "deputy/mcp/dispatcher.hpp"
#include "deputy/net/http_server.hpp"
#include "deputy/transport/session_store.hpp"

#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <string>
#include <vector>

namespace deputy::transport {

/// Messages queued for one standalone stream at most; a client that does not read loses the oldest
/// path to us (its stream is closed) rather than growing our memory.
inline constexpr std::size_t kStandaloneQueueDepth = 1024;
/// A standalone stream with nothing to say sends a comment this often, so proxies keep it open and a
/// vanished client is noticed.
inline constexpr std::chrono::seconds kKeepAliveInterval{15};

struct StreamableHttpOptions {
  std::string path = "/mcp";
  /// Origins allowed besides loopback ones (`http://localhost:*`, `http://127.0.0.1:*`, `http://[::1]:*`),
  /// exactly as browsers send them, e.g. "https://app.example.com". "*" allows any.
  std::vector<std::string> allowed_origins;
  /// When bound to loopback, the Host header must name a loopback host: a DNS-rebinding page reaches us
  /// with its own host name.
  bool require_loopback_host = true;
  std::size_t max_sessions = kDefaultMaxSessions;
  std::chrono::milliseconds session_idle_timeout = kDefaultSessionIdleTimeout;
  /// Validates bearer tokens; null: no authentication (a local server, stdio-like trust).
  std::shared_ptr<auth::Authenticator> authenticator;
  /// What challenges point at (RFC 9728) and the scope they ask for.
  auth::ResourceMetadata resource_metadata;
  std::string challenge_scope;
  /// Where authn_failed records go; null: nowhere.
  std::shared_ptr<audit::Trail> audit;
};

class StreamableHttp {
 public:
  StreamableHttp(const mcp::Dispatcher& dispatcher, StreamableHttpOptions options);

  /// Handles one HTTP exchange for the MCP endpoint.
  boost::asio::awaitable<void> handle(net::Request& request, net::Exchange& exchange);

  /// Sends a notification to every session's standalone stream (e.g. list_changed).
  void broadcast(const boost::json::object& notification);
  /// `notifications/resources/updated` to the sessions subscribed to `uri`.
  void resource_updated(std::string_view uri);
  /// Ends idle sessions; called periodically.
  std::size_t expire_sessions();
  /// Ends every session (shutdown).
  void close_sessions() { sessions_.clear(); }
  [[nodiscard]] std::size_t session_count() const { return sessions_.size(); }
  [[nodiscard]] const StreamableHttpOptions& options() const { return options_; }

  struct Headers;  // the request headers the transport reads (defined in the .cpp)

 private:
  boost::asio::awaitable<std::expected<std::shared_ptr<const auth::Principal>, auth::Error>> authenticate(
      const net::Request& request, const Headers& headers);
  boost::asio::awaitable<void> refuse(net::Exchange& exchange, auth::Error error);
  std::shared_ptr<SessionStore::Entry> find_session(std::string_view id, const auth::Principal* principal);
  boost::asio::awaitable<void> post(net::Request& request, const Headers& headers, const auth::Principal* principal,
                                    net::Exchange& exchange);
  boost::asio::awaitable<void> get(const Headers& headers, const auth::Principal* principal,
                                   net::Exchange& exchange);
  boost::asio::awaitable<void> remove(const Headers& headers, const auth::Principal* principal,
                                      net::Exchange& exchange);
  [[nodiscard]] bool origin_allowed(std::string_view origin) const;

  const mcp::Dispatcher& dispatcher_;
  StreamableHttpOptions options_;
  SessionStore sessions_;
};

/// Whether `host` (a Host header value, with or without port) names the loopback interface.
[[nodiscard]] bool is_loopback_host(std::string_view host);
/// Whether `origin` is a loopback origin (`http(s)://localhost|127.0.0.1|[::1][:port]`).
[[nodiscard]] bool is_loopback_origin(std::string_view origin);
/// Whether an Accept header value admits `mime` (exact type, `type/*`, or `*/*`; parameters ignored).
[[nodiscard]] bool accepts(std::string_view accept_header, std::string_view mime);

}  // namespace deputy::transport
