#include "deputy/net/http_server.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <spdlog/spdlog.h>

#include <atomic>
#include <list>
#include <thread>

namespace deputy::net {

namespace asio = boost::asio;
namespace beast = boost::beast;
using tcp = asio::ip::tcp;
using boost::system::error_code;

namespace {

constexpr auto kAsTuple = asio::as_tuple(asio::use_awaitable);
/// Bytes asked of the socket for a request's first read: a typical MCP request fits.
constexpr std::size_t kFirstReadSize = 4096;
/// TLS handshakes must finish within this time.
constexpr std::chrono::seconds kHandshakeTimeout{10};

class ConnectionBase {
 public:
  virtual ~ConnectionBase() = default;
  virtual void on_shutdown() = 0;
};

struct Worker {
  asio::io_context context{1};
  std::optional<tcp::acceptor> acceptor;
  std::list<ConnectionBase*> connections;  // touched only on this worker's thread
  std::optional<asio::steady_timer> grace_timer;
  bool stopping = false;
};

}  // namespace

struct HttpServer::Impl {
  ServerOptions options;
  Handler handler;
  std::vector<std::unique_ptr<Worker>> workers;
  std::optional<asio::ssl::context> tls;
  std::uint16_t port = 0;
  std::atomic<std::size_t> open_connections{0};
  std::atomic<bool> stopping{false};

  asio::awaitable<void> accept_loop(Worker& worker);
  void shutdown_worker(Worker& worker);
  void connection_closed(Worker& worker);
};

namespace {

tcp::socket& socket_of(beast::tcp_stream& stream) { return stream.socket(); }
tcp::socket& socket_of(beast::ssl_stream<beast::tcp_stream>& stream) { return stream.next_layer().socket(); }
beast::tcp_stream& tcp_of(beast::tcp_stream& stream) { return stream; }
beast::tcp_stream& tcp_of(beast::ssl_stream<beast::tcp_stream>& stream) { return stream.next_layer(); }

/// The answer to a request that could not be read, and whether the connection can continue after it.
Response error_response(http::status status, unsigned version, std::string_view text) {
  Response response(status, version);
  response.set(http::field::content_type, "application/json");
  response.set(http::field::connection, "close");
  response.body() = R"({"error":")" + std::string(text) + R"("})";
  response.keep_alive(false);
  response.prepare_payload();
  return response;
}

template <typename Stream>
class Connection final : public Exchange, public ConnectionBase {
 public:
  Connection(Stream stream, HttpServer::Impl& server, Worker& worker)
      : stream_(std::move(stream)), server_(server), worker_(worker) {
    position_ = worker_.connections.insert(worker_.connections.end(), this);
  }
  ~Connection() override {
    worker_.connections.erase(position_);
    server_.connection_closed(worker_);
  }

  asio::awaitable<void> run();

  // Exchange
  asio::awaitable<bool> respond(Response response) override;
  asio::awaitable<bool> open_stream(http::response<http::empty_body> header) override;
  asio::awaitable<bool> write(std::string_view chunk) override;
  asio::awaitable<void> close_stream() override;
  asio::awaitable<void> hang_up() override {
    co_await close_stream();
    keep_alive_ = false;
    broken_ = true;
    error_code ignored;
    socket_of(stream_).shutdown(tcp::socket::shutdown_both, ignored);
  }
  void set_long_lived() override { long_lived_ = true; }
  [[nodiscard]] bool stream_open() const override { return stream_open_; }
  [[nodiscard]] bool answered() const override { return answered_; }
  asio::cancellation_signal& cancellation_signal() override { return signal_; }
  [[nodiscard]] bool stopping() const override { return worker_.stopping; }

  // ConnectionBase
  void on_shutdown() override {
    // Idle connections and long-lived streams end now; a request being handled finishes first.
    if (idle_ || long_lived_) {
      signal_.emit(asio::cancellation_type::terminal);
      error_code ignored;
      socket_of(stream_).cancel(ignored);
    }
  }

 private:
  asio::awaitable<bool> read_request();
  asio::awaitable<bool> send(Response& response);

