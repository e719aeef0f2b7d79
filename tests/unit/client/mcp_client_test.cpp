// SSE bodies as Streamable HTTP servers send them.
#include "deputy/client/mcp_client.hpp"

#include <gtest/gtest.h>
#include <boost/json.hpp>

namespace deputy::client {
namespace {

TEST(Sse, EachEventsDataIsOneMessage) {
  auto messages = parse_sse(
      "id: 1\nevent: message\ndata: {\"jsonrpc\":\"2.0\",\"method\":\"notifications/progress\"}\n\n"
      ": keep-alive\n\n"
      "data: {\"jsonrpc\":\"2.0\",\"id\":7,\n"
      "data: \"result\":{}}\n\n");
  ASSERT_EQ(messages.size(), 2U);
  EXPECT_EQ(messages[0].at("method"), "notifications/progress");
  EXPECT_EQ(messages[1].at("id"), 7);
}

TEST(Sse, CarriageReturnsNoSpaceAfterTheColonAndAMissingLastBlankLineAreFine) {
  auto messages = parse_sse("data:{\"id\":1}\r\n\r\ndata: {\"id\":2}");
  ASSERT_EQ(messages.size(), 2U);
  EXPECT_EQ(messages[0].at("id"), 1);
  EXPECT_EQ(messages[1].at("id"), 2);
}

TEST(Sse, EventsThatAreNotJsonAndEmptyEventsAreSkipped) {
  auto messages = parse_sse("data: not json\n\nretry: 1000\n\nevent: x\n\ndata: {\"id\":3}\n\n");
  ASSERT_EQ(messages.size(), 1U);
  EXPECT_EQ(messages[0].at("id"), 3);
  EXPECT_TRUE(parse_sse("").empty());
}

TEST(Tokens, TravelOnlyOverHttpsOrToLoopback) {
  EXPECT_TRUE(carries_tokens_safely("https://mcp.example.com/mcp"));
  EXPECT_TRUE(carries_tokens_safely("http://127.0.0.1:8400/mcp"));
  EXPECT_TRUE(carries_tokens_safely("http://localhost:8400/mcp"));
  EXPECT_TRUE(carries_tokens_safely("http://[::1]:8400/mcp"));
  EXPECT_FALSE(carries_tokens_safely("http://mcp.example.com/mcp"));
  EXPECT_FALSE(carries_tokens_safely("http://127.0.0.1.evil.example/mcp"));
  EXPECT_FALSE(carries_tokens_safely("not a url"));
}

}  // namespace
}  // namespace deputy::client
