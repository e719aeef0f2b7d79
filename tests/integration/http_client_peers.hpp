#pragma once
// Peers for the HTTP client's tests, each on its own loopback port and thread: a scripted origin (HTTP or
// HTTPS) that answers, closes, drops or hangs as a test says; a CONNECT proxy that pipes bytes; and a
// throw-away PKI (a CA and two server certificates) made with the openssl command.

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <array>
#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <unistd.h>
#include <vector>

namespace deputy::testing {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

inline constexpr auto kPeerTuple = asio::as_tuple(asio::use_awaitable);

/// A CA and server certificates signed by it, in a temporary directory removed afterwards.
class TestPki {
 public:
  TestPki()
      : dir_(std::filesystem::temp_directory_path() /
             ("deputy-client-tls-" + std::to_string(::getpid()) + "-" + std::to_string(++instances()))) {
    std::filesystem::create_directories(dir_);
    const std::string d = dir_.string();
    run("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 -subj /CN=deputy-test-ca"
        " -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign"
        " -keyout '" + d + "/test-ca-key.pem' -out '" + d + "/test-ca.pem'");
    issue("localhost", "DNS:localhost,IP:127.0.0.1");
    issue("other", "DNS:other.example");
  }
  ~TestPki() {
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }
  [[nodiscard]] std::string ca() const { return (dir_ / "test-ca.pem").string(); }
  [[nodiscard]] std::string certificate(const std::string& name) const { return (dir_ / ("test-" + name + ".pem")).string(); }
  [[nodiscard]] std::string key(const std::string& name) const { return (dir_ / ("test-" + name + "-key.pem")).string(); }

 private:
  static int& instances() {
    static int count = 0;
    return count;
  }
  static void run(const std::string& command) {
    if (std::system((command + " >/dev/null 2>&1").c_str()) != 0) throw std::runtime_error("failed: " + command);
  }
  void issue(const std::string& name, const std::string& names) {
    const std::string d = dir_.string();
    const std::string extensions = d + "/test-" + name + "-ext.cnf";
    std::ofstream(extensions) << "subjectAltName=" << names
                              << "\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n";
    run("openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj /CN=" + name + " -keyout '" + d +
        "/test-" + name + "-key.pem' -out '" + d + "/test-" + name + "-csr.pem'");
    run("openssl x509 -req -days 1 -in '" + d + "/test-" + name + "-csr.pem' -CA '" + d + "/test-ca.pem' -CAkey '" +
        d + "/test-ca-key.pem' -CAcreateserial -extfile '" + extensions + "' -out '" + d + "/test-" + name + ".pem'");
  }
  std::filesystem::path dir_;
};

/// One thread running one io_context, stopped and joined on destruction.
class PeerThread {
 public:
  PeerThread() = default;
  ~PeerThread() { stop(); }
  void start() {
    thread_ = std::thread([this] { context_.run(); });
  }
  void stop() {
    context_.stop();
    if (thread_.joinable()) thread_.join();
  }
  asio::io_context& context() { return context_; }

 private:
  asio::io_context context_{1};
  asio::executor_work_guard<asio::io_context::executor_type> work_{context_.get_executor()};
  std::thread thread_;
};

struct SeenRequest {
  http::verb method;
  std::string target;
  std::string body;
  http::fields headers;
  std::size_t connection;  // 1-based, in accept order
  std::size_t on_connection;  // 1-based index of the request on its connection
};

/// What the origin does with a request.
struct Reply {
  enum class Then {
    answer,            // answer and keep the connection
    answer_then_close, // answer (without saying Connection: close) and close: the client finds out later
    drop,              // close without answering
    hang,              // never answer
    raw,               // write `body` verbatim and close
  };
  http::status status = http::status::ok;
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
  bool chunked = false;
  Then then = Then::answer;
};

class ScriptedOrigin {
 public:
  using Script = std::function<Reply(const SeenRequest&)>;

