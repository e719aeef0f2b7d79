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
#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cstdio>
#include <list>
#include <thread>

namespace deputy::net {

namespace asio = boost::asio;
namespace beast = boost::beast;
using tcp = asio::ip::tcp;
using boost::system::error_code;

namespace {

constexpr auto kAsTuple = asio::as_tuple(asio::use_awaitable);
/// Bytes asked of the socket per read: a typical MCP request fits in one.
constexpr std::size_t kReadSize = 4096;
/// TLS handshakes must finish within this time.
constexpr std::chrono::seconds kHandshakeTimeout{10};
/// A request's header fields and body are allocated from a block of this size (more goes to the heap
/// until the request is done).
constexpr std::size_t kRequestArenaSize = 8 * 1024;
/// The request's JSON is parsed into a block of this size (more goes to the heap).
constexpr std::size_t kParseBufferSize = 8 * 1024;
/// Deadlines are checked this often at most, and at least four times per shortest timeout.
constexpr std::chrono::milliseconds kMaxDeadlineTick{500};
constexpr std::chrono::milliseconds kMinDeadlineTick{5};

using Clock = std::chrono::steady_clock;

class ConnectionBase {
 public:
  virtual ~ConnectionBase() = default;
  virtual void on_shutdown() = 0;
  /// The grace period is over: whatever the connection awaits is cancelled and its socket closed, so its
  /// coroutine unwinds by itself.
  virtual void force_close() = 0;
  /// Cuts the connection off when its deadline has passed.
  virtual void check_deadline(Clock::time_point now) = 0;
};

struct Worker {
  std::list<ConnectionBase*> connections;  // touched only on this worker's thread
  std::optional<asio::io_context> context_storage;
  asio::io_context& context = context_storage.emplace(1);
  std::optional<tcp::acceptor> acceptor;
  std::optional<asio::steady_timer> grace_timer;
  std::optional<asio::steady_timer> deadline_timer;
  Clock::time_point now = Clock::now();  // updated at each deadline check
  bool stopping = false;

  // Connections still open (a grace period that ran out) are destroyed with the context, and unlink
  // themselves from `connections` then: the timers and the acceptor go first, the list last.
  ~Worker() {
    grace_timer.reset();
    deadline_timer.reset();
    acceptor.reset();
    context_storage.reset();
  }

  /// Once stopping and without connections, nothing may keep the context running.
  void release_timers_when_done() {
    if (!stopping || !connections.empty()) return;
    if (grace_timer) grace_timer->cancel();
    if (deadline_timer) deadline_timer->cancel();
  }
};

}  // namespace

struct HttpServer::Impl {
  // Workers go first: their connections still use the TLS context and the connection count.
  ~Impl() { workers.clear(); }

  ServerOptions options;
  Handler handler;
  std::vector<std::unique_ptr<Worker>> workers;
  std::optional<asio::ssl::context> tls;
  std::uint16_t port = 0;
  std::atomic<std::size_t> open_connections{0};
  std::atomic<bool> stopping{false};

  asio::awaitable<void> accept_loop(Worker& worker);
  asio::awaitable<void> deadline_loop(Worker& worker);
  void shutdown_worker(Worker& worker);
  void connection_closed(Worker& worker);
};

namespace {

tcp::socket& socket_of(tcp::socket& stream) { return stream; }
tcp::socket& socket_of(asio::ssl::stream<tcp::socket>& stream) { return stream.next_layer(); }

std::string_view reason(http::status status) {
  auto text = http::obsolete_reason(status);
  return {text.data(), text.size()};
}

/// Appends "Name: value\r\n", dropping line breaks: no value of ours may split a header.
void append_header(std::string& out, std::string_view name, std::string_view value) {
  out += name;
  out += ": ";
  for (char c : value) {
    if (c != '\r' && c != '\n') out += c;
  }
  out += "\r\n";
}

/// Timeouts are deadlines checked by the worker's ticker rather than a timer per operation: arming one is
/// a store, and a connection costs no timer-queue work per request.
template <typename Stream>
class Connection final : public Exchange, public ConnectionBase {
 public:
  Connection(Stream stream, HttpServer::Impl& server, Worker& worker)
      : stream_(std::move(stream)), server_(server), worker_(worker), arena_(kRequestArenaSize) {
    position_ = worker_.connections.insert(worker_.connections.end(), this);
  }
  ~Connection() override {
    worker_.connections.erase(position_);
    server_.connection_closed(worker_);
  }

  asio::awaitable<void> run();

