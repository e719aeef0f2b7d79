// The Streamable HTTP transport against raw HTTP: every status code the transport defines, sessions,
// SSE answers, cancellation, the DNS-rebinding checks.
#include "test_server.hpp"

#include <gtest/gtest.h>

#include <future>

namespace deputy::testing {
namespace {

constexpr std::string_view kInitialize =
    R"({"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"1"}}})";
constexpr std::string_view kToolsList = R"({"jsonrpc":"2.0","id":1,"method":"tools/list"})";

json::object error_of(const http::response<http::string_body>& response) {
  return json::parse(response.body()).at("error").as_object();
}

class StreamableHttpTest : public ::testing::Test {
 protected:
  TestServer server_;
};

TEST_F(StreamableHttpTest, InitializeCreatesARandomSession) {
  auto first = post(server_.port(), kInitialize);
  auto second = post(server_.port(), kInitialize);
  ASSERT_EQ(first.result(), http::status::ok);
  const std::string a(first["Mcp-Session-Id"]);
  const std::string b(second["Mcp-Session-Id"]);
  EXPECT_EQ(a.size(), 32U);  // 128 bits, hex
  EXPECT_NE(a, b);
  auto result = json::parse(first.body()).at("result");
  EXPECT_EQ(result.at("protocolVersion"), "2025-06-18");
  EXPECT_EQ(result.at("serverInfo").at("name"), "test");
}

TEST_F(StreamableHttpTest, UnknownVersionIsAnsweredWithOurNewest) {
  auto response = post(server_.port(),
                       R"({"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"1999-01-01"}})");
  EXPECT_EQ(json::parse(response.body()).at("result").at("protocolVersion").as_string(), mcp::kProtocolVersions[0]);
}

TEST_F(StreamableHttpTest, RequestWithoutSessionIs400) {
  auto response = post(server_.port(), kToolsList);
  EXPECT_EQ(response.result(), http::status::bad_request);
  EXPECT_EQ(error_of(response).at("code"), -32000);
}

TEST_F(StreamableHttpTest, UnknownSessionIs404) {
  auto response = post(server_.port(), kToolsList, "0123456789abcdef0123456789abcdef");
  EXPECT_EQ(response.result(), http::status::not_found);
  EXPECT_EQ(error_of(response).at("code"), -32001);
}

TEST_F(StreamableHttpTest, DeleteEndsTheSession) {
  auto session = open_session(server_.port());
  RawClient client(server_.port());
  client.send("DELETE /mcp HTTP/1.1\r\nHost: localhost\r\nMcp-Session-Id: " + session + "\r\n\r\n");
  EXPECT_EQ(client.read()->result(), http::status::ok);
  EXPECT_EQ(post(server_.port(), kToolsList, session).result(), http::status::not_found);
  client.send("DELETE /mcp HTTP/1.1\r\nHost: localhost\r\nMcp-Session-Id: " + session + "\r\n\r\n");
  EXPECT_EQ(client.read()->result(), http::status::not_found);
}

TEST_F(StreamableHttpTest, AnUnsupportedVersionHeaderIsRefusedOnGetAndDeleteToo) {
  auto session = open_session(server_.port());
  RawClient client(server_.port());
  client.send("GET /mcp HTTP/1.1\r\nHost: localhost\r\nAccept: text/event-stream\r\nMcp-Session-Id: " + session +
              "\r\nMCP-Protocol-Version: 1999-01-01\r\n\r\n");
  EXPECT_EQ(client.read()->result(), http::status::bad_request);
  client.send("DELETE /mcp HTTP/1.1\r\nHost: localhost\r\nMcp-Session-Id: " + session +
              "\r\nMCP-Protocol-Version: 1999-01-01\r\n\r\n");
  EXPECT_EQ(client.read()->result(), http::status::bad_request);
  // Refused before anything changed: the session is still there.
  EXPECT_EQ(post(server_.port(), kToolsList, session).result(), http::status::ok);
}

TEST_F(StreamableHttpTest, ToolsListAndCallAsJson) {
  auto session = open_session(server_.port());
  auto list = post(server_.port(), kToolsList, session);
  EXPECT_EQ(list[http::field::content_type], "application/json");
  auto tools = json::parse(list.body()).at("result").at("tools").as_array();
  ASSERT_EQ(tools.size(), 2U);
  auto call = post(server_.port(), R"({"jsonrpc":"2.0","id":"x","method":"tools/call","params":{"name":"echo","arguments":{"message":"hi"}}})",
                   session);
  EXPECT_EQ(json::serialize(json::parse(call.body())),
            R"({"jsonrpc":"2.0","id":"x","result":{"content":[{"type":"text","text":"hi"}]}})");
}

