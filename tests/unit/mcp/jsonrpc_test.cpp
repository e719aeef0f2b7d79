#include "deputy/mcp/jsonrpc.hpp"

#include <gtest/gtest.h>

namespace deputy::mcp {
namespace {

json::value parse(std::string_view text) { return json::parse(text); }

TEST(Classify, Request) {
  auto value = parse(R"({"jsonrpc":"2.0","id":1,"method":"tools/list","params":{}})");
  auto message = classify(value);
  ASSERT_TRUE(message);
  EXPECT_EQ(message->kind, MessageKind::kRequest);
  EXPECT_EQ(message->method, "tools/list");
  EXPECT_EQ(message->id->as_int64(), 1);
}

TEST(Classify, NotificationResponseAndError) {
  auto notification = parse(R"({"jsonrpc":"2.0","method":"notifications/initialized"})");
  EXPECT_EQ(classify(notification)->kind, MessageKind::kNotification);
  auto response = parse(R"({"jsonrpc":"2.0","id":"a","result":{}})");
  EXPECT_EQ(classify(response)->kind, MessageKind::kResponse);
  auto error = parse(R"({"jsonrpc":"2.0","id":"a","error":{"code":-1,"message":"x"}})");
  EXPECT_EQ(classify(error)->kind, MessageKind::kErrorResponse);
}

struct Invalid {
  const char* name;
  const char* body;
};

class ClassifyInvalid : public testing::TestWithParam<Invalid> {};

TEST_P(ClassifyInvalid, IsInvalidRequest) {
  auto value = parse(GetParam().body);
  auto message = classify(value);
  ASSERT_FALSE(message) << GetParam().name;
  EXPECT_EQ(message.error().code, RpcCode::kInvalidRequest);
}

INSTANTIATE_TEST_SUITE_P(
    Shapes, ClassifyInvalid,
    testing::Values(Invalid{"array", "[1]"}, Invalid{"string", R"("x")"},
                    Invalid{"no version", R"({"id":1,"method":"ping"})"},
                    Invalid{"wrong version", R"({"jsonrpc":"1.0","id":1,"method":"ping"})"},
                    Invalid{"null id", R"({"jsonrpc":"2.0","id":null,"method":"ping"})"},
                    Invalid{"fractional id", R"({"jsonrpc":"2.0","id":1.5,"method":"ping"})"},
                    Invalid{"object id", R"({"jsonrpc":"2.0","id":{},"method":"ping"})"},
                    Invalid{"numeric method", R"({"jsonrpc":"2.0","id":1,"method":7})"},
                    Invalid{"empty method", R"({"jsonrpc":"2.0","id":1,"method":""})"},
                    Invalid{"string params", R"({"jsonrpc":"2.0","id":1,"method":"ping","params":"x"})"},
                    Invalid{"neither", R"({"jsonrpc":"2.0","id":1})"},
                    Invalid{"nothing", R"({"jsonrpc":"2.0"})"}),
    [](const auto& info) {
      std::string name = info.param.name;
      for (auto& c : name) {
        if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
      }
      return name;
    });

TEST(Classify, HugeIdRefused) {
  json::object body{{"jsonrpc", "2.0"}, {"id", std::string(kMaxIdLength + 1, 'x')}, {"method", "ping"}};
  auto message = classify(body);
  ASSERT_FALSE(message);
  EXPECT_EQ(message.error().code, RpcCode::kInvalidRequest);
  body["id"] = std::string(kMaxIdLength, 'x');
  EXPECT_TRUE(classify(body));
}

TEST(Parse, DepthLimit) {
  std::string deep(kMaxJsonDepth + 1, '[');
  deep += std::string(kMaxJsonDepth + 1, ']');
  boost::system::error_code ec;
  (void)json::parse(deep, ec, {}, parse_options());
  EXPECT_EQ(ec, json::error::too_deep);
  std::string ok(kMaxJsonDepth - 1, '[');
  ok += std::string(kMaxJsonDepth - 1, ']');
  (void)json::parse(ok, ec, {}, parse_options());
  EXPECT_FALSE(ec);
}

TEST(Build, ErrorWithNullId) {
  auto error = make_error(nullptr, {RpcCode::kParseError, "Parse error", {}});
  EXPECT_EQ(json::serialize(error), R"({"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"Parse error"}})");
}

TEST(Build, IdKeysKeepTypesApart) {
  EXPECT_NE(id_key(json::value("1")), id_key(json::value(1)));
  EXPECT_EQ(id_key(json::value(7)), id_key(json::value(7U)));
}

}  // namespace
}  // namespace deputy::mcp
