// PKCE, state and nonce, the authorize URL, and reading the redirect back.
#include "deputy/client/authorization_request.hpp"

#include "deputy/auth/base64url.hpp"

#include <gtest/gtest.h>

#include <set>

namespace deputy::client {
namespace {

/// Bytes 0, 1, 2, ... continuing across calls: repeatable, and different for each secret.
Random counting() {
  auto next = std::make_shared<unsigned char>(0);
  return [next](std::span<unsigned char> out) {
    for (auto& byte : out) byte = (*next)++;
  };
}

TEST(FlowSecrets, AreThirtyTwoRandomBytesInBase64urlAndDifferFromEachOther) {
  const auto secrets = make_flow_secrets(counting());
  for (const auto* secret : {&secrets.code_verifier, &secrets.state, &secrets.nonce}) {
    EXPECT_EQ(secret->size(), 43U);  // RFC 7636: 43..128 characters
    auto decoded = auth::base64url_decode(*secret);
    ASSERT_TRUE(decoded);
    EXPECT_EQ(decoded->size(), kSecretBytes);
  }
  EXPECT_NE(secrets.code_verifier, secrets.state);
  EXPECT_NE(secrets.state, secrets.nonce);
  // The first secret is bytes 0..31.
  std::string expected;
  for (int i = 0; i < 32; ++i) expected += static_cast<char>(i);
  EXPECT_EQ(secrets.code_verifier, auth::base64url_encode(expected));
}

TEST(FlowSecrets, FromOpenSslAreNeverRepeated) {
  std::set<std::string> seen;
  for (int i = 0; i < 100; ++i) seen.insert(random_secret(openssl_random));
  EXPECT_EQ(seen.size(), 100U);
}

TEST(Pkce, S256MatchesRfc7636AppendixB) {
  EXPECT_EQ(s256_challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
}

TEST(AuthorizeUrl, CarriesTheChallengeNotTheVerifier) {
  AuthorizeParameters parameters{.authorization_endpoint = "https://login.example/t/oauth2/v2.0/authorize",
                                 .client_id = "client-id",
                                 .redirect_uri = "http://localhost:8100/auth/callback",
                                 .scope = "api://server/access_as_user openid profile offline_access",
                                 .secrets = {.code_verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk",
                                             .state = "the-state",
                                             .nonce = "the-nonce"},
                                 .prompt = "select_account",
                                 .claims = R"({"access_token":{"acrs":{"essential":true,"value":"c1"}}})"};
  const auto url = authorize_url(parameters);
  EXPECT_TRUE(url.starts_with(
      "https://login.example/t/oauth2/v2.0/authorize?client_id=client-id&response_type=code&"));
  EXPECT_NE(url.find("redirect_uri=http%3A%2F%2Flocalhost%3A8100%2Fauth%2Fcallback"), std::string::npos)
      << url;
  EXPECT_NE(url.find("scope=api%3A%2F%2Fserver%2Faccess_as_user%20openid%20profile%20offline_access"),
            std::string::npos);
  EXPECT_NE(url.find("code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&code_challenge_method=S256"),
            std::string::npos);
  EXPECT_EQ(url.find("dBjftJeZ4CVP"), std::string::npos);  // the verifier stays here
  EXPECT_NE(url.find("state=the-state"), std::string::npos);
  EXPECT_NE(url.find("nonce=the-nonce"), std::string::npos);
  EXPECT_NE(url.find("prompt=select_account"), std::string::npos);
  EXPECT_NE(url.find("claims=%7B%22access_token%22"), std::string::npos);
  EXPECT_EQ(url.find("login_hint"), std::string::npos);  // empty values are left out
}

TEST(Redirect, CodeStateAndErrorsAreRead) {
  auto ok = parse_redirect_query("code=0.AX%2Bb&state=s1&session_state=x");
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->code, "0.AX+b");
  EXPECT_EQ(ok->state, "s1");
  EXPECT_TRUE(ok->error.empty());
  auto refused =
      parse_redirect_query("error=consent_required&error_description=AADSTS65001%3A+no+consent&state=s1");
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->error, "consent_required");
  EXPECT_EQ(refused->error_description, "AADSTS65001: no consent");
  EXPECT_FALSE(parse_redirect_query("code=%zz"));
  EXPECT_FALSE(parse_redirect_query("code=%4"));
  auto empty = parse_redirect_query("");
  ASSERT_TRUE(empty);
  EXPECT_TRUE(empty->code.empty());
}

TEST(Redirect, StatesCompareExactly) {
  EXPECT_TRUE(constant_time_equal("abc", "abc"));
  EXPECT_FALSE(constant_time_equal("abc", "abd"));
  EXPECT_FALSE(constant_time_equal("abc", "ab"));
  EXPECT_FALSE(constant_time_equal("", "a"));
}

}  // namespace
}  // namespace deputy::client
