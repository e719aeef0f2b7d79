// Strict form parsing: decoding, duplicates, limits.
#include "deputy/devidp/form.hpp"
#include "deputy/net/percent_encoding.hpp"

#include <gtest/gtest.h>

namespace deputy::devidp {
namespace {

TEST(Form, DecodesPairsPlusAndPercentEscapes) {
  auto form = parse_form("grant_type=client_credentials&scope=api%3A%2F%2Fx%2F.default+openid&empty=&flag");
  ASSERT_TRUE(form);
  EXPECT_EQ(form->get("grant_type"), "client_credentials");
  EXPECT_EQ(form->get("scope"), "api://x/.default openid");
  EXPECT_EQ(form->get("empty"), "");
  EXPECT_EQ(form->get("flag"), "");
  EXPECT_FALSE(form->get("missing"));
  EXPECT_EQ(form->value("missing"), "");
}

TEST(Form, EmptySegmentsCarryNothing) {
  auto form = parse_form("a=1&&b=2&");
  ASSERT_TRUE(form);
  EXPECT_EQ(form->fields().size(), 2U);
}

TEST(Form, RefusesWhatCouldBeReadTwoWays) {
  struct Case {
    std::string_view name;
    std::string body;
    FormError error;
  };
  const std::vector<Case> cases = {
      {"repeated", "a=1&a=2", FormError::kDuplicate},
      {"repeated after decoding", "a=1&%61=2", FormError::kDuplicate},
      {"bad hex", "a=%G1", FormError::kBadEncoding},
      {"cut escape", "a=%4", FormError::kBadEncoding},
      {"lone percent", "a=%", FormError::kBadEncoding},
      {"empty name", "=1", FormError::kBadEncoding},
      {"too large", std::string(kMaxFormSize + 1, 'a'), FormError::kTooLarge},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    auto form = parse_form(c.body);
    ASSERT_FALSE(form);
    EXPECT_EQ(form.error().error, c.error);
  }
  std::string many;
  for (std::size_t i = 0; i <= kMaxFormFields; ++i) many += "f" + std::to_string(i) + "=x&";
  auto form = parse_form(many);
  ASSERT_FALSE(form);
  EXPECT_EQ(form.error().error, FormError::kTooLarge);
}

TEST(Form, DuplicateNamesTheParameterButNeverItsValue) {
  auto form = parse_form("client_secret=s1&client_secret=s2");
  ASSERT_FALSE(form);
  EXPECT_EQ(form.error().name, "client_secret");
}

TEST(Form, ContentType) {
  EXPECT_TRUE(is_form_content_type("application/x-www-form-urlencoded"));
  EXPECT_TRUE(is_form_content_type("Application/X-WWW-Form-Urlencoded; charset=utf-8"));
  EXPECT_FALSE(is_form_content_type("application/json"));
  EXPECT_FALSE(is_form_content_type("application/x-www-form-urlencodedx"));
  EXPECT_FALSE(is_form_content_type(""));
}

TEST(Form, EncodeRoundTrips) {
  const std::string text = "a b&c=d/é%+";
  auto form = parse_form("x=" + net::percent_encode(text));
  ASSERT_TRUE(form);
  EXPECT_EQ(form->get("x"), text);
}

}  // namespace
}  // namespace deputy::devidp