  Stream stream_;
  HttpServer::Impl& server_;
  Worker& worker_;
  std::list<ConnectionBase*>::iterator position_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  asio::cancellation_signal signal_;
  bool idle_ = true;
  bool long_lived_ = false;
  bool stream_open_ = false;
  bool answered_ = false;
  bool keep_alive_ = true;
  bool broken_ = false;
  unsigned version_ = 11;
};

template <typename Stream>
asio::awaitable<bool> Connection<Stream>::read_request() {
  auto& tcp_stream = tcp_of(stream_);
  if (buffer_.size() == 0) {
    // Idle: wait for the first byte of the next request under the idle timeout.
    idle_ = true;
    if (worker_.stopping) co_return false;
    tcp_stream.expires_after(server_.options.idle_timeout);
    auto [ec, n] = co_await stream_.async_read_some(buffer_.prepare(kFirstReadSize), kAsTuple);
    if (ec) co_return false;  // closed, idle timeout, or shutdown: nothing to answer
    buffer_.commit(n);
  }
  idle_ = false;
  parser_.emplace();
  parser_->header_limit(static_cast<std::uint32_t>(server_.options.header_limit));
  parser_->body_limit(server_.options.body_limit);
  tcp_stream.expires_after(server_.options.read_timeout);
  auto [ec, n] = co_await http::async_read(stream_, buffer_, *parser_, kAsTuple);
  if (!ec) co_return true;

  // Each reading error has its own answer; the connection is closed after it, since the rest of the
  // stream can no longer be framed.
  std::optional<Response> answer;
  if (ec == http::error::header_limit) {
    answer = error_response(http::status::request_header_fields_too_large, version_, "request header too large");
  } else if (ec == http::error::body_limit) {
    answer = error_response(http::status::payload_too_large, version_, "request body too large");
  } else if (ec == beast::error::timeout) {
    // A timed-out stream is closed by Beast; nothing more can be sent. The client that trickled loses
    // its connection, as with nginx.
  } else if (ec != http::error::end_of_stream && ec != asio::error::eof && ec != asio::error::connection_reset &&
             ec != asio::error::operation_aborted) {
    answer = error_response(http::status::bad_request, version_, "malformed HTTP request");
  }
  if (answer) {
    tcp_stream.expires_after(server_.options.write_timeout);
    co_await http::async_write(stream_, *answer, kAsTuple);
  }
  co_return false;
}

template <typename Stream>
asio::awaitable<bool> Connection<Stream>::send(Response& response) {
  tcp_of(stream_).expires_after(server_.options.write_timeout);
  auto [ec, n] = co_await http::async_write(stream_, response, kAsTuple);
  if (ec) broken_ = true;
  co_return !ec;
}

template <typename Stream>
asio::awaitable<bool> Connection<Stream>::respond(Response response) {
  answered_ = true;
  response.version(version_);
  response.keep_alive(keep_alive_ && !worker_.stopping);
  response.prepare_payload();
  co_return co_await send(response);
}

template <typename Stream>
asio::awaitable<bool> Connection<Stream>::open_stream(http::response<http::empty_body> header) {
  answered_ = true;
  stream_open_ = true;
  header.version(version_);
  header.keep_alive(keep_alive_);
  header.chunked(true);
  http::response_serializer<http::empty_body> serializer(header);
  tcp_of(stream_).expires_after(server_.options.write_timeout);
  auto [ec, n] = co_await http::async_write_header(stream_, serializer, kAsTuple);
  tcp_of(stream_).expires_never();
  if (ec) broken_ = true;
  co_return !ec;
}

template <typename Stream>
asio::awaitable<bool> Connection<Stream>::write(std::string_view chunk) {
  if (broken_ || !stream_open_) co_return false;
  tcp_of(stream_).expires_after(server_.options.write_timeout);
  auto [ec, n] = co_await asio::async_write(stream_, http::make_chunk(asio::buffer(chunk.data(), chunk.size())),
                                            kAsTuple);
  tcp_of(stream_).expires_never();
  if (ec) broken_ = true;
  co_return !ec;
}

template <typename Stream>
asio::awaitable<void> Connection<Stream>::close_stream() {
  if (!stream_open_) co_return;
  stream_open_ = false;
  if (broken_) co_return;
  tcp_of(stream_).expires_after(server_.options.write_timeout);
  auto [ec, n] = co_await asio::async_write(stream_, http::make_chunk_last(), kAsTuple);
  if (ec) broken_ = true;
}

template <typename Stream>
asio::awaitable<void> Connection<Stream>::run() {
  // Cancellation (a client's notifications/cancelled, shutdown) aborts the operation being awaited; the
  // code after it must still run to answer or close, so later co_awaits must not throw.
  co_await asio::this_coro::throw_if_cancelled(false);
  if constexpr (!std::is_same_v<Stream, beast::tcp_stream>) {
    tcp_of(stream_).expires_after(kHandshakeTimeout);
    auto [ec] = co_await stream_.async_handshake(asio::ssl::stream_base::server, kAsTuple);
    if (ec) co_return;
  }
  while (co_await read_request()) {
    Request& request = parser_->get();
    version_ = request.version();
    keep_alive_ = request.keep_alive();
    answered_ = false;
    long_lived_ = false;
    tcp_of(stream_).expires_never();
    try {
      co_await server_.handler(request, *this);
    } catch (const std::exception& e) {
      // Handlers report errors as values; an exception here is a bug, answered without details.
      spdlog::error("HTTP handler failed: {}", e.what());
      if (stream_open_) broken_ = true;
    }
    if (stream_open_) co_await close_stream();
    if (!answered_ && !broken_) {
      auto answer = error_response(http::status::internal_server_error, version_, "internal error");
      co_await respond(std::move(answer));
    }
    // A cancelled request leaves the coroutine's cancellation state set; the next request starts clean.
    co_await asio::this_coro::reset_cancellation_state();
    if (broken_ || !keep_alive_ || worker_.stopping) break;
  }
  error_code ignored;
  if constexpr (std::is_same_v<Stream, beast::tcp_stream>) {
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
  } else {
    tcp_of(stream_).expires_after(std::chrono::seconds(1));
    co_await stream_.async_shutdown(kAsTuple);
  }
}

template <typename Stream>
void spawn_connection(Stream stream, HttpServer::Impl& server, Worker& worker) {
  auto connection = std::make_shared<Connection<Stream>>(std::move(stream), server, worker);
  auto& signal = connection->cancellation_signal();
  asio::co_spawn(worker.context, [connection]() { return connection->run(); },
                 asio::bind_cancellation_slot(signal.slot(), asio::detached));
}

}  // namespace

asio::awaitable<void> HttpServer::Impl::accept_loop(Worker& worker) {
  for (;;) {
    auto [ec, socket] = co_await worker.acceptor->async_accept(kAsTuple);
    if (ec == asio::error::operation_aborted || !worker.acceptor->is_open()) co_return;
    if (ec) {
      // Out of descriptors or a transient network error: back off briefly rather than spin.
      spdlog::warn("accept failed: {}", ec.message());
      asio::steady_timer pause(worker.context, std::chrono::milliseconds(50));
      co_await pause.async_wait(kAsTuple);
      continue;
    }
    if (open_connections.load(std::memory_order_relaxed) >= options.max_connections) {
      error_code ignored;
      socket.close(ignored);  // over the connection limit: refuse rather than degrade everyone
      continue;
    }
    open_connections.fetch_add(1, std::memory_order_relaxed);
    error_code ignored;
    socket.set_option(tcp::no_delay(true), ignored);
    if (tls) {
      spawn_connection(beast::ssl_stream<beast::tcp_stream>(beast::tcp_stream(std::move(socket)), *tls), *this,
                       worker);
    } else {
      spawn_connection(beast::tcp_stream(std::move(socket)), *this, worker);
    }
  }
}

void HttpServer::Impl::connection_closed(Worker& worker) {
  open_connections.fetch_sub(1, std::memory_order_relaxed);
  if (worker.stopping && worker.connections.empty() && worker.grace_timer) worker.grace_timer->cancel();
}

void HttpServer::Impl::shutdown_worker(Worker& worker) {
  worker.stopping = true;
  if (worker.acceptor) {
    error_code ignored;
    worker.acceptor->close(ignored);
  }
  // Copy: a connection may close (and unlink itself) while being told.
  std::vector<ConnectionBase*> connections(worker.connections.begin(), worker.connections.end());
  for (auto* connection : connections) connection->on_shutdown();
  if (!worker.connections.empty()) {
    worker.grace_timer.emplace(worker.context, options.shutdown_grace);
    worker.grace_timer->async_wait([&worker](error_code ec) {
      if (!ec) {
        spdlog::warn("shutdown grace period over with {} connections open", worker.connections.size());
      }
      worker.context.stop();
    });
  }
}

HttpServer::HttpServer(ServerOptions options, Handler handler) : impl_(std::make_unique<Impl>()) {
  impl_->options = std::move(options);
  impl_->handler = std::move(handler);
  if (impl_->options.threads == 0) impl_->options.threads = std::max(1U, std::thread::hardware_concurrency());
  for (unsigned i = 0; i < impl_->options.threads; ++i) impl_->workers.push_back(std::make_unique<Worker>());
}

HttpServer::~HttpServer() = default;

std::expected<void, std::string> HttpServer::listen() {
  auto& options = impl_->options;
  if (options.tls) {
    try {
      impl_->tls.emplace(asio::ssl::context::tls_server);
      impl_->tls->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                              asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 |
                              asio::ssl::context::no_tlsv1_1);
      impl_->tls->use_certificate_chain_file(options.tls->certificate_chain);
      impl_->tls->use_private_key_file(options.tls->private_key, asio::ssl::context::pem);
    } catch (const std::exception& e) {
      return std::unexpected("TLS certificate or key could not be loaded: " + std::string(e.what()));
    }
  }
  error_code ec;
  auto address = asio::ip::make_address(options.host, ec);
  if (ec) return std::unexpected("invalid listen address '" + options.host + "': " + ec.message());
  std::uint16_t port = options.port;
  for (auto& worker : impl_->workers) {
    tcp::acceptor acceptor(worker->context);
    tcp::endpoint endpoint(address, port);
    acceptor.open(endpoint.protocol(), ec);
    if (!ec) acceptor.set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec) {
      // One acceptor per thread on the same port: the kernel spreads connections over the threads, and no
      // thread ever touches another's connections.
      int one = 1;
      if (::setsockopt(acceptor.native_handle(), SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) != 0) {
        ec = error_code(errno, boost::system::system_category());
      }
    }
    if (!ec) acceptor.bind(endpoint, ec);
    if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) {
      return std::unexpected("cannot listen on " + options.host + ":" + std::to_string(port) + ": " + ec.message());
    }
    port = acceptor.local_endpoint().port();  // port 0: the others share the port the first one got
    worker->acceptor.emplace(std::move(acceptor));
  }
  impl_->port = port;
  return {};
}

std::uint16_t HttpServer::port() const { return impl_->port; }

std::size_t HttpServer::connections() const { return impl_->open_connections.load(); }

asio::any_io_executor HttpServer::executor() const { return impl_->workers.front()->context.get_executor(); }

void HttpServer::run() {
  for (auto& worker : impl_->workers) {
    asio::co_spawn(worker->context, impl_->accept_loop(*worker), asio::detached);
  }
  std::vector<std::thread> threads;
  for (std::size_t i = 1; i < impl_->workers.size(); ++i) {
    threads.emplace_back([&context = impl_->workers[i]->context] { context.run(); });
  }
  impl_->workers.front()->context.run();
  for (auto& thread : threads) thread.join();
}

void HttpServer::stop() {
  if (impl_->stopping.exchange(true)) return;
  for (auto& worker : impl_->workers) {
    asio::post(worker->context, [this, w = worker.get()] { impl_->shutdown_worker(*w); });
  }
}

}  // namespace deputy::net