  /// With `certificate` and `key`, an HTTPS origin.
  explicit ScriptedOrigin(Script script, std::string certificate = {}, std::string key = {})
      : script_(std::move(script)) {
    if (!certificate.empty()) {
      tls_.emplace(asio::ssl::context::tls_server);
      tls_->use_certificate_chain_file(certificate);
      tls_->use_private_key_file(key, asio::ssl::context::pem);
    }
    acceptor_.emplace(peer_.context(), tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    port_ = acceptor_->local_endpoint().port();
    asio::co_spawn(peer_.context(), accept_loop(), asio::detached);
    peer_.start();
  }
  ~ScriptedOrigin() { peer_.stop(); }

  [[nodiscard]] std::uint16_t port() const { return port_; }
  [[nodiscard]] std::size_t connections() const { return connections_.load(); }
  [[nodiscard]] std::vector<SeenRequest> requests() const {
    std::lock_guard lock(mutex_);
    return requests_;
  }

 private:
  asio::awaitable<void> accept_loop() {
    for (;;) {
      auto [ec, socket] = co_await acceptor_->async_accept(kPeerTuple);
      if (ec) co_return;
      const std::size_t number = ++connections_;
      if (tls_) {
        auto stream = std::make_shared<asio::ssl::stream<tcp::socket>>(std::move(socket), *tls_);
        asio::co_spawn(peer_.context(), serve_tls(stream, number), asio::detached);
      } else {
        auto stream = std::make_shared<tcp::socket>(std::move(socket));
        asio::co_spawn(peer_.context(), serve(stream, number), asio::detached);
      }
    }
  }

  asio::awaitable<void> serve_tls(std::shared_ptr<asio::ssl::stream<tcp::socket>> stream, std::size_t number) {
    auto [ec] = co_await stream->async_handshake(asio::ssl::stream_base::server, kPeerTuple);
    if (ec) co_return;
    co_await serve(stream, number);
  }

  template <typename Stream>
  asio::awaitable<void> serve(std::shared_ptr<Stream> stream, std::size_t number) {
    beast::flat_buffer buffer;
    for (std::size_t index = 1;; ++index) {
      http::request<http::string_body> request;
      auto [read_error, n] = co_await http::async_read(*stream, buffer, request, kPeerTuple);
      if (read_error) co_return;
      SeenRequest seen{request.method(), std::string(request.target()), request.body(), request.base(), number, index};
      {
        std::lock_guard lock(mutex_);
        requests_.push_back(seen);
      }
      const Reply reply = script_(seen);
      if (reply.then == Reply::Then::drop) co_return;
      if (reply.then == Reply::Then::hang) {
        // Read until the client gives up and closes.
        [[maybe_unused]] auto [ec, m] = co_await http::async_read(*stream, buffer, request, kPeerTuple);
        co_return;
      }
      if (reply.then == Reply::Then::raw) {
        [[maybe_unused]] auto [ec, m] = co_await asio::async_write(*stream, asio::buffer(reply.body), kPeerTuple);
        co_return;
      }
      http::response<http::string_body> response{reply.status, 11};
      for (const auto& [name, value] : reply.headers) response.insert(name, value);
      response.body() = reply.body;
      if (reply.chunked) {
        response.chunked(true);
      } else {
        response.prepare_payload();
      }
      auto [write_error, m] = co_await http::async_write(*stream, response, kPeerTuple);
      if (write_error || reply.then == Reply::Then::answer_then_close) co_return;
    }
  }

  Script script_;
  std::optional<asio::ssl::context> tls_;
  PeerThread peer_;
  std::optional<tcp::acceptor> acceptor_;
  std::uint16_t port_ = 0;
  std::atomic<std::size_t> connections_{0};
  mutable std::mutex mutex_;
  std::vector<SeenRequest> requests_;
};

/// An HTTP proxy: CONNECT opens a tunnel to the named host:port and pipes bytes both ways; any other request
/// (absolute-form, as for plain http through a proxy) is answered by the proxy itself with 200 "via proxy".
class TestProxy {
 public:
  struct Seen {
    http::verb method;
    std::string target;
    std::string proxy_authorization;
  };

