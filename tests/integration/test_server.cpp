#include "test_server.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/write.hpp>
#include <sys/socket.h>
#include <sys/time.h>

#include <stdexcept>

namespace deputy::testing {

namespace asio = boost::asio;

/// How long a test client waits for a response before calling the connection dead. Generous: tests
/// never depend on timing, only on a bound so a hung server fails the test instead of hanging it.
constexpr int kClientReceiveTimeoutSeconds = 20;

void add_test_tools(mcp::Registry& registry) {
  registry.add_tool({.name = "echo",
                     .description = "Echoes the message back",
                     .input_schema = {{"type", "object"},
                                      {"properties", {{"message", {{"type", "string"}}}}},
                                      {"required", {"message"}}}},
                    [](const json::object& args, mcp::RequestContext&) -> asio::awaitable<mcp::ToolResult> {
                      co_return mcp::ToolResult::text(args.at("message").as_string());
                    });
  registry.add_tool({.name = "sleep",
                     .description = "Waits ms milliseconds, reporting progress",
                     .input_schema = {{"type", "object"}, {"properties", {{"ms", {{"type", "integer"}}}}}}},
                    [](const json::object& args, mcp::RequestContext& context) -> asio::awaitable<mcp::ToolResult> {
                      const auto* ms = args.if_contains("ms");
                      co_await context.progress(0, 1);
                      const bool finished =
                          co_await context.sleep_for(std::chrono::milliseconds(ms != nullptr ? ms->as_int64() : 0));
                      if (!finished) co_return mcp::ToolResult::error("cancelled");
                      co_await context.progress(1, 1);
                      co_return mcp::ToolResult::text("slept");
                    });
}

namespace {
mcp::Registry& with_tools(mcp::Registry& registry, const std::function<void(mcp::Registry&)>& more_tools) {
  add_test_tools(registry);
  if (more_tools) more_tools(registry);
  return registry;
}
}  // namespace

TestServer::TestServer(net::ServerOptions http, transport::StreamableHttpOptions mcp, mcp::DispatcherOptions dispatch,
                       const std::function<void(mcp::Registry&)>& more_tools)
    : dispatcher_(with_tools(registry_, more_tools), {.name = "test"}, std::move(dispatch)),
      transport_(dispatcher_, std::move(mcp)),
      http_(
          [&] {
            http.host = "127.0.0.1";
            http.port = 0;
            if (http.threads == 0) http.threads = 2;
            return http;
          }(),
          [this](net::Request& request, net::Exchange& exchange) { return transport_.handle(request, exchange); }) {
  if (auto listening = http_.listen(); !listening) throw std::runtime_error(listening.error());
  thread_ = std::thread([this] { http_.run(); });
}

TestServer::~TestServer() { stop(); }

void TestServer::stop() {
  if (stopped_) return;
  stopped_ = true;
  http_.stop();
  thread_.join();
}

std::string TestServer::url() const { return "http://127.0.0.1:" + std::to_string(port()) + "/mcp"; }

RawClient::RawClient(std::uint16_t port) : socket_(context_) {
  socket_.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
  timeval timeout{kClientReceiveTimeoutSeconds, 0};
  ::setsockopt(socket_.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
}

void RawClient::send(std::string_view bytes) { asio::write(socket_, asio::buffer(bytes.data(), bytes.size())); }

std::optional<http::response<http::string_body>> RawClient::read() {
  http::response_parser<http::string_body> parser;
  parser.body_limit(64 * 1024 * 1024);
  boost::system::error_code ec;
  http::read(socket_, buffer_, parser, ec);
  if (ec) return std::nullopt;
  return parser.release();
}

bool RawClient::closed_by_peer() {
  char byte;
  boost::system::error_code ec;
  for (;;) {
    socket_.read_some(asio::buffer(&byte, 1), ec);
    if (ec == asio::error::eof || ec == asio::error::connection_reset) return true;
    if (ec) return false;  // receive timeout: still open
  }
}

std::string post_request(std::string_view body, std::string_view session_id, std::string_view extra_headers) {
  std::string out = "POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                    "Accept: application/json, text/event-stream\r\n";
  if (!session_id.empty()) out += "Mcp-Session-Id: " + std::string(session_id) + "\r\n";
  out += extra_headers;
  out += "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n";
  out += body;
  return out;
}

http::response<http::string_body> post(std::uint16_t port, std::string_view body, std::string_view session_id,
                                       std::string_view extra_headers) {
  RawClient client(port);
  client.send(post_request(body, session_id, extra_headers));
  auto response = client.read();
  if (!response) throw std::runtime_error("no response");
  return std::move(*response);
}

std::string open_session(std::uint16_t port) {
  auto response = post(port, R"({"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-06-18",)"
                             R"("capabilities":{},"clientInfo":{"name":"test","version":"1"}}})");
  std::string id(response["Mcp-Session-Id"]);
  if (response.result() != http::status::ok || id.empty()) throw std::runtime_error("initialize failed");
  post(port, R"({"jsonrpc":"2.0","method":"notifications/initialized"})", id);
  return id;
}

std::vector<json::value> sse_messages(std::string_view body) {
  std::vector<json::value> out;
  std::size_t at = 0;
  while (at < body.size()) {
    auto end = body.find('\n', at);
    if (end == std::string_view::npos) end = body.size();
    auto line = body.substr(at, end - at);
    if (line.starts_with("data: ") && line.size() > 6) out.push_back(json::parse(line.substr(6)));
    at = end + 1;
  }
  return out;
}

}  // namespace deputy::testing
