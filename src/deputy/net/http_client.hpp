#pragma once
// Outbound HTTP/1.1 client on Boost.Beast: what deputy uses to reach identity providers (discovery, JWKS,
// token endpoints) and downstream APIs (Microsoft Graph, Azure DevOps). TLS with hostname verification,
// keep-alive pools per io_context, timeouts, bounded retries of idempotent requests, size limits, and
// the proxies enterprise networks put in the way.
//
// Threads: one HttpClient serves every io_context of the process. A connection belongs to the io_context
// it was made on and is only ever touched from coroutines running there; the idle pool of an io_context
// lives inside that io_context (an Asio service), so it needs no lock of ours and dies with it. The rule
// this relies on: an io_context that sends through the client is run by one thread at a time (deputy runs
// one io_context per thread).
//
// Never logged: request or response bodies, header values, query strings, proxy credentials. Debug logs
// carry the method, host, path, status (or error) and milliseconds.

#include <boost/asio/awaitable.hpp>
#include <boost/beast/http/verb.hpp>

#include <chrono>
#include <cstdint>
#include <expected>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace deputy::net {

/// Largest response body: JWKS documents are a few KiB and Graph pages a few MiB at most; more is a
/// misconfigured endpoint or an attempt on our memory.
inline constexpr std::size_t kDefaultResponseBodyLimit = 8 * 1024 * 1024;
/// Largest response header block: Azure front ends add diagnostic headers and cookies, all well under
/// this; as for requests (see http_server.hpp), bounded with room.
inline constexpr std::size_t kDefaultResponseHeaderLimit = 64 * 1024;
/// Opening a TCP connection (all addresses of the host together): a reachable host answers within a
/// second even across continents; past this it is down or filtered, and the caller should hear so.
inline constexpr std::chrono::seconds kDefaultConnectTimeout{10};
/// A whole send(), retries and their waits included: the caller is usually an MCP tool call whose own
/// client stops waiting at about this point, and a request our server reads may take as long (see
/// kDefaultReadTimeout in http_server.hpp).
inline constexpr std::chrono::seconds kDefaultTotalTimeout{30};
/// Idle keep-alive connections per origin and io_context. A worker serving tool calls has as many requests in
/// flight to one downstream API as it has concurrent callers (64 MCP clients: 64 Graph calls); fewer idle slots
/// than that means a new TLS handshake for most calls under load (measured: 8 slots cut Tier-2 throughput
/// tenfold at 64 callers). Each idle one costs a descriptor here and a slot at the server, which closes it when
/// it wants (kDefaultIdleLifetime).
inline constexpr std::size_t kDefaultMaxIdlePerOrigin = 128;
/// An idle connection older than this is closed instead of reused: servers close idle connections after
/// tens of seconds (nginx 75 s, Azure front ends 4 min, Apache 5 s), and reusing one they are closing is
/// the race the one-time retry covers; older ones are not worth the risk.
inline constexpr std::chrono::seconds kDefaultIdleLifetime{30};
/// Attempts of one idempotent request answered 429 or 503 (the first included).
inline constexpr unsigned kDefaultMaxAttempts = 3;
/// Waiting between attempts is capped in total: a Retry-After beyond it (Entra throttling may ask for
/// minutes) is the caller's decision, so the 429/503 is returned instead of holding the request.
inline constexpr std::chrono::seconds kDefaultMaxRetryWait{10};
/// Backoff when a 429/503 has no Retry-After: this, doubled per attempt, with jitter.
inline constexpr std::chrono::milliseconds kDefaultRetryBaseDelay{250};

/// What went wrong with a request. Stable reason strings come from to_string().
enum class ClientError {
  invalid_url,          // the URL does not parse, has no host, or carries user:password@
  unsupported_scheme,   // neither http nor https
  invalid_request,      // a header name or value is not valid HTTP, or frames the message (Host, Content-Length…)
  resolve_failed,       // the host name did not resolve
  connect_failed,       // no address of the host accepted a TCP connection within the connect timeout
  tls_failed,           // TLS handshake failed: untrusted certificate, wrong host name, protocol below TLS 1.2
  timeout,              // the request's total timeout passed
  response_too_large,   // the response body exceeded the body limit
  headers_too_large,    // the response header block exceeded the header limit
  malformed_response,   // the peer's answer is not HTTP/1.x
  connection_closed,    // the connection ended before a whole response, and a retry was not safe
  proxy_failed,         // the proxy is misconfigured, unreachable, or refused the tunnel (407 included)
  cancelled,            // the calling coroutine was cancelled
};

[[nodiscard]] std::string_view to_string(ClientError error);