  // Exchange
  asio::awaitable<bool> respond(http::status status, std::string_view content_type, std::string_view body,
                                std::span<const Header> headers) override;
  asio::awaitable<bool> open_stream(http::status status, std::string_view content_type,
                                    std::span<const Header> headers) override;
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
  std::string& body_buffer() override { return body_; }
  std::span<unsigned char> parse_buffer() override {
    if (!parse_buffer_) parse_buffer_ = std::make_unique<unsigned char[]>(kParseBufferSize);
    return {parse_buffer_.get(), kParseBufferSize};
  }

  // ConnectionBase
  void on_shutdown() override {
    // Idle connections and long-lived streams end now; a request being handled finishes first.
    if (idle_ || long_lived_) {
      signal_.emit(asio::cancellation_type::terminal);
      error_code ignored;
      socket_of(stream_).cancel(ignored);
    }
  }
  void force_close() override {
    signal_.emit(asio::cancellation_type::terminal);
    error_code ignored;
    socket_of(stream_).close(ignored);
  }
  void check_deadline(Clock::time_point now) override {
    if (now < deadline_) return;
    timed_out_ = true;
    deadline_ = Clock::time_point::max();
    error_code ignored;
    socket_of(stream_).close(ignored);  // pending operations end with operation_aborted
  }

 private:
  // The worker's clock, as of its last deadline check: deadlines are only checked then anyway.
  void arm(std::chrono::milliseconds timeout) { deadline_ = worker_.now + timeout; }
  void disarm() { deadline_ = Clock::time_point::max(); }
  static constexpr bool kPlainTcp = std::is_same_v<Stream, tcp::socket>;
  asio::awaitable<error_code> read_more();
  asio::awaitable<bool> read_request();
  template <typename Buffers>
  asio::awaitable<bool> write_all(const Buffers& buffers);
  asio::awaitable<bool> send_head_and(std::string_view body);
  void write_head(http::status status, std::string_view content_type, std::span<const Header> headers,
                  std::optional<std::size_t> content_length);

