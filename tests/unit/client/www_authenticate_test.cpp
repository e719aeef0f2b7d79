// WWW-Authenticate parsing and what the client does about each challenge.
#include "deputy/client/www_authenticate.hpp"

#include <gtest/gtest.h>

namespace deputy::client {
namespace {

// {"access_token":{"acrs":{"essential":true,"value":"c1"}}} in standard base64, padded, as Entra sends it.
constexpr std::string_view kClaimsB64 =
    "eyJhY2Nlc3NfdG9rZW4iOnsiYWNycyI6eyJlc3NlbnRpYWwiOnRydWUsInZhbHVlIjoiYzEifX19";
constexpr std::string_view kClaimsJson = R"({"access_token":{"acrs":{"essential":true,"value":"c1"}}})";

TEST(WwwAuthenticate, ParsesSchemesAndQuotedOrBareParameters) {
  auto challenges = parse_www_authenticate(
      R"(Bearer realm="deputy", error="invalid_token", error_description="The token \"expired\"", scope=api://x/y, )"
      R"(Basic realm="other")");
  ASSERT_EQ(challenges.size(), 2U);
  EXPECT_EQ(challenges[0].scheme, "bearer");
  EXPECT_EQ(challenges[0].param("REALM"), "deputy");
  EXPECT_EQ(challenges[0].param("error"), "invalid_token");
  EXPECT_EQ(challenges[0].param("error_description"), "The token \"expired\"");
  EXPECT_EQ(challenges[0].param("scope"), "api://x/y");
  EXPECT_EQ(challenges[1].scheme, "basic");
  EXPECT_EQ(challenges[1].param("realm"), "other");
}

TEST(WwwAuthenticate, Token68AndABareSchemeAreChallengesToo) {
  auto challenges = parse_www_authenticate("Negotiate abc==, Bearer");
  ASSERT_EQ(challenges.size(), 2U);
  EXPECT_EQ(challenges[0].scheme, "negotiate");
  EXPECT_EQ(challenges[1].scheme, "bearer");
  EXPECT_TRUE(challenges[1].params.empty());
}

TEST(WwwAuthenticate, AnUnterminatedQuoteEndsTheParse) {
  auto challenges = parse_www_authenticate(R"(Bearer realm="x", error="invalid_token)");
  ASSERT_EQ(challenges.size(), 1U);
  EXPECT_EQ(challenges[0].param("realm"), "x");
  EXPECT_TRUE(challenges[0].param("error").empty());
}

TEST(Decide, InvalidTokenOrNoErrorOn401Renews) {
  EXPECT_EQ(
      decide(401, R"(Bearer resource_metadata="http://x/.well-known/oauth-protected-resource/mcp")").action,
      ChallengeAction::kRenew);
  EXPECT_EQ(decide(401, R"(Bearer error="invalid_token", error_description="expired")").action,
            ChallengeAction::kRenew);
  EXPECT_EQ(decide(401, "").action, ChallengeAction::kRenew);
}

TEST(Decide, InsufficientClaimsStepsUpWithTheDecodedClaims) {
  const std::string header =
      R"(Bearer realm="", authorization_uri="https://login.microsoftonline.com/common/oauth2/authorize", )"
      R"(error="insufficient_claims", claims=")" +
      std::string(kClaimsB64) + R"(")";
  auto decision = decide(401, header);
  EXPECT_EQ(decision.action, ChallengeAction::kStepUp);
  EXPECT_EQ(decision.claims, kClaimsJson);
  EXPECT_EQ(decision.error, "insufficient_claims");
}

TEST(Decide, ClaimsAreReadInEitherBase64AlphabetPaddedOrNot) {
  EXPECT_EQ(decode_claims(std::string(kClaimsB64) + "=="), kClaimsJson);
  EXPECT_EQ(decode_claims("eyJhIjoiPz8_In0"), R"({"a":"???"})");   // URL-safe
  EXPECT_EQ(decode_claims("eyJhIjoiPz8/In0="), R"({"a":"???"})");  // standard, padded
}

TEST(Decide, AClaimsChallengeThatIsNotBase64JsonIsNotFollowed) {
  EXPECT_FALSE(decode_claims("not base64!"));
  EXPECT_FALSE(decode_claims("WzFd"));  // [1]: not an object
  EXPECT_FALSE(decode_claims(""));
  EXPECT_EQ(decide(401, R"(Bearer error="insufficient_claims", claims="%%%")").action,
            ChallengeAction::kGiveUp);
  EXPECT_EQ(decide(401, R"(Bearer error="insufficient_claims")").action, ChallengeAction::kGiveUp);
}

TEST(Decide, InsufficientScopeAndOther403sGiveUp) {
  EXPECT_EQ(decide(403, R"(Bearer error="insufficient_scope", scope="api://x/y")").action,
            ChallengeAction::kGiveUp);
  EXPECT_EQ(decide(403, "").action, ChallengeAction::kGiveUp);
  EXPECT_EQ(decide(401, R"(Bearer error="invalid_request")").action, ChallengeAction::kGiveUp);
}

}  // namespace
}  // namespace deputy::client
