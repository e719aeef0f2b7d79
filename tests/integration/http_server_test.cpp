// The HTTP layer under abuse: oversized bodies and headers, malformed and trickled requests, many
// connections, clients that vanish mid-stream, the connection limit, graceful shutdown. In every case
// the offender gets its defined answer and everybody else keeps being served.
#include "test_server.hpp"

#include <gtest/gtest.h>

#include <future>
#include <thread>

namespace deputy::testing {
namespace {

constexpr std::string_view kInitialize =
    R"({"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"1"}}})";

void expect_still_serving(const TestServer& server) {
  EXPECT_EQ(post(server.port(), kInitialize).result(), http::status::ok);
}

TEST(HttpLimits, BodyOverTheLimitIs413) {
  TestServer server({.body_limit = 1024});
  RawClient client(server.port());
  client.send(post_request(std::string(2048, ' ')));
  auto response = client.read();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->result(), http::status::payload_too_large);
  EXPECT_TRUE(client.closed_by_peer());
  expect_still_serving(server);
}

TEST(HttpLimits, DeclaredBodyOverTheLimitIs413WithoutReadingIt) {
  TestServer server({.body_limit = 1024});
  RawClient client(server.port());
  client.send("POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 999999999\r\n\r\n");
  auto response = client.read();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->result(), http::status::payload_too_large);
}

TEST(HttpLimits, HeaderOverTheLimitIs431) {
  TestServer server({.header_limit = 4096});
  RawClient client(server.port());
  client.send(post_request(kInitialize, {}, "X-Padding: " + std::string(8192, 'a') + "\r\n"));
  auto response = client.read();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->result(), http::status::request_header_fields_too_large);
  expect_still_serving(server);
}

TEST(HttpLimits, EntraSizedHeadersFitTheDefault) {
  TestServer server;
  // A bearer token of 12 KiB, as Entra issues with many group claims.
  auto response = post(server.port(), kInitialize, {}, "Authorization: Bearer " + std::string(12 * 1024, 'x') + "\r\n");
  EXPECT_EQ(response.result(), http::status::ok);
}

TEST(HttpLimits, MalformedHttpIs400) {
  TestServer server;
  RawClient client(server.port());
  client.send("THIS IS NOT HTTP\r\n\r\n");
  auto response = client.read();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->result(), http::status::bad_request);
  expect_still_serving(server);
}

TEST(HttpLimits, TricklingClientIsCutOff) {
  TestServer server({.read_timeout = std::chrono::milliseconds(300)});
  RawClient client(server.port());
  const std::string request = post_request(kInitialize);
  // One byte, then silence: the whole request never arrives within the read timeout, and the server
  // hangs up.
  client.send(request.substr(0, 1));
  EXPECT_TRUE(client.closed_by_peer());
  expect_still_serving(server);
}

TEST(HttpLimits, IdleKeepAliveConnectionIsClosed) {
  TestServer server({.idle_timeout = std::chrono::milliseconds(200)});
  RawClient client(server.port());
  EXPECT_TRUE(client.closed_by_peer());
}

TEST(HttpLimits, KeepAliveServesManyRequestsOnOneConnection) {
  TestServer server;
  auto session = open_session(server.port());
  RawClient client(server.port());
  for (int i = 0; i < 100; ++i) {
    client.send(post_request(R"({"jsonrpc":"2.0","id":1,"method":"ping"})", session));
    auto response = client.read();
    ASSERT_TRUE(response);
    ASSERT_EQ(response->body(), R"({"jsonrpc":"2.0","id":1,"result":{}})");
  }
}

TEST(HttpLimits, ThousandConcurrentConnectionsAreAllServed) {
  TestServer server;
  auto session = open_session(server.port());
  constexpr int kConnections = 1000;
  std::vector<std::unique_ptr<RawClient>> clients;
  clients.reserve(kConnections);
  for (int i = 0; i < kConnections; ++i) clients.push_back(std::make_unique<RawClient>(server.port()));
  // Every connection is open at once; each sends its request before any reads an answer.
  for (int i = 0; i < kConnections; ++i) {
    clients[i]->send(post_request(R"({"jsonrpc":"2.0","id":)" + std::to_string(i) +
                                      R"(,"method":"tools/call","params":{"name":"echo","arguments":{"message":"m)" +
                                      std::to_string(i) + R"("}}})",
                                  session));
  }
  for (int i = 0; i < kConnections; ++i) {
    auto response = clients[i]->read();
    ASSERT_TRUE(response) << i;
    auto body = json::parse(response->body());
    ASSERT_EQ(body.at("id"), i);
    ASSERT_EQ(body.at("result").at("content").at(0).at("text"), json::value("m" + std::to_string(i)));
  }
}

