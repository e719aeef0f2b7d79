// `deputy call` arguments typed by the input schema.
#include "deputy/client/arguments.hpp"

#include <gtest/gtest.h>
#include <boost/json.hpp>

namespace deputy::client {
namespace {

namespace json = boost::json;

const json::object kSchema = json::parse(R"({
  "type": "object",
  "properties": {
    "message": {"type": "string"},
    "count": {"type": "integer"},
    "ratio": {"type": "number"},
    "dry_run": {"type": "boolean"},
    "tags": {"type": "array", "items": {"type": "string"}},
    "options": {"type": "object"},
    "limit": {"type": ["integer", "null"]},
    "label": {"type": ["string", "null"]},
    "free": {}
  }
})")
                                 .as_object();

std::expected<json::object, Error> typed(std::vector<std::string> assignments) {
  return tool_arguments(kSchema, assignments);
}

TEST(ToolArguments, AreTypedByTheSchema) {
  auto args = typed({"message=42", "count=3", "ratio=0.5", "dry_run=true", R"(tags=["a","b"])",
                     R"(options={"x":1})", "limit=null", "label=null", "free=7", "undeclared=true"});
  ASSERT_TRUE(args) << args.error().message;
  EXPECT_EQ((*args)["message"], "42");  // a string property keeps the text
  EXPECT_EQ((*args)["count"], 3);
  EXPECT_EQ((*args)["ratio"], 0.5);
  EXPECT_EQ((*args)["dry_run"], true);
  EXPECT_EQ((*args)["tags"], json::array({"a", "b"}));
  EXPECT_EQ((*args)["options"], (json::object{{"x", 1}}));
  EXPECT_TRUE((*args)["limit"].is_null());
  EXPECT_EQ((*args)["label"], "null");  // string allowed: the text
  EXPECT_EQ((*args)["free"], "7");      // no declared type: the text
  EXPECT_EQ((*args)["undeclared"], "true");
}

TEST(ToolArguments, ValuesMayBeEmptyOrHoldEqualsSigns) {
  auto args = typed({"message=", "label=a=b=c"});
  ASSERT_TRUE(args);
  EXPECT_EQ((*args)["message"], "");
  EXPECT_EQ((*args)["label"], "a=b=c");
}

TEST(ToolArguments, AnIntegralNumberWrittenWithAPointIsAnInteger) {
  auto args = typed({"count=3.0"});
  ASSERT_TRUE(args);
  EXPECT_TRUE((*args)["count"].is_int64());
}

struct Bad {
  const char* assignment;
  const char* says;
};

class BadArgument : public ::testing::TestWithParam<Bad> {};

TEST_P(BadArgument, IsRefusedWithAClearMessage) {
  auto args = typed({GetParam().assignment});
  ASSERT_FALSE(args);
  EXPECT_EQ(args.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(args.error().message.find(GetParam().says), std::string::npos) << args.error().message;
}

INSTANTIATE_TEST_SUITE_P(
    ToolArguments, BadArgument,
    ::testing::Values(Bad{"message", "is not key=value"}, Bad{"=1", "has no key"},
                      Bad{"count=three", "count: expected integer"}, Bad{"count=3.5", "expected integer"},
                      Bad{"count=\"3\"", "expected integer"}, Bad{"ratio=fast", "expected number"},
                      Bad{"dry_run=yes", "expected boolean"}, Bad{"tags=a,b", "expected array"},
                      Bad{"options=[1]", "expected object"}, Bad{"limit=x", "expected integer or null"}));

TEST(ToolArguments, ARepeatedKeyIsRefused) {
  auto args = typed({"message=a", "message=b"});
  ASSERT_FALSE(args);
  EXPECT_NE(args.error().message.find("given twice"), std::string::npos);
}

}  // namespace
}  // namespace deputy::client
