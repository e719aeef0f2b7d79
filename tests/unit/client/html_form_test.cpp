// Reading sign-in pages: forms, inputs, buttons, and the error they show.
#include "deputy/client/html_form.hpp"

#include "deputy/devidp/pages.hpp"

#include <gtest/gtest.h>

namespace deputy::client {
namespace {

TEST(HtmlForm, ReadsTheDevelopmentProvidersSignInPage) {
  const auto html = devidp::login_page({.form = {.action = "https://127.0.0.1:8443/t/oauth2/v2.0/authorize",
                                                 .csrf = "a&b\"<c>"},
                                        .login = "alice@deputy-dev.test",
                                        .client_name = "deputy MCP client",
                                        .error = "Your account or password is incorrect. (AADSTS50126)"});
  const auto forms = parse_forms(html);
  ASSERT_EQ(forms.size(), 1U);
  EXPECT_EQ(forms[0].method, "post");
  EXPECT_EQ(forms[0].action, "https://127.0.0.1:8443/t/oauth2/v2.0/authorize");
  const auto input = [&](std::string_view name) -> const HtmlInput* {
    for (const auto& candidate : forms[0].inputs) {
      if (candidate.name == name) return &candidate;
    }
    return nullptr;
  };
  ASSERT_NE(input("csrf"), nullptr);
  EXPECT_EQ(input("csrf")->type, "hidden");
  EXPECT_EQ(input("csrf")->value, "a&b\"<c>");  // character references decoded
  ASSERT_NE(input("username"), nullptr);
  EXPECT_EQ(input("username")->value, "alice@deputy-dev.test");
  ASSERT_NE(input("password"), nullptr);
  EXPECT_EQ(input("password")->type, "password");
  EXPECT_EQ(page_error(html), "Your account or password is incorrect. (AADSTS50126)");
}

TEST(HtmlForm, AttributesInAnyOrderAndQuotingButtonsAndSeveralForms) {
  const auto forms = parse_forms(
      "<FORM action=/consent METHOD=POST><input name=a value='x y'><INPUT value=\"1\" type=HIDDEN name=b>"
      "<button name=decision value=deny>No</button><button type=submit name=decision "
      "value=accept>Yes</button>"
      "<button type=button name=ignored>?</button></form><form><input type=checkbox name=c></form>"
      "<input name=outside>");
  ASSERT_EQ(forms.size(), 2U);
  EXPECT_EQ(forms[0].method, "post");
  EXPECT_EQ(forms[0].action, "/consent");
  ASSERT_EQ(forms[0].inputs.size(), 4U);
  EXPECT_EQ(forms[0].inputs[0].type, "text");
  EXPECT_EQ(forms[0].inputs[0].value, "x y");
  EXPECT_EQ(forms[0].inputs[1].type, "hidden");
  EXPECT_EQ(forms[0].inputs[3].value, "accept");
  EXPECT_EQ(forms[1].method, "get");
  ASSERT_EQ(forms[1].inputs.size(), 1U);
}

TEST(HtmlForm, BrokenMarkupEndsQuietly) {
  EXPECT_TRUE(parse_forms("<form action=\"unterminated").empty());
  EXPECT_TRUE(parse_forms("a < b and c > d").empty());
  EXPECT_FALSE(page_error("<p>fine</p>"));
  EXPECT_EQ(page_error("<div role=\"alert\"> <b>Too</b>\n many &amp; tries </div>"), "Too many & tries");
}

TEST(HtmlForm, CharacterReferences) {
  EXPECT_EQ(html_unescape("&lt;&#39;&#x41;&eacute;&amp;"), "<'A&eacute;&");
  EXPECT_EQ(html_unescape("&#233;"), "\xC3\xA9");
  EXPECT_EQ(html_unescape("a & b"), "a & b");
}

}  // namespace
}  // namespace deputy::client
