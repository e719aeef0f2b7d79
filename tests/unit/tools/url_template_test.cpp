// Declared HTTP tools' templates, from the attacker's side: an argument must never change where a call goes.
#include "deputy/tools/url_template.hpp"

#include <boost/json/parse.hpp>
#include <gtest/gtest.h>

namespace deputy::tools {
namespace {

namespace json = boost::json;

UrlTemplate compiled(std::string_view url) {
  auto out = UrlTemplate::compile(url);
  EXPECT_TRUE(out.has_value()) << url << ": " << (out ? "" : out.error());
  return *out;
}

json::object args(std::string_view text) { return json::parse(text).as_object(); }

TEST(UrlTemplate, FillsPathAndQuery) {
  auto url = compiled("https://graph.microsoft.com/v1.0/sites/{host}:/sites/{site}?$select={fields}&top=5");
  EXPECT_EQ(url.origin(), "https://graph.microsoft.com");
  EXPECT_EQ(url.path_template(), "/v1.0/sites/{host}:/sites/{site}");
  auto out = url.expand(args(R"({"host":"contoso.sharepoint.com","site":"test-site","fields":"id,name"})"));
  ASSERT_TRUE(out.has_value());
  EXPECT_EQ(*out, "https://graph.microsoft.com/v1.0/sites/contoso.sharepoint.com:/sites/test-site?$select=id%2Cname&top=5");
  EXPECT_EQ(url.names(), (std::vector<std::string>{"host", "site", "fields"}));
}

TEST(UrlTemplate, NumbersAndBooleansBecomeText) {
  auto url = compiled("https://dev.azure.com/org/project/_apis/wit/workitems/{id}?api-version=7.1&expand={all}");
  auto out = url.expand(args(R"({"id":42,"all":true})"));
  ASSERT_TRUE(out.has_value());
  EXPECT_EQ(*out, "https://dev.azure.com/org/project/_apis/wit/workitems/42?api-version=7.1&expand=true");
}

TEST(UrlTemplate, AnOptionalQueryArgumentLeavesItsParameterOut) {
  auto url = compiled("https://api.example.test/items?filter={filter}&top={top}");
  EXPECT_EQ(*url.expand(args(R"({"top":3})")), "https://api.example.test/items?top=3");
  EXPECT_EQ(*url.expand(args(R"({})")), "https://api.example.test/items");
}

TEST(UrlTemplate, PathArgumentsAreRequired) {
  auto url = compiled("https://api.example.test/items/{id}");
  EXPECT_FALSE(url.expand(args(R"({})")).has_value());
  EXPECT_FALSE(url.expand(args(R"({"id":""})")).has_value());
  EXPECT_FALSE(url.expand(args(R"({"id":null})")).has_value());
}

TEST(UrlTemplate, ArgumentsCannotLeaveTheirSegment) {
  auto url = compiled("https://api.example.test/v1/users/{user}/profile");
  // Each of these tries to reach another path, another host, or to smuggle a header line.
  const std::vector<std::pair<std::string, std::string>> attacks = {
      {"../admin", "https://api.example.test/v1/users/..%2Fadmin/profile"},
      {"a/b", "https://api.example.test/v1/users/a%2Fb/profile"},
      {"x?admin=1", "https://api.example.test/v1/users/x%3Fadmin%3D1/profile"},
      {"x#frag", "https://api.example.test/v1/users/x%23frag/profile"},
      {"@evil.test", "https://api.example.test/v1/users/%40evil.test/profile"},
      {"%2e%2e", "https://api.example.test/v1/users/%252e%252e/profile"},
      {"a\r\nHost: evil.test", "https://api.example.test/v1/users/a%0D%0AHost%3A%20evil.test/profile"},
      {"https://evil.test/", "https://api.example.test/v1/users/https%3A%2F%2Fevil.test%2F/profile"},
  };
  for (const auto& [value, expected] : attacks) {
    json::object arguments{{"user", value}};
    auto out = url.expand(arguments);
    ASSERT_TRUE(out.has_value()) << value;
    EXPECT_EQ(*out, expected) << value;
  }
}

TEST(UrlTemplate, DotSegmentsAreRefused) {
  auto url = compiled("https://api.example.test/v1/users/{user}/profile");
  EXPECT_FALSE(url.expand(json::object{{"user", ".."}}).has_value());
  EXPECT_FALSE(url.expand(json::object{{"user", "."}}).has_value());
  EXPECT_TRUE(url.expand(json::object{{"user", "..."}}).has_value());
}

TEST(UrlTemplate, DotSegmentsMadeOfSeveralPiecesAreRefused) {
  auto joined = compiled("https://api.example.test/v1/{a}{b}/x");
  EXPECT_FALSE(joined.expand(json::object{{"a", "."}, {"b", "."}}).has_value());
  auto prefixed = compiled("https://api.example.test/v1/.{a}/x");
  EXPECT_FALSE(prefixed.expand(json::object{{"a", "."}}).has_value());
  EXPECT_TRUE(prefixed.expand(json::object{{"a", "config"}}).has_value());
  EXPECT_FALSE(UrlTemplate::compile("https://api.example.test/v1/../admin/{a}").has_value());
  EXPECT_FALSE(UrlTemplate::compile("https://api.example.test/v1/./{a}").has_value());
}

TEST(UrlTemplate, QueryArgumentsCannotAddParameters) {
  auto url = compiled("https://api.example.test/search?q={q}");
  auto out = url.expand(json::object{{"q", "x&admin=true"}});
  ASSERT_TRUE(out.has_value());
  EXPECT_EQ(*out, "https://api.example.test/search?q=x%26admin%3Dtrue");
}

TEST(UrlTemplate, StructuredArgumentsAreRefused) {
  auto url = compiled("https://api.example.test/items/{id}");
  EXPECT_FALSE(url.expand(args(R"({"id":["a","b"]})")).has_value());
  EXPECT_FALSE(url.expand(args(R"({"id":{"a":1}})")).has_value());
}

TEST(UrlTemplate, TheHostIsFixed) {
  EXPECT_FALSE(UrlTemplate::compile("https://{host}/v1/items").has_value());
  EXPECT_FALSE(UrlTemplate::compile("https://api.{tenant}.example.test/items").has_value());
  EXPECT_FALSE(UrlTemplate::compile("https://user:pw@api.example.test/items").has_value());
  EXPECT_FALSE(UrlTemplate::compile("ftp://api.example.test/items").has_value());
  EXPECT_FALSE(UrlTemplate::compile("//api.example.test/items").has_value());
  EXPECT_FALSE(UrlTemplate::compile("https:///items").has_value());
  EXPECT_FALSE(UrlTemplate::compile("https://api.example.test/items#{frag}").has_value());
  EXPECT_FALSE(UrlTemplate::compile("https://api.example.test/items?{name}=1").has_value());
  EXPECT_FALSE(UrlTemplate::compile("https://api.example.test/items/{unclosed").has_value());
  EXPECT_FALSE(UrlTemplate::compile("https://api.example.test/items/{a-b}").has_value());
  EXPECT_TRUE(UrlTemplate::compile("http://127.0.0.1:8444/v1.0/me").has_value());
  EXPECT_TRUE(UrlTemplate::compile("https://[::1]:8444/v1.0/me").has_value());
}

TEST(UrlTemplate, LongArgumentsAreRefused) {
  auto url = compiled("https://api.example.test/items/{id}");
  EXPECT_FALSE(url.expand(json::object{{"id", std::string(kMaxUrlLength, 'a')}}).has_value());
}

TEST(BodyTemplate, ArgumentsBecomeJsonValues) {
  auto body = BodyTemplate::compile(R"({"title": {title}, "count": {count}, "tags": {tags}})");
  ASSERT_TRUE(body.has_value()) << body.error();
  const auto out = body->expand(args(R"({"title":"a \"quoted\" }, \"admin\": true, {","count":2,"tags":["x"]})"));
  const auto parsed = json::parse(out).as_object();
  // The injected text stays inside the title string.
  EXPECT_EQ(parsed.at("title").as_string(), R"(a "quoted" }, "admin": true, {)");
  EXPECT_FALSE(parsed.contains("admin"));
  EXPECT_EQ(parsed.at("count").as_int64(), 2);
  EXPECT_EQ(body->expand({}), R"({"title": null, "count": null, "tags": null})");
}

TEST(BodyTemplate, ATemplateThatIsNotJsonIsRefused) {
  EXPECT_FALSE(BodyTemplate::compile(R"({"title": "{title}")").has_value());
  EXPECT_FALSE(BodyTemplate::compile(R"({"title": {title})").has_value());
  EXPECT_TRUE(BodyTemplate::compile(R"({"title": "literal"})").has_value());
}

TEST(Message, ExpandsArgumentsAsText) {
  EXPECT_EQ(expand_message("No site named {site} ({code})", args(R"({"site":"test-site","code":404})")),
            "No site named test-site (404)");
  EXPECT_EQ(expand_message("{missing} stays empty", {}), " stays empty");
}

}  // namespace
}  // namespace deputy::tools
