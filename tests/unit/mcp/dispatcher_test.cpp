// Dispatch without any transport: messages in, messages out, a fake outbound channel.
#include "deputy/mcp/dispatcher.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <gtest/gtest.h>

namespace deputy::mcp {
namespace {

namespace asio = boost::asio;

class RecordingOutbound final : public Outbound {
 public:
  asio::awaitable<bool> send(const json::object& message) override {
    sent.push_back(message);
    co_return true;
  }
  bool post(json::object message) override {
    sent.push_back(std::move(message));
    return true;
  }
  std::vector<json::object> sent;
};

class DispatcherTest : public ::testing::Test {
 protected:
  DispatcherTest() : dispatcher_(registry_, {.name = "unit", .version = "9"}, {.page_size = 2}) {
    for (const char* name : {"a", "b", "c"}) {
      registry_.add_tool({.name = name, .description = "tool"},
                         [](const json::object&, RequestContext& context) -> asio::awaitable<ToolResult> {
                           co_await context.progress(1, 2);
                           co_return ToolResult::text("done");
                         });
    }
    registry_.add_tool({.name = "typed",
                        .input_schema = {{"type", "object"},
                                         {"properties", {{"n", {{"type", "integer"}, {"minimum", 1}}}}},
                                         {"required", {"n"}}},
                        .output_schema = json::object{{"type", "object"}, {"required", {"n"}}}},
                       [](const json::object& args, RequestContext&) -> asio::awaitable<ToolResult> {
                         ToolResult result = ToolResult::text("ok");
                         if (args.at("n").as_int64() != 13) result.structured_content = json::object{{"n", args.at("n")}};
                         co_return result;
                       });
    registry_.add_tool({.name = "throws"}, [](const json::object&, RequestContext&) -> asio::awaitable<ToolResult> {
      throw std::runtime_error("secret internal detail");
      co_return ToolResult{};
    });
    registry_.add_prompt({.name = "p", .arguments = {{.name = "x", .required = true}}},
                         [](const json::object& args, RequestContext&) -> asio::awaitable<std::expected<PromptResult, RpcError>> {
                           co_return PromptResult{.messages = {json::object{{"role", "user"}, {"content", content::text(args.at("x").as_string())}}}};
                         },
                         {{"x", [](std::string_view value, const json::object&) {
                             return std::vector<std::string>{std::string(value) + "1", std::string(value) + "2"};
                           }}});
    initialize();
  }

  void initialize() {
    auto body = json::parse(R"({"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{"elicitation":{}}}})");
    auto message = classify(body);
    auto answer = dispatcher_.initialize(session_, *message);
    EXPECT_EQ(answer.at("result").at("protocolVersion"), "2025-06-18");
  }

  /// Runs one request to completion and returns the answer (or null when cancelled).
  json::value request(std::string_view text) {
    auto body = json::parse(text);
    auto message = classify(body);
    EXPECT_TRUE(message);
    auto future = asio::co_spawn(
        context_,
        [&]() -> asio::awaitable<std::optional<json::object>> {
          co_return co_await dispatcher_.handle_request(session_, *message, outbound_, nullptr);
        },
        asio::use_future);
    context_.restart();
    context_.run();
    auto answer = future.get();
    return answer ? json::value(*answer) : json::value(nullptr);
  }

  asio::io_context context_;
  Registry registry_;
  Dispatcher dispatcher_;
  Session session_{"s"};
  RecordingOutbound outbound_;
};

TEST_F(DispatcherTest, PaginatesWithOpaqueCursors) {
  auto first = request(R"({"jsonrpc":"2.0","id":1,"method":"tools/list"})");
  EXPECT_EQ(first.at("result").at("tools").as_array().size(), 2U);
  const auto cursor = first.at("result").at("nextCursor").as_string();
  auto second = request(R"({"jsonrpc":"2.0","id":2,"method":"tools/list","params":{"cursor":")" + std::string(cursor) + R"("}})");
  EXPECT_EQ(second.at("result").at("tools").as_array().size(), 2U);
  auto last = request(R"({"jsonrpc":"2.0","id":3,"method":"tools/list","params":{"cursor":"4"}})");
  EXPECT_EQ(last.at("result").at("tools").as_array().size(), 1U);
  EXPECT_FALSE(last.at("result").as_object().contains("nextCursor"));
  for (const char* bad : {R"("x")", R"("-1")", "5", R"("")"}) {
    auto answer = request(std::string(R"({"jsonrpc":"2.0","id":4,"method":"tools/list","params":{"cursor":)") + bad + "}}");
    EXPECT_EQ(answer.at("error").at("code"), -32602) << bad;
  }
}