struct ClientHeader {
  std::string name;
  std::string value;
};

struct ClientRequest {
  boost::beast::http::verb method = boost::beast::http::verb::get;
  std::string url;  // http:// or https://
  /// Host, Content-Length, Transfer-Encoding and Connection are the client's; giving one is invalid_request.
  std::vector<ClientHeader> headers;
  std::string body;
  /// Overrides ClientOptions::total_timeout for this request.
  std::optional<std::chrono::milliseconds> timeout;
};

struct ClientResponse {
  unsigned status = 0;
  std::vector<ClientHeader> headers;
  std::string body;

  /// The first header of that name (case-insensitive).
  [[nodiscard]] std::optional<std::string_view> header(std::string_view name) const;
};

/// Where requests go when not straight to the origin. Proxy URLs are http://[user:password@]host[:port]
/// (a bare host:port is taken as http://); credentials become Proxy-Authorization: Basic.
struct ProxySettings {
  std::string http_proxy;   // for http:// URLs (absolute-form requests to the proxy); empty: direct
  std::string https_proxy;  // for https:// URLs (a CONNECT tunnel, TLS end to end); empty: direct
  std::string no_proxy;     // NO_PROXY syntax, see no_proxy_matches()
  /// Loopback hosts (localhost, 127.0.0.0/8, ::1) go direct unless this is set: a proxy elsewhere cannot
  /// reach our loopback, and the development identity provider lives there.
  bool proxy_loopback = false;

  /// HTTPS_PROXY, HTTP_PROXY and NO_PROXY, the lowercase spelling first (as curl reads them).
  [[nodiscard]] static ProxySettings from_environment();
};

struct ClientOptions {
  /// A PEM file of CAs trusted besides the system's (the development identity provider's local CA).
  std::string extra_ca_file;
  std::chrono::milliseconds connect_timeout = kDefaultConnectTimeout;
  std::chrono::milliseconds total_timeout = kDefaultTotalTimeout;
  std::size_t response_body_limit = kDefaultResponseBodyLimit;
  std::size_t response_header_limit = kDefaultResponseHeaderLimit;
  std::size_t max_idle_per_origin = kDefaultMaxIdlePerOrigin;
  std::chrono::milliseconds idle_lifetime = kDefaultIdleLifetime;
  unsigned max_attempts = kDefaultMaxAttempts;
  std::chrono::milliseconds max_retry_wait = kDefaultMaxRetryWait;
  std::chrono::milliseconds retry_base_delay = kDefaultRetryBaseDelay;
  /// nullopt: ProxySettings::from_environment(), read once by the constructor.
  std::optional<ProxySettings> proxy;
  std::string user_agent = "deputy";
  /// Waits between attempts; default: a timer on the calling coroutine's executor. Tests pass one that
  /// records the delay and returns at once.
  std::function<boost::asio::awaitable<void>(std::chrono::milliseconds)> sleep;
  /// Jitter source, uniform in [0, 1); default: a per-thread PRNG.
  std::function<double()> random;
};

class HttpClient {
 public:
  /// Throws std::runtime_error naming the file when extra_ca_file cannot be loaded: a configuration error,
  /// found at startup.
  explicit HttpClient(ClientOptions options = {});
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  /// Sends one request from a coroutine on any io_context (see the thread rule above); never throws for
  /// network or protocol failures. 429 and 503 answers to GET, HEAD, PUT, DELETE and OPTIONS are retried
  /// (Retry-After honoured, waits capped); a POST is never retried after it may have been processed.
  /// Redirects are returned, not followed (a followed redirect would carry the Authorization header
  /// elsewhere). The client must outlive the call; idle connections it leaves in an io_context are closed
  /// there, at that io_context's next request or its destruction, so the two may be destroyed in any order.
  [[nodiscard]] boost::asio::awaitable<std::expected<ClientResponse, ClientError>> send(ClientRequest request);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// Whether NO_PROXY excludes host:port from proxying. Entries, comma-separated and case-insensitive:
/// "*" (everything), "example.com" or ".example.com" (the domain and its subdomains), "host:port", an IP
/// address, or a CIDR block ("10.0.0.0/8").
[[nodiscard]] bool no_proxy_matches(std::string_view no_proxy, std::string_view host, std::uint16_t port);

/// A Retry-After value (delta-seconds, or an HTTP-date relative to `now`; a date past is zero); nullopt when
/// it is neither.
[[nodiscard]] std::optional<std::chrono::seconds> parse_retry_after(std::string_view value,
                                                                   std::chrono::system_clock::time_point now);

}  // namespace deputy::net
