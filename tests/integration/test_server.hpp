#pragma once
// An MCP server on a loopback port inside the test process, and a raw HTTP client for it: the tests
// send exactly the bytes they want (malformed, oversized, trickled) and read exactly what comes back.

#include "deputy/mcp/dispatcher.hpp"
#include "deputy/net/http_server.hpp"
#include "deputy/transport/streamable_http.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>

#include <functional>
#include <optional>
#include <string>
#include <thread>

namespace deputy::testing {

namespace json = boost::json;
namespace http = boost::beast::http;
using tcp = boost::asio::ip::tcp;

/// Registers the tools the integration tests call: echo, and sleep (waits `ms`, cancellable, with
/// progress when asked).
void add_test_tools(mcp::Registry& registry);

class TestServer {
 public:
  explicit TestServer(net::ServerOptions http = {}, transport::StreamableHttpOptions mcp = {},
                      mcp::DispatcherOptions dispatch = {},
                      const std::function<void(mcp::Registry&)>& more_tools = {});
  ~TestServer();

  [[nodiscard]] std::uint16_t port() const { return http_.port(); }
  [[nodiscard]] std::string url() const;
  void stop();
  transport::StreamableHttp& transport() { return transport_; }
  net::HttpServer& http() { return http_; }

 private:
  mcp::Registry registry_;
  mcp::Dispatcher dispatcher_;
  transport::StreamableHttp transport_;
  net::HttpServer http_;
  std::thread thread_;
  bool stopped_ = false;
};

/// One blocking connection to the test server.
class RawClient {
 public:
  explicit RawClient(std::uint16_t port);
  /// Sends raw bytes.
  void send(std::string_view bytes);
  /// Reads one response; nullopt when the server closed the connection (or on error/timeout).
  std::optional<http::response<http::string_body>> read();
  /// Whether the server closed the connection (reads EOF or reset within the client's receive timeout).
  bool closed_by_peer();
  tcp::socket& socket() { return socket_; }

 private:
  boost::asio::io_context context_;
  tcp::socket socket_;
  boost::beast::flat_buffer buffer_;
};

/// A POST to /mcp with the headers a conforming client sends.
std::string post_request(std::string_view body, std::string_view session_id = {}, std::string_view extra_headers = {});

/// POSTs `body` on a fresh connection and returns the response.
http::response<http::string_body> post(std::uint16_t port, std::string_view body, std::string_view session_id = {},
                                       std::string_view extra_headers = {});

/// initialize + notifications/initialized; returns the session id.
std::string open_session(std::uint16_t port);

/// The JSON-RPC messages of an SSE body (each `data:` payload parsed).
std::vector<json::value> sse_messages(std::string_view body);

}  // namespace deputy::testing