  TestProxy() {
    acceptor_.emplace(peer_.context(), tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    port_ = acceptor_->local_endpoint().port();
    asio::co_spawn(peer_.context(), accept_loop(), asio::detached);
    peer_.start();
  }
  ~TestProxy() { peer_.stop(); }

  [[nodiscard]] std::uint16_t port() const { return port_; }
  [[nodiscard]] std::string url(const std::string& userinfo = {}) const {
    return "http://" + (userinfo.empty() ? "" : userinfo + "@") + "127.0.0.1:" + std::to_string(port_);
  }
  [[nodiscard]] std::vector<Seen> seen() const {
    std::lock_guard lock(mutex_);
    return seen_;
  }

 private:
  asio::awaitable<void> accept_loop() {
    for (;;) {
      auto [ec, socket] = co_await acceptor_->async_accept(kPeerTuple);
      if (ec) co_return;
      asio::co_spawn(peer_.context(), serve(std::make_shared<tcp::socket>(std::move(socket))), asio::detached);
    }
  }

  asio::awaitable<void> serve(std::shared_ptr<tcp::socket> client) {
    beast::flat_buffer buffer;
    for (;;) {
      http::request<http::string_body> request;
      auto [read_error, n] = co_await http::async_read(*client, buffer, request, kPeerTuple);
      if (read_error) co_return;
      {
        std::lock_guard lock(mutex_);
        seen_.push_back({request.method(), std::string(request.target()),
                         std::string(request[http::field::proxy_authorization])});
      }
      if (request.method() != http::verb::connect) {
        http::response<http::string_body> response{http::status::ok, 11};
        response.body() = "via proxy";
        response.prepare_payload();
        auto [ec, m] = co_await http::async_write(*client, response, kPeerTuple);
        if (ec) co_return;
        continue;
      }
      const std::string target(request.target());
      const auto colon = target.rfind(':');
      tcp::resolver resolver(peer_.context());
      auto [resolve_error, endpoints] =
          co_await resolver.async_resolve(target.substr(0, colon), target.substr(colon + 1), kPeerTuple);
      auto upstream = std::make_shared<tcp::socket>(peer_.context());
      error_code_type connect_error = resolve_error;
      if (!connect_error) {
        auto [ec, endpoint] = co_await asio::async_connect(*upstream, endpoints, kPeerTuple);
        connect_error = ec;
      }
      const std::string_view answer =
          connect_error ? "HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n" : "HTTP/1.1 200 Connection established\r\n\r\n";
      auto [write_error, m] = co_await asio::async_write(*client, asio::buffer(answer.data(), answer.size()), kPeerTuple);
      if (write_error || connect_error) co_return;
      if (buffer.size() > 0) {
        auto [ec, k] = co_await asio::async_write(*upstream, buffer.data(), kPeerTuple);
        if (ec) co_return;
      }
      asio::co_spawn(peer_.context(), pipe(client, upstream), asio::detached);
      co_await pipe(upstream, client);
      co_return;
    }
  }

  using error_code_type = boost::system::error_code;

  static asio::awaitable<void> pipe(std::shared_ptr<tcp::socket> from, std::shared_ptr<tcp::socket> to) {
    std::array<char, 16 * 1024> bytes{};
    for (;;) {
      auto [read_error, n] = co_await from->async_read_some(asio::buffer(bytes), kPeerTuple);
      if (read_error) break;
      auto [write_error, m] = co_await asio::async_write(*to, asio::buffer(bytes.data(), n), kPeerTuple);
      if (write_error) break;
    }
    error_code_type ignored;
    to->shutdown(tcp::socket::shutdown_send, ignored);
  }

  PeerThread peer_;
  std::optional<tcp::acceptor> acceptor_;
  std::uint16_t port_ = 0;
  mutable std::mutex mutex_;
  std::vector<Seen> seen_;
};

}  // namespace deputy::testing
