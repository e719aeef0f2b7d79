#pragma once
// HTTP/1.1 server on Boost.Beast: one io_context per thread, each with its own SO_REUSEPORT acceptor,
// one coroutine per connection, keep-alive, limits and timeouts, optional TLS, graceful shutdown.

#include "deputy/net/arena.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/beast/http/fields.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/status.hpp>
#include <boost/beast/http/string_body.hpp>

#include <chrono>
#include <cstdint>
#include <expected>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>

namespace deputy::net {

namespace http = boost::beast::http;

/// A request's header fields and body live in its connection's arena (see arena.hpp).
using RequestAllocator = ArenaAllocator<char>;
using Request = http::request<http::basic_string_body<char, std::char_traits<char>, RequestAllocator>,
                              http::basic_fields<RequestAllocator>>;

/// A response header besides the status line, Content-Type, Content-Length/Transfer-Encoding and
/// Connection, which the connection writes itself.
struct Header {
  std::string_view name;
  std::string_view value;
};

/// Largest request body: MCP messages are small, but a tool argument may carry a document.
inline constexpr std::size_t kDefaultBodyLimit = 4 * 1024 * 1024;
/// Largest request header block: Entra access tokens exceed 8 KiB (group and role claims), and a
/// proxy may add its own headers; 64 KiB holds them with room, still bounded.
inline constexpr std::size_t kDefaultHeaderLimit = 64 * 1024;
/// A whole request (header and body) must arrive within this time once its first byte has: a client
/// that trickles bytes is cut off.
inline constexpr std::chrono::seconds kDefaultReadTimeout{30};
/// A keep-alive connection with no request in this time is closed.
inline constexpr std::chrono::seconds kDefaultIdleTimeout{120};
/// A write that makes no progress in this time means the client stopped reading.
inline constexpr std::chrono::seconds kDefaultWriteTimeout{30};
/// Open connections at most; past it new ones are closed at once. Each costs a socket and a few KiB.
inline constexpr std::size_t kDefaultMaxConnections = 20000;
/// On SIGTERM, requests in flight get this long to finish before the process exits.
inline constexpr std::chrono::seconds kDefaultShutdownGrace{10};

struct TlsFiles {
  std::string certificate_chain;  // PEM
  std::string private_key;        // PEM
};

struct ServerOptions {
  std::string host = "127.0.0.1";
  std::uint16_t port = 8400;  // 0: any free port (see HttpServer::port())
  unsigned threads = 0;       // 0: one per core
  std::size_t body_limit = kDefaultBodyLimit;
  std::size_t header_limit = kDefaultHeaderLimit;
  std::chrono::milliseconds read_timeout = kDefaultReadTimeout;
  std::chrono::milliseconds idle_timeout = kDefaultIdleTimeout;
  std::chrono::milliseconds write_timeout = kDefaultWriteTimeout;
  std::size_t max_connections = kDefaultMaxConnections;
  std::chrono::milliseconds shutdown_grace = kDefaultShutdownGrace;
  std::optional<TlsFiles> tls;
};

/// One request/response exchange as a handler sees it: answer once with `respond`, or `open_stream` and
/// `write` chunks (server-sent events) until `close_stream`. The views passed in need only live until the
/// call returns.
class Exchange {
 public:
  virtual ~Exchange() = default;
  /// A whole response; false when the client is gone.
  virtual boost::asio::awaitable<bool> respond(http::status status, std::string_view content_type,
                                               std::string_view body, std::span<const Header> headers = {}) = 0;
  /// The head of a streamed response (chunked on HTTP/1.1).
  virtual boost::asio::awaitable<bool> open_stream(http::status status, std::string_view content_type,
                                                   std::span<const Header> headers = {}) = 0;
  virtual boost::asio::awaitable<bool> write(std::string_view chunk) = 0;
  virtual boost::asio::awaitable<void> close_stream() = 0;
  /// Ends the stream and closes the connection, while the handler may go on (nothing more is written).
  virtual boost::asio::awaitable<void> hang_up() = 0;
  /// A stream that only ends when the client leaves (e.g. the standalone SSE stream): shutdown ends it at
  /// once instead of waiting for it.
  virtual void set_long_lived() = 0;
  [[nodiscard]] virtual bool stream_open() const = 0;
  [[nodiscard]] virtual bool answered() const = 0;
  /// Cancelled when the client cancels the request being handled, or at shutdown for long-lived streams.
  [[nodiscard]] virtual boost::asio::cancellation_signal& cancellation_signal() = 0;
  [[nodiscard]] virtual bool stopping() const = 0;
  /// The connection's scratch memory, reused from request to request so that answering costs no
  /// allocation once warm: a string to build a response body in, and a buffer to parse the request's
  /// JSON in. Both belong to the current exchange only.
  [[nodiscard]] virtual std::string& body_buffer() = 0;
  [[nodiscard]] virtual std::span<unsigned char> parse_buffer() = 0;
};

using Handler = std::function<boost::asio::awaitable<void>(Request& request, Exchange& exchange)>;

class HttpServer {
 public:
  HttpServer(ServerOptions options, Handler handler);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  /// Binds the listening sockets; an error names the address and the reason.
  std::expected<void, std::string> listen();
  /// The bound port (useful with port 0).
  [[nodiscard]] std::uint16_t port() const;
  /// Serves until stop() and its graceful drain; blocks the calling thread (which is one of the workers).
  void run();
  /// Stops accepting, ends idle connections and long-lived streams, lets requests in flight finish within
  /// the grace period. Thread-safe.
  void stop();
  /// Connections open now, over all threads.
  [[nodiscard]] std::size_t connections() const;
  /// An executor of the first worker, for work that is not tied to a connection (signals, timers).
  [[nodiscard]] boost::asio::any_io_executor executor() const;

 struct Impl;  // opaque; public only so the connection machinery in the .cpp can name it

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace deputy::net