TEST_F(StreamableHttpTest, ProgressTurnsTheAnswerIntoAnEventStream) {
  auto session = open_session(server_.port());
  auto call = post(server_.port(),
                   R"({"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"name":"sleep","arguments":{"ms":1},"_meta":{"progressToken":"p"}}})",
                   session);
  ASSERT_EQ(call.result(), http::status::ok);
  EXPECT_EQ(call[http::field::content_type], "text/event-stream");
  auto messages = sse_messages(call.body());
  ASSERT_EQ(messages.size(), 3U);
  EXPECT_EQ(messages[0].at("method"), "notifications/progress");
  EXPECT_EQ(messages[0].at("params").at("progressToken"), "p");
  EXPECT_EQ(messages[1].at("params").at("progress").to_number<double>(), 1.0);
  EXPECT_EQ(messages[2].at("id"), 5);
  EXPECT_EQ(messages[2].at("result").at("content").at(0).at("text"), "slept");
}

TEST_F(StreamableHttpTest, NotificationsAndResponsesAre202) {
  auto session = open_session(server_.port());
  auto notification = post(server_.port(), R"({"jsonrpc":"2.0","method":"notifications/whatever"})", session);
  EXPECT_EQ(notification.result(), http::status::accepted);
  EXPECT_TRUE(notification.body().empty());
  auto response = post(server_.port(), R"({"jsonrpc":"2.0","id":99,"result":{}})", session);
  EXPECT_EQ(response.result(), http::status::accepted);
}

TEST_F(StreamableHttpTest, CancelledRequestGetsNoAnswerAndTheServerGoesOn) {
  auto session = open_session(server_.port());
  auto call = std::async(std::launch::async, [&] {
    return post(server_.port(),
                R"({"jsonrpc":"2.0","id":"slow","method":"tools/call","params":{"name":"sleep","arguments":{"ms":60000}}})",
                session);
  });
  // Cancel until the request is known (it may not have arrived yet): bounded by the call's own answer.
  while (call.wait_for(std::chrono::milliseconds(20)) != std::future_status::ready) {
    post(server_.port(), R"({"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":"slow"}})",
         session);
  }
  auto answer = call.get();
  EXPECT_EQ(answer.result(), http::status::ok);
  EXPECT_TRUE(sse_messages(answer.body()).empty()) << answer.body();
  EXPECT_EQ(post(server_.port(), kToolsList, session).result(), http::status::ok);
}

struct BadPost {
  const char* name;
  std::string request;
  http::status status;
  int code;  // JSON-RPC error code, 0 when the body is not checked
};

class BadPostTest : public ::testing::TestWithParam<BadPost> {};

TEST_P(BadPostTest, GetsItsDefinedAnswer) {
  TestServer server;
  RawClient client(server.port());
  client.send(GetParam().request);
  auto response = client.read();
  ASSERT_TRUE(response) << GetParam().name;
  EXPECT_EQ(response->result(), GetParam().status) << GetParam().name << ": " << response->body();
  if (GetParam().code != 0) {
    EXPECT_EQ(error_of(*response).at("code"), GetParam().code) << GetParam().name;
  }
  // The server keeps serving.
  EXPECT_EQ(post(server.port(), kInitialize).result(), http::status::ok);
}

std::string raw(std::string_view method, std::string_view headers, std::string_view body = {}) {
  return std::string(method) + " /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\n" + std::string(headers) +
         "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + std::string(body);
}

INSTANTIATE_TEST_SUITE_P(
    Transport, BadPostTest,
    ::testing::Values(
        BadPost{"put", raw("PUT", "Content-Type: application/json\r\n", "{}"), http::status::method_not_allowed, -32000},
        BadPost{"no_event_stream", raw("POST", "Content-Type: application/json\r\nAccept: application/json\r\n", kInitialize),
                http::status::not_acceptable, -32000},
        BadPost{"no_accept", raw("POST", "Content-Type: application/json\r\n", kInitialize), http::status::not_acceptable,
                -32000},
        BadPost{"text_plain", raw("POST", "Content-Type: text/plain\r\nAccept: application/json, text/event-stream\r\n", kInitialize),
                http::status::unsupported_media_type, -32000},
        BadPost{"malformed_json", post_request("{\"jsonrpc\":"), http::status::bad_request, -32700},
        BadPost{"too_deep", post_request(std::string(200, '[') + std::string(200, ']')), http::status::bad_request, -32700},
        BadPost{"batch", post_request(R"([{"jsonrpc":"2.0","id":1,"method":"ping"}])"), http::status::bad_request, -32600},
        BadPost{"not_jsonrpc", post_request(R"({"id":1,"method":"ping"})"), http::status::bad_request, -32600},
        BadPost{"huge_id", post_request(R"({"jsonrpc":"2.0","id":")" + std::string(100000, '9') + R"(","method":"initialize"})"),
                http::status::bad_request, -32600},
        BadPost{"evil_origin", post_request(kInitialize, {}, "Origin: http://evil.example.com\r\n"), http::status::forbidden,
                -32000},
        BadPost{"unsupported_version_header",
                post_request(kToolsList, "0123456789abcdef0123456789abcdef", "MCP-Protocol-Version: 1999-01-01\r\n"),
                http::status::not_found, -32001},
        BadPost{"evil_host",
                "POST /mcp HTTP/1.1\r\nHost: evil.example.com\r\nContent-Type: application/json\r\nAccept: application/json, "
                "text/event-stream\r\nContent-Length: " + std::to_string(kInitialize.size()) + "\r\n\r\n" + std::string(kInitialize),
                http::status::forbidden, -32000}),
    [](const auto& info) { return std::string(info.param.name); });

