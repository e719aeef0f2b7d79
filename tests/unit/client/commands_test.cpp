// How `deputy tools`, `deputy call` and `deputy whoami` print.
#include "deputy/client/commands.hpp"

#include <gtest/gtest.h>
#include <boost/json.hpp>

namespace deputy::client {
namespace {

namespace json = boost::json;

TEST(FormatTools, NameDescriptionAndArguments) {
  std::vector<json::object> tools{
      json::parse(R"({"name":"echo","description":"Echoes the message back","inputSchema":{"type":"object",
                     "properties":{"message":{"type":"string"},"times":{"type":"integer"}},"required":["message"]}})")
          .as_object(),
      json::parse(R"({"name":"bare","inputSchema":{"type":"object"}})").as_object()};
  EXPECT_EQ(format_tools(tools),
            "echo\n    Echoes the message back\n    arguments: message=string times=integer?\nbare\n");
  EXPECT_EQ(format_tools({}), "(no tools)\n");
}

TEST(FormatCallResult, TextIsPrintedAsItIs) {
  auto result = format_call_result(
      json::parse(R"({"content":[{"type":"text","text":"one"},{"type":"text","text":"two\n"}]})").as_object(),
      false);
  EXPECT_FALSE(result.is_error);
  EXPECT_EQ(result.text, "one\ntwo\n");
}

TEST(FormatCallResult, ErrorsAreMarkedAndRedOnATerminal) {
  const auto result =
      json::parse(R"({"isError":true,"content":[{"type":"text","text":"Access denied"}]})").as_object();
  auto plain = format_call_result(result, false);
  EXPECT_TRUE(plain.is_error);
  EXPECT_EQ(plain.text, "error: Access denied\n");
  auto coloured = format_call_result(result, true);
  EXPECT_NE(coloured.text.find("\033[31m"), std::string::npos);
  EXPECT_NE(coloured.text.find("Access denied"), std::string::npos);
}

TEST(FormatCallResult, OtherContentIsNamedAndStructuredContentShownWithoutText) {
  auto result =
      format_call_result(json::parse(R"({"content":[{"type":"image","mimeType":"image/png","data":"AAAA"},
      {"type":"resource","resource":{"uri":"file:///a","text":"hello"}}],"structuredContent":{"ok":true}})")
                             .as_object(),
                         false);
  EXPECT_EQ(result.text,
            "[image: image/png, 4 bytes of base64]\n[resource: file:///a]\nhello\n{\n  \"ok\": true\n}\n");
}

TEST(FormatStatus, SaysWhoAndUntilWhen) {
  Settings settings{
      .authority = "https://127.0.0.1:8443", .client_id = "client-id", .scope = "api://s/access_as_user"};
  const auto now = Clock::time_point(std::chrono::seconds(1'800'000'000));
  SignedIn status{.account = {.realm = "tid", .username = "alice@deputy-dev.test", .name = "Alice Adams"},
                  .access_token_expires_on = now + std::chrono::minutes(42),
                  .has_refresh_token = true};
  const auto text = format_status(status, settings, now);
  EXPECT_TRUE(text.starts_with("alice@deputy-dev.test (Alice Adams)\n")) << text;
  EXPECT_NE(text.find("until 2027-01-15 08:42:00 UTC (42 min left)"), std::string::npos) << text;
  EXPECT_NE(text.find("refresh token cached"), std::string::npos);
}

}  // namespace
}  // namespace deputy::client