  Stream stream_;
  HttpServer::Impl& server_;
  Worker& worker_;
  std::list<ConnectionBase*>::iterator position_;
  beast::flat_buffer buffer_;
  Arena arena_;
  std::optional<http::request_parser<Request::body_type, RequestAllocator>> parser_;
  std::string head_;      // the response head being written
  std::string body_;      // body_buffer()
  std::unique_ptr<unsigned char[]> parse_buffer_;
  char chunk_size_[24]{};
  asio::cancellation_signal signal_;
  Clock::time_point deadline_ = Clock::time_point::max();
  bool idle_ = true;
  bool long_lived_ = false;
  bool stream_open_ = false;
  bool chunked_ = false;
  bool answered_ = false;
  bool keep_alive_ = true;
  bool broken_ = false;
  bool timed_out_ = false;
  unsigned version_ = 11;
};

template <typename Stream>
asio::awaitable<error_code> Connection<Stream>::read_more() {
  if constexpr (kPlainTcp) {
    // What the socket holds is taken at once; only an empty socket costs a wait. Under load the next
    // request is usually there already, and reading it costs one system call and no trip through the
    // scheduler.
    for (;;) {
      error_code ec;
      const std::size_t n = stream_.read_some(buffer_.prepare(kReadSize), ec);
      if (!ec) {
        buffer_.commit(n);
        co_return ec;
      }
      if (ec != asio::error::would_block && ec != asio::error::try_again) co_return ec;
      auto [wait_error] = co_await stream_.async_wait(tcp::socket::wait_read, kAsTuple);
      if (wait_error) co_return wait_error;
    }
  } else {
    auto [ec, n] = co_await stream_.async_read_some(buffer_.prepare(kReadSize), kAsTuple);
    if (!ec) buffer_.commit(n);
    co_return ec;
  }
}

template <typename Stream>
asio::awaitable<bool> Connection<Stream>::read_request() {
  if (buffer_.size() == 0) {
    // Idle: wait for the first byte of the next request under the idle timeout.
    idle_ = true;
    if (worker_.stopping) co_return false;
    arm(server_.options.idle_timeout);
    const error_code ec = co_await read_more();
    if (ec) co_return false;  // closed, idle timeout, or shutdown: nothing to answer
  }
  idle_ = false;
  parser_.reset();
  arena_.reset();
  RequestAllocator allocator(arena_);
  parser_.emplace(std::piecewise_construct, std::make_tuple(allocator), std::make_tuple(allocator));
  parser_->header_limit(static_cast<std::uint32_t>(server_.options.header_limit));
  parser_->body_limit(server_.options.body_limit);
  parser_->eager(true);
  arm(server_.options.read_timeout);
  // The parser takes what is buffered; more is read only while it needs more.
  error_code ec;
  for (;;) {
    if (buffer_.size() > 0) {
      const std::size_t used = parser_->put(buffer_.data(), ec);
      buffer_.consume(used);
      if (ec == http::error::need_more) ec = {};
      if (ec || parser_->is_done()) break;
      if (used > 0 && buffer_.size() > 0) continue;
    }
    ec = co_await read_more();
    if (ec == asio::error::eof) ec = http::error::partial_message;
    if (ec) break;
  }
  disarm();
  if (!ec) co_return true;
  if (timed_out_) co_return false;  // a client that trickles loses its connection, as with nginx

  // Each reading error has its own answer; the connection is closed after it, since the rest of the
  // stream can no longer be framed.
  keep_alive_ = false;
  if (ec == http::error::header_limit) {
    co_await respond(http::status::request_header_fields_too_large, "application/json",
                     R"({"error":"request header too large"})", {});
  } else if (ec == http::error::body_limit) {
    co_await respond(http::status::payload_too_large, "application/json", R"({"error":"request body too large"})",
                     {});
  } else if (ec != http::error::partial_message && ec != asio::error::connection_reset &&
             ec != asio::error::operation_aborted && ec != asio::error::bad_descriptor) {
    co_await respond(http::status::bad_request, "application/json", R"({"error":"malformed HTTP request"})", {});
  }
  co_return false;
}

template <typename Stream>
template <typename Buffers>
asio::awaitable<bool> Connection<Stream>::write_all(const Buffers& buffers) {
  if (broken_) co_return false;
  std::size_t written = 0;
  if constexpr (kPlainTcp) {
    // A response usually fits the socket's send buffer: written at once, no trip through the scheduler.
    error_code ec;
    written = stream_.write_some(buffers, ec);
    if (ec && ec != asio::error::would_block && ec != asio::error::try_again) {
      broken_ = true;
      co_return false;
    }
    if (written == asio::buffer_size(buffers)) co_return true;
  }
  beast::buffers_suffix<Buffers> rest(buffers);
  rest.consume(written);
  arm(server_.options.write_timeout);
  auto [ec, n] = co_await asio::async_write(stream_, rest, kAsTuple);
  disarm();
  if (ec) broken_ = true;
  co_return !ec;
}

template <typename Stream>
void Connection<Stream>::write_head(http::status status, std::string_view content_type,
                                    std::span<const Header> headers, std::optional<std::size_t> content_length) {
  head_.clear();
  head_ += version_ == 10 ? "HTTP/1.0 " : "HTTP/1.1 ";
  head_ += std::to_string(static_cast<unsigned>(status));
  head_ += ' ';
  head_ += reason(status);
  head_ += "\r\n";
  if (!content_type.empty()) append_header(head_, "Content-Type", content_type);
  for (const auto& header : headers) append_header(head_, header.name, header.value);
  if (content_length) {
    append_header(head_, "Content-Length", std::to_string(*content_length));
  } else if (chunked_) {
    head_ += "Transfer-Encoding: chunked\r\n";
  }
  if (!keep_alive_ || worker_.stopping) {
    keep_alive_ = false;
    head_ += "Connection: close\r\n";
  } else if (version_ == 10) {
    head_ += "Connection: keep-alive\r\n";
  }
  head_ += "\r\n";
}

template <typename Stream>
asio::awaitable<bool> Connection<Stream>::send_head_and(std::string_view body) {
  const std::array<asio::const_buffer, 2> buffers{asio::buffer(head_), asio::buffer(body.data(), body.size())};
  co_return co_await write_all(buffers);
}

template <typename Stream>
asio::awaitable<bool> Connection<Stream>::respond(http::status status, std::string_view content_type,
                                                  std::string_view body, std::span<const Header> headers) {
  answered_ = true;
  write_head(status, content_type, headers, body.size());
  co_return co_await send_head_and(body);
}

template <typename Stream>
asio::awaitable<bool> Connection<Stream>::open_stream(http::status status, std::string_view content_type,
                                                      std::span<const Header> headers) {
  answered_ = true;
  stream_open_ = true;
  // HTTP/1.0 has no chunked encoding: the stream ends with the connection.
  chunked_ = version_ >= 11;
  if (!chunked_) keep_alive_ = false;
  write_head(status, content_type, headers, std::nullopt);
  co_return co_await send_head_and({});
}

template <typename Stream>
asio::awaitable<bool> Connection<Stream>::write(std::string_view chunk) {
  if (broken_ || !stream_open_) co_return false;
  if (chunk.empty()) co_return true;  // an empty chunk would end the stream
  if (!chunked_) co_return co_await write_all(asio::buffer(chunk.data(), chunk.size()));
  const int size = std::snprintf(chunk_size_, sizeof chunk_size_, "%zx\r\n", chunk.size());
  const std::array<asio::const_buffer, 3> buffers{asio::buffer(chunk_size_, static_cast<std::size_t>(size)),
                                                  asio::buffer(chunk.data(), chunk.size()), asio::buffer("\r\n", 2)};
  co_return co_await write_all(buffers);
}

template <typename Stream>
asio::awaitable<void> Connection<Stream>::close_stream() {
  if (!stream_open_) co_return;
  stream_open_ = false;
  if (broken_) co_return;
  if (!chunked_) {
    broken_ = true;  // the end of the body is the end of the connection
    co_return;
  }
  co_await write_all(asio::buffer("0\r\n\r\n", 5));
}

template <typename Stream>
asio::awaitable<void> Connection<Stream>::run() {
  // Cancellation (a client's notifications/cancelled, shutdown) aborts the operation being awaited; the
  // code after it must still run to answer or close, so later co_awaits must not throw.
  co_await asio::this_coro::throw_if_cancelled(false);
  if constexpr (!std::is_same_v<Stream, tcp::socket>) {
    arm(kHandshakeTimeout);
    auto [ec] = co_await stream_.async_handshake(asio::ssl::stream_base::server, kAsTuple);
    disarm();
    if (ec) co_return;
  }
  while (co_await read_request()) {
    Request& request = parser_->get();
    version_ = request.version();
    keep_alive_ = request.keep_alive();
    answered_ = false;
    long_lived_ = false;
    chunked_ = false;
    try {
      co_await server_.handler(request, *this);
    } catch (const std::exception& e) {
      // Handlers report errors as values; an exception here is a bug, answered without details.
      spdlog::error("HTTP handler failed: {}", e.what());
      if (stream_open_) broken_ = true;
    }
    if (stream_open_) co_await close_stream();
    if (!answered_ && !broken_) {
      keep_alive_ = false;
      co_await respond(http::status::internal_server_error, "application/json", R"({"error":"internal error"})", {});
    }
    // A cancelled request leaves the coroutine's cancellation state set; the next request starts clean.
    co_await asio::this_coro::reset_cancellation_state();
    if (broken_ || !keep_alive_ || worker_.stopping) break;
  }
  error_code ignored;
  if constexpr (std::is_same_v<Stream, tcp::socket>) {
    stream_.shutdown(tcp::socket::shutdown_send, ignored);
  } else if (!broken_ && !timed_out_) {
    arm(std::chrono::seconds(1));
    co_await stream_.async_shutdown(kAsTuple);
    disarm();
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

asio::awaitable<void> HttpServer::Impl::deadline_loop(Worker& worker) {
  const auto shortest = std::min({options.read_timeout, options.idle_timeout, options.write_timeout});
  const auto tick = std::clamp(std::chrono::duration_cast<std::chrono::milliseconds>(shortest / 4),
                               kMinDeadlineTick, kMaxDeadlineTick);
  auto& timer = worker.deadline_timer.emplace(worker.context);
  for (;;) {
    timer.expires_after(tick);
    auto [ec] = co_await timer.async_wait(kAsTuple);
    if (ec || (worker.stopping && worker.connections.empty())) co_return;
    const auto now = worker.now = Clock::now();
    // Copy: a connection cut off may unlink itself.
    std::vector<ConnectionBase*> connections(worker.connections.begin(), worker.connections.end());
    for (auto* connection : connections) connection->check_deadline(now);
  }
}

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
    socket.non_blocking(true, ignored);  // reads and writes are tried at once, waited for only when needed
    if (tls) {
      spawn_connection(asio::ssl::stream<tcp::socket>(std::move(socket), *tls), *this, worker);
    } else {
      spawn_connection(std::move(socket), *this, worker);
    }
  }
}

void HttpServer::Impl::connection_closed(Worker& worker) {
  open_connections.fetch_sub(1, std::memory_order_relaxed);
  worker.release_timers_when_done();
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
      if (ec) return;  // every connection ended in time
      spdlog::warn("shutdown grace period over with {} connections open", worker.connections.size());
      // Cancel what they await and close their sockets: their coroutines unwind and the context runs out
      // of work. A handler that ignores cancellation gets one more second, then the context stops.
      std::vector<ConnectionBase*> open(worker.connections.begin(), worker.connections.end());
      for (auto* connection : open) connection->force_close();
      worker.grace_timer->expires_after(std::chrono::seconds(1));
      worker.grace_timer->async_wait([&worker](error_code again) {
        if (!again) worker.context.stop();
      });
    });
  }
  worker.release_timers_when_done();
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
    asio::co_spawn(worker->context, impl_->deadline_loop(*worker), asio::detached);
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