TEST_F(DispatcherTest, CallSendsProgressOnlyWhenAsked) {
  request(R"({"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"a"}})");
  EXPECT_TRUE(outbound_.sent.empty());
  auto answer = request(R"({"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"a","_meta":{"progressToken":7}}})");
  ASSERT_EQ(outbound_.sent.size(), 1U);
  EXPECT_EQ(outbound_.sent[0].at("params").at("progressToken"), 7);
  EXPECT_EQ(answer.at("result").at("content").at(0).at("text"), "done");
}

TEST_F(DispatcherTest, ArgumentsAreValidatedBeforeTheHandler) {
  auto missing = request(R"({"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"typed","arguments":{}}})");
  EXPECT_EQ(missing.at("error").at("code"), -32602);
  EXPECT_NE(std::string(missing.at("error").at("message").as_string()).find("/n"), std::string::npos);
  auto small = request(R"({"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"typed","arguments":{"n":0}}})");
  EXPECT_EQ(small.at("error").at("code"), -32602);
  auto not_object = request(R"({"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"typed","arguments":[1]}})");
  EXPECT_EQ(not_object.at("error").at("code"), -32602);
  auto ok = request(R"({"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"typed","arguments":{"n":2}}})");
  EXPECT_EQ(ok.at("result").at("structuredContent").at("n"), 2);
}

TEST_F(DispatcherTest, BrokenOutputSchemaIsAnInternalErrorWithoutDetails) {
  auto answer = request(R"({"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"typed","arguments":{"n":13}}})");
  EXPECT_EQ(answer.at("error").at("code"), -32603);
  EXPECT_EQ(answer.at("error").at("message"), "Internal error");
}

TEST_F(DispatcherTest, ThrowingHandlerLeaksNothing) {
  auto answer = request(R"({"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"throws"}})");
  EXPECT_EQ(answer.at("error").at("code"), -32603);
  EXPECT_EQ(json::serialize(answer).find("secret"), std::string::npos);
}

TEST_F(DispatcherTest, UnknownMethodToolPromptAndResource) {
  EXPECT_EQ(request(R"({"jsonrpc":"2.0","id":1,"method":"x/y"})").at("error").at("code"), -32601);
  EXPECT_EQ(request(R"({"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"zz"}})").at("error").at("code"), -32602);
  EXPECT_EQ(request(R"({"jsonrpc":"2.0","id":1,"method":"prompts/get","params":{"name":"zz"}})").at("error").at("code"), -32602);
  auto resource = request(R"({"jsonrpc":"2.0","id":1,"method":"resources/read","params":{"uri":"x://y"}})");
  EXPECT_EQ(resource.at("error").at("code"), -32002);
}

TEST_F(DispatcherTest, PromptArgumentsAndCompletion) {
  EXPECT_EQ(request(R"({"jsonrpc":"2.0","id":1,"method":"prompts/get","params":{"name":"p"}})").at("error").at("code"), -32602);
  auto got = request(R"({"jsonrpc":"2.0","id":1,"method":"prompts/get","params":{"name":"p","arguments":{"x":"hi"}}})");
  EXPECT_EQ(got.at("result").at("messages").at(0).at("content").at("text"), "hi");
  auto completion = request(R"({"jsonrpc":"2.0","id":1,"method":"completion/complete","params":{"ref":{"type":"ref/prompt","name":"p"},"argument":{"name":"x","value":"v"}}})");
  EXPECT_EQ(json::serialize(completion.at("result").at("completion").at("values")), R"(["v1","v2"])");
}

TEST_F(DispatcherTest, LoggingLevelFiltersAndPingIsEmpty) {
  EXPECT_EQ(json::serialize(request(R"({"jsonrpc":"2.0","id":1,"method":"ping"})").at("result")), "{}");
  EXPECT_EQ(request(R"({"jsonrpc":"2.0","id":1,"method":"logging/setLevel","params":{"level":"loud"}})").at("error").at("code"), -32602);
  request(R"({"jsonrpc":"2.0","id":1,"method":"logging/setLevel","params":{"level":"error"}})");
  EXPECT_EQ(session_.log_level(), LogLevel::kError);
}

TEST_F(DispatcherTest, SecondInitializeIsRefused) {
  EXPECT_EQ(request(R"({"jsonrpc":"2.0","id":1,"method":"initialize","params":{}})").at("error").at("code"), -32600);
}

TEST(SessionReplies, DeliveredOnceToTheWaiter) {
  asio::io_context context;
  Session session("s");
  auto id = session.next_request_id();
  auto channel = session.expect_reply(id, context.get_executor());
  EXPECT_FALSE(session.deliver_reply(json::value(12345), json::object{}));  // nobody waits for that id
  EXPECT_TRUE(session.deliver_reply(id, json::object{{"result", 1}}));
  EXPECT_FALSE(session.deliver_reply(id, json::object{{"result", 2}}));  // a replayed answer finds nobody
}

}  // namespace
}  // namespace deputy::mcp