TEST_F(StreamableHttpTest, SubscribingNeedsAKnownResource) {
  auto session = open_session(server_.port());
  auto unknown = post(server_.port(),
                      R"({"jsonrpc":"2.0","id":1,"method":"resources/subscribe","params":{"uri":"x://nothing"}})", session);
  EXPECT_EQ(error_of(unknown).at("code"), -32002);
}

TEST_F(StreamableHttpTest, LoopbackOriginIsAllowed) {
  auto response = post(server_.port(), kInitialize, {}, "Origin: http://localhost:6274\r\n");
  EXPECT_EQ(response.result(), http::status::ok);
}

TEST_F(StreamableHttpTest, ConfiguredOriginIsAllowed) {
  TestServer server({}, {.allowed_origins = {"https://app.example.com"}});
  EXPECT_EQ(post(server.port(), kInitialize, {}, "Origin: https://app.example.com\r\n").result(), http::status::ok);
  EXPECT_EQ(post(server.port(), kInitialize, {}, "Origin: https://app.example.com.evil.io\r\n").result(),
            http::status::forbidden);
}

TEST_F(StreamableHttpTest, UnsupportedProtocolVersionHeaderIs400) {
  auto session = open_session(server_.port());
  EXPECT_EQ(post(server_.port(), kToolsList, session, "MCP-Protocol-Version: 1999-01-01\r\n").result(),
            http::status::bad_request);
  // An older version we speak is fine, even when the session negotiated another.
  EXPECT_EQ(post(server_.port(), kToolsList, session, "MCP-Protocol-Version: 2025-03-26\r\n").result(),
            http::status::ok);
}

TEST_F(StreamableHttpTest, InvalidArgumentsNameThePath) {
  auto session = open_session(server_.port());
  auto call = post(server_.port(),
                   R"({"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{"message":5}}})",
                   session);
  auto error = error_of(call);
  EXPECT_EQ(error.at("code"), -32602);
  EXPECT_NE(std::string(error.at("message").as_string()).find("/message"), std::string::npos);
}

TEST_F(StreamableHttpTest, UnknownMethodAndTool) {
  auto session = open_session(server_.port());
  EXPECT_EQ(error_of(post(server_.port(), R"({"jsonrpc":"2.0","id":1,"method":"nope"})", session)).at("code"), -32601);
  EXPECT_EQ(error_of(post(server_.port(),
                          R"({"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"nope"}})", session))
                .at("code"),
            -32602);
}

TEST_F(StreamableHttpTest, StandaloneStreamCarriesBroadcastsAndIsUniquePerSession) {
  auto session = open_session(server_.port());
  RawClient stream(server_.port());
  stream.send("GET /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\nMcp-Session-Id: " + session +
              "\r\n\r\n");
  // The header arrives first; read it with a header-only parser.
  boost::beast::flat_buffer buffer;
  http::response_parser<http::empty_body> header;
  http::read_header(stream.socket(), buffer, header);
  EXPECT_EQ(header.get()[http::field::content_type], "text/event-stream");

  RawClient second(server_.port());
  second.send("GET /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\nMcp-Session-Id: " + session +
              "\r\n\r\n");
  EXPECT_EQ(second.read()->result(), http::status::conflict);

  server_.transport().broadcast(mcp::make_notification("notifications/tools/list_changed", {}));
  std::string received;
  while (received.find("list_changed") == std::string::npos) {
    char chunk[512];
    auto n = stream.socket().read_some(boost::asio::buffer(chunk));
    received.append(chunk, n);
  }
  SUCCEED();
}

}  // namespace
}  // namespace deputy::testing