TEST(HttpLimits, VeryLargeArrayArgumentIsRefusedByTheSchemaAndCostsNothingLater) {
  TestServer server;
  auto session = open_session(server.port());
  // Half a million numbers, just under the 4 MiB body limit, where the tool wants a string.
  std::string numbers;
  for (int i = 0; i < 500000; ++i) numbers += i == 0 ? "7" : ",7";
  auto call = post(server.port(),
                   R"({"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{"message":[)" +
                       numbers + "]}}}",
                   session);
  ASSERT_EQ(call.result(), http::status::ok);
  EXPECT_EQ(json::parse(call.body()).at("error").at("code"), -32602);
  expect_still_serving(server);
}

TEST(HttpLimits, ConnectionLimitRefusesTheExcess) {
  TestServer server({.max_connections = 4});
  std::vector<std::unique_ptr<RawClient>> held;
  for (int i = 0; i < 4; ++i) {
    held.push_back(std::make_unique<RawClient>(server.port()));
    held.back()->send(post_request(kInitialize));
    ASSERT_TRUE(held.back()->read());  // accepted and served
  }
  RawClient excess(server.port());
  EXPECT_TRUE(excess.closed_by_peer());
  held.clear();
  // Once the others are gone, new connections are served again (the count drops as they close).
  for (int attempt = 0; attempt < 200; ++attempt) {
    if (server.http().connections() == 0) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  expect_still_serving(server);
}

TEST(SseStreams, ClientVanishingMidStreamIsCleanedUp) {
  TestServer server;
  auto session = open_session(server.port());
  const std::string get = "GET /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\nMcp-Session-Id: " +
                          session + "\r\n\r\n";
  {
    RawClient vanishing(server.port());
    vanishing.send(get);
    boost::beast::flat_buffer buffer;
    http::response_parser<http::empty_body> header;
    http::read_header(vanishing.socket(), buffer, header);
    // Abortive close (RST): the server learns of it on its next write.
    vanishing.socket().set_option(boost::asio::socket_base::linger(true, 0));
  }
  // Until the server notices, a second stream is refused (409); once the write fails it is accepted.
  bool reopened = false;
  for (int attempt = 0; attempt < 500 && !reopened; ++attempt) {
    server.transport().broadcast(mcp::make_notification("notifications/tools/list_changed", {}));
    RawClient again(server.port());
    again.send(get);
    boost::beast::flat_buffer buffer;
    http::response_parser<http::empty_body> header;
    boost::system::error_code ec;
    http::read_header(again.socket(), buffer, header, ec);
    ASSERT_FALSE(ec);
    reopened = header.get().result() == http::status::ok;
    if (!reopened) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_TRUE(reopened);
  expect_still_serving(server);
}

TEST(Shutdown, GraceRunningOutWithARequestStillInFlightEndsCleanly) {
  // The request outlives the grace period: the process must still stop without touching freed memory
  // (ASan runs this in `make test`).
  TestServer server({.shutdown_grace = std::chrono::milliseconds(200)});
  auto session = open_session(server.port());
  RawClient client(server.port());
  client.send(post_request(R"({"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"sleep","arguments":{"ms":60000}}})",
                           session));
  for (int attempt = 0; attempt < 200 && server.http().connections() < 1; ++attempt) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  server.stop();
  EXPECT_FALSE(client.read());  // cut off, no answer
}

TEST(Shutdown, RequestInFlightFinishesAndNewConnectionsAreRefused) {
  TestServer server;
  auto session = open_session(server.port());
  RawClient client(server.port());
  client.send(post_request(R"({"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"sleep","arguments":{"ms":300}}})",
                           session));
  // Wait until the request is in flight (the tool's first progress is not requested; poll the connection count).
  for (int attempt = 0; attempt < 200 && server.http().connections() < 1; ++attempt) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  auto stopping = std::async(std::launch::async, [&] { server.stop(); });
  auto response = client.read();
  ASSERT_TRUE(response);
  EXPECT_NE(response->body().find("slept"), std::string::npos);
  EXPECT_EQ((*response)[http::field::connection], "close");
  stopping.get();
  boost::asio::io_context context;
  tcp::socket socket(context);
  boost::system::error_code ec;
  socket.connect(tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), server.port()), ec);
  EXPECT_TRUE(ec);  // nobody listens any more
}

}  // namespace
}  // namespace deputy::testing
