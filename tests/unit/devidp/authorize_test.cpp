// The authorization endpoint and the grants that follow it: sign-in, codes, PKCE, id_token, refresh rotation,
// and every refusal, shown or redirected as Entra does.
#include "authorize_fixture.hpp"

#include "deputy/auth/base64url.hpp"
#include "deputy/devidp/authorize_endpoint.hpp"
#include "deputy/devidp/grant_store.hpp"

#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <array>
#include <map>
#include <optional>

namespace deputy::devidp::testing {
namespace {

class Authorize : public ::testing::Test {
 protected:
  HttpAnswer get(const Fields& fields, std::string_view tenant = kTenantId) { return browser.open(fields, tenant); }
  HttpAnswer sign_in(const Fields& fields, std::string_view login, std::string_view password) {
    return browser.sign_in(fields, login, password);
  }
  /// Signs `user` in (in a fresh browser) and returns the code.
  std::string code_for(std::string_view user, const Fields& fields = authorization()) {
    Browser fresh(idp.provider());
    const auto answer = fresh.sign_in(fields, std::string(user) + "@deputy-dev.test", "dev-password-" + std::string(user));
    EXPECT_EQ(answer.status, 302U) << answer.body;
    return std::string(redirect_params(answer).value("code"));
  }
  HttpAnswer redeem(std::string code, Fields extra = {}) {
    Fields fields{{"grant_type", "authorization_code"},
                  {"client_id", std::string(kClientId)},
                  {"client_secret", std::string(kClientSecret)},
                  {"code", std::move(code)},
                  {"redirect_uri", std::string(kRedirect)},
                  {"code_verifier", std::string(kVerifier)},
                  {"scope", kServerScope + " openid profile offline_access"},
                  {"client_info", "1"}};
    for (auto& [name, value] : extra) {
      std::erase_if(fields, [&](const auto& field) { return field.first == name; });
      if (value != "<absent>") fields.emplace_back(name, value);
    }
    return idp.post(fields);
  }
  HttpAnswer refresh(std::string token, std::string scope = "") {
    return idp.post({{"grant_type", "refresh_token"},
                     {"client_id", std::string(kClientId)},
                     {"client_secret", std::string(kClientSecret)},
                     {"refresh_token", std::move(token)},
                     {"scope", scope.empty() ? kServerScope + " openid profile offline_access" : scope}});
  }
  static std::uint32_t code_of(const HttpAnswer& answer) {
    return TestProvider::body(answer).at("error_codes").as_array().at(0).to_number<std::uint32_t>();
  }

  TestProvider idp;
  Browser browser{idp.provider()};
};

TEST_F(Authorize, TheSignInPageKeepsTheRequestServerSide) {
  const auto answer = get(authorization({{"state", "\"><script>alert(1)</script>"}, {"login_hint", "bob@deputy-dev.test"}}));
  ASSERT_EQ(answer.status, 200U) << answer.body;
  EXPECT_EQ(answer.content_type, "text/html; charset=utf-8");
  EXPECT_NE(answer.body.find("id=\"password\" name=\"password\""), std::string::npos);
  EXPECT_NE(answer.body.find("id=\"username\" name=\"username\" value=\"bob@deputy-dev.test\""), std::string::npos);
  // The request stays server-side: the form carries its CSRF token, not the parameters.
  EXPECT_EQ(input_value(answer.body, "csrf").size(), 43U);
  EXPECT_EQ(answer.body.find("name=\"state\""), std::string::npos);
  EXPECT_NE(answer.body.find("to continue to deputy MCP client"), std::string::npos);
  EXPECT_NE(answer.body.find("action=\"https://idp.test:8443/" + std::string(kTenantId) + "/oauth2/v2.0/authorize\""),
            std::string::npos);
  EXPECT_EQ(answer.body.find("<script>"), std::string::npos);  // the state stays server-side, not on the page
  const bool framing_refused = std::ranges::any_of(answer.headers, [](const auto& header) {
    return header.first == "X-Frame-Options" && header.second == "DENY";
  });
  EXPECT_TRUE(framing_refused);
}

TEST_F(Authorize, SignInSendsAOneTimeCodeWithStateAndClientInfo) {
  const auto answer = sign_in(authorization(), "alice@deputy-dev.test", "dev-password-alice");
  ASSERT_EQ(answer.status, 302U) << answer.body;
  const auto params = redirect_params(answer);
  EXPECT_EQ(params.value("code").size(), 43U);
  EXPECT_EQ(params.value("state"), "s-123");
  EXPECT_TRUE(is_guid(params.value("session_state")));
  auto info = auth::base64url_decode(params.value("client_info"));
  ASSERT_TRUE(info);
  EXPECT_EQ(str(json::parse(*info).at("uid")), "b4822fd4-5a21-4902-90ad-7430c1db4dd9");
}

TEST_F(Authorize, FormPostModePostsTheCodeToTheRedirectUri) {
  const auto answer = sign_in(authorization({{"response_mode", "form_post"}}), "alice@deputy-dev.test", "dev-password-alice");
  ASSERT_EQ(answer.status, 200U);
  EXPECT_NE(answer.body.find("<form method=\"post\" action=\"http://localhost:8100/auth/callback\">"), std::string::npos);
  EXPECT_NE(answer.body.find("name=\"code\""), std::string::npos);
  EXPECT_NE(answer.body.find("name=\"state\" value=\"s-123\""), std::string::npos);
}

TEST_F(Authorize, AWrongPasswordShowsThePageAgainWithoutACode) {
  for (auto [login, password] : {std::pair{"alice@deputy-dev.test", "dev-password-bob"},
                                 std::pair{"mallory@deputy-dev.test", "x"}, std::pair{"alice@deputy-dev.test", ""},
                                 std::pair{"mallory@deputy-dev.test", "dev-password-alice"}}) {
    SCOPED_TRACE(login);
    const auto answer = sign_in(authorization(), login, password);
    EXPECT_EQ(answer.status, 200U);
    // The same words whichever part was wrong: the page does not tell which accounts exist.
    EXPECT_NE(answer.body.find("<p class=\"error\" role=\"alert\">Your account or password is incorrect. "
                               "(AADSTS50126)</p>"),
              std::string::npos);
    EXPECT_EQ(answer.body.find("dev-password"), std::string::npos);  // never echoed
    EXPECT_NE(answer.body.find("value=\"" + std::string(login) + "\""), std::string::npos);
    EXPECT_FALSE(header(answer, "Location"));
    EXPECT_FALSE(browser.cookies().contains(std::string(kSessionCookie)));
    // The page shown again works.
    const auto retried = browser.submit(answer, {{"username", "alice@deputy-dev.test"}, {"password", "dev-password-alice"}});
    EXPECT_EQ(retried.status, 302U) << retried.body;
    browser.cookies().clear();
  }
}

TEST_F(Authorize, RefusalsBeforeTheRedirectUriIsTrustedAreShownNeverRedirected) {
  struct Case {
    std::string name;
    Fields fields;
    std::uint32_t code;
    std::string tenant = std::string(kTenantId);
  };
  const std::vector<Case> cases = {
      {"no client_id", authorization({{"client_id", "<absent>"}}), 900144},
      {"unknown client", authorization({{"client_id", "11111111-2222-4333-8444-555555555555"}}), 700016},
      {"no redirect_uri", authorization({{"redirect_uri", "<absent>"}}), 900144},
      {"unregistered redirect_uri", authorization({{"redirect_uri", "https://evil.example/callback"}}), 50011},
      {"a registered URI's prefix", authorization({{"redirect_uri", "http://localhost:8100/auth/callback/x"}}), 50011},
      {"another app's redirect", authorization({{"client_id", std::string(kServerId)}}), 50011},
      {"unknown tenant", authorization(), 90002, "contoso.example"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    const auto answer = get(c.fields, c.tenant);
    EXPECT_EQ(answer.status, 400U);
    EXPECT_NE(answer.body.find("AADSTS" + std::to_string(c.code) + ":"), std::string::npos) << answer.body;
    EXPECT_TRUE(std::ranges::none_of(answer.headers, [](const auto& h) { return h.first == "Location"; }));
    EXPECT_EQ(answer.body.find("evil.example/callback\""), std::string::npos);
  }
}

TEST_F(Authorize, LaterRefusalsGoBackToTheClientWithState) {
  struct Case {
    std::string name;
    Fields fields;
    std::string error;
    std::uint32_t code;
  };
  const std::vector<Case> cases = {
      {"no response_type", authorization({{"response_type", "<absent>"}}), "invalid_request", 900144},
      {"implicit flow", authorization({{"response_type", "token"}}), "unsupported_response_type", 700054},
      {"fragment mode", authorization({{"response_mode", "fragment"}}), "invalid_request", 9002313},
      {"no scope", authorization({{"scope", "<absent>"}}), "invalid_request", 900144},
      {"unknown scope", authorization({{"scope", "api://" + std::string(kServerId) + "/admin"}}), "invalid_scope", 70011},
      {"unknown resource", authorization({{"scope", "api://nowhere/.default"}}), "invalid_resource", 500011},
      {"only profile", authorization({{"scope", "profile"}}), "invalid_scope", 70011},
      {"plain PKCE", authorization({{"code_challenge_method", "plain"}}), "invalid_request", 9002313},
      {"challenge without method", authorization({{"code_challenge_method", "<absent>"}}), "invalid_request", 9002313},
      {"short challenge", authorization({{"code_challenge", "abc"}}), "invalid_request", 9002313},
      {"prompt=none without a session", authorization({{"prompt", "none"}}), "login_required", 50058},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    const auto answer = get(c.fields);
    ASSERT_EQ(answer.status, 302U) << answer.body;
    const auto params = redirect_params(answer);
    EXPECT_EQ(params.value("error"), c.error);
    EXPECT_TRUE(params.value("error_description").starts_with("AADSTS" + std::to_string(c.code) + ": "))
        << params.value("error_description");
    EXPECT_EQ(params.value("state"), "s-123");
    EXPECT_FALSE(params.get("code"));
  }
}

TEST_F(Authorize, APostOfTheRequestsParametersIsANewRequest) {
  // Without a CSRF token a POST is an authorization request like a GET (Entra takes both): a password posted
  // along with the parameters signs nobody in.
  Fields fields = authorization();
  fields.emplace_back("username", "alice@deputy-dev.test");
  fields.emplace_back("password", "dev-password-alice");
  const auto answer = browser.post(fields);
  EXPECT_EQ(answer.status, 200U);
  EXPECT_NE(answer.body.find("id=\"password\""), std::string::npos);
  EXPECT_FALSE(header(answer, "Location"));
  // And it is checked like one.
  const auto evil = browser.post(authorization({{"redirect_uri", "https://evil.example/callback"}}));
  EXPECT_EQ(evil.status, 400U);
  EXPECT_NE(evil.body.find("AADSTS50011"), std::string::npos);
}

TEST_F(Authorize, TheCodeRedeemsForAccessIdAndRefreshTokens) {
  const auto answer = redeem(code_for("alice"));
  ASSERT_EQ(answer.status, 200U) << answer.body;
  const auto body = TestProvider::body(answer);
  EXPECT_EQ(str(body.at("scope")), kServerScope);
  const auto access = payload_of(body.at("access_token").as_string());
  EXPECT_EQ(str(access.at("aud")), kServerId);
  EXPECT_EQ(str(access.at("azp")), kClientId);
  EXPECT_EQ(access.at("scp"), "access_as_user");
  EXPECT_EQ(str(access.at("preferred_username")), "alice@deputy-dev.test");
  const auto id = payload_of(body.at("id_token").as_string());
  EXPECT_EQ(str(id.at("aud")), kClientId);
  EXPECT_EQ(id.at("nonce"), "n-456");
  EXPECT_EQ(id.at("ver"), "2.0");
  EXPECT_EQ(str(id.at("iss")), std::string(kBaseUrl) + "/" + std::string(kTenantId) + "/v2.0");
  EXPECT_EQ(id.at("sub"), access.at("sub"));  // both pairwise for the client
  EXPECT_EQ(body.at("refresh_token").as_string().size(), 43U);
  EXPECT_TRUE(body.contains("client_info"));

  // And the access token is one the server app takes as an On-Behalf-Of assertion.
  const auto obo = idp.post({{"grant_type", std::string(kJwtBearerGrant)},
                             {"client_id", std::string(kServerId)},
                             {"client_secret", std::string(kServerSecret)},
                             {"assertion", std::string(body.at("access_token").as_string())},
                             {"scope", "https://graph.microsoft.com/.default"},
                             {"requested_token_use", "on_behalf_of"}});
  EXPECT_EQ(obo.status, 200U) << obo.body;
}

TEST_F(Authorize, CodeRedemptionRefusals) {
  const auto reused = code_for("alice");
  ASSERT_EQ(redeem(reused).status, 200U);
  EXPECT_EQ(code_of(redeem(reused)), 54005U);  // one-time

  EXPECT_EQ(code_of(redeem(code_for("alice"), {{"code_verifier", "<absent>"}})), 501481U);
  EXPECT_EQ(code_of(redeem(code_for("alice"), {{"code_verifier", std::string(kVerifier.substr(1)) + "A"}})), 501481U);
  EXPECT_EQ(code_of(redeem(code_for("alice"), {{"redirect_uri", "http://localhost:8100/other"}})), 500112U);
  EXPECT_EQ(code_of(redeem("not-a-code-we-issued")), 9002313U);
  EXPECT_EQ(code_of(redeem(code_for("alice"), {{"client_secret", "<absent>"}})), 7000218U);
  EXPECT_EQ(code_of(redeem(code_for("alice"), {{"code", "<absent>"}})), 900144U);

  // Another client cannot spend the code, and trying does not burn it.
  const auto code = code_for("bob");
  const auto stolen = idp.post({{"grant_type", "authorization_code"},
                                {"client_id", std::string(kServerId)},
                                {"client_secret", std::string(kServerSecret)},
                                {"code", code},
                                {"redirect_uri", std::string(kRedirect)},
                                {"code_verifier", std::string(kVerifier)}});
  EXPECT_EQ(code_of(stolen), 70000U);
  EXPECT_EQ(redeem(code).status, 200U);

  // Ten minutes, then it is gone.
  const auto late = code_for("alice");
  idp.advance(kCodeLifetime + std::chrono::seconds(1));
  EXPECT_EQ(code_of(redeem(late)), 70008U);
}

TEST_F(Authorize, RefreshTokensRotate) {
  const auto first = TestProvider::body(redeem(code_for("bob")));
  const std::string token(first.at("refresh_token").as_string());
  const auto renewed = refresh(token);
  ASSERT_EQ(renewed.status, 200U) << renewed.body;
  const auto body = TestProvider::body(renewed);
  const std::string successor(body.at("refresh_token").as_string());
  EXPECT_NE(successor, token);
  EXPECT_EQ(str(payload_of(body.at("access_token").as_string()).at("preferred_username")), "bob@deputy-dev.test");
  EXPECT_TRUE(body.contains("id_token"));
  // The spent one is refused, the successor works.
  EXPECT_EQ(code_of(refresh(token)), 50173U);
  EXPECT_EQ(refresh(successor).status, 200U);
}

TEST_F(Authorize, ARefusedRefreshKeepsTheTokenUsable) {
  const std::string token(TestProvider::body(redeem(code_for("alice"))).at("refresh_token").as_string());
  // No consent for Graph: 65001, and the refresh token survives it.
  EXPECT_EQ(code_of(refresh(token, "https://graph.microsoft.com/User.Read offline_access")), 65001U);
  EXPECT_EQ(refresh(token).status, 200U);
}

TEST_F(Authorize, RefreshRefusals) {
  const std::string token(TestProvider::body(redeem(code_for("alice"))).at("refresh_token").as_string());
  EXPECT_EQ(code_of(refresh("garbage")), 9002313U);
  const auto by_server = idp.post({{"grant_type", "refresh_token"},
                                   {"client_id", std::string(kServerId)},
                                   {"client_secret", std::string(kServerSecret)},
                                   {"refresh_token", token},
                                   {"scope", kServerScope}});
  EXPECT_EQ(code_of(by_server), 70000U);
  idp.advance(kRefreshTokenLifetime + std::chrono::seconds(1));
  EXPECT_EQ(code_of(refresh(token)), 70008U);
}

TEST_F(Authorize, APublicClientMustUsePkce) {
  // A directory whose client is public: no secret, PKCE required, no credential at the token endpoint.
  auto directory = test_directory();
  for (auto& app : directory.applications) {
    if (app.key == "client") {
      app.secrets.clear();
      app.public_client = true;
    }
  }
  ProviderOptions options;
  options.base_url = kBaseUrl;
  options.now = [] { return kStart; };
  IdentityProvider provider(std::move(directory), SigningKeys(test_keys().signing), std::move(options));
  const std::string without_pkce = encode(authorization({{"code_challenge", "<absent>"}, {"code_challenge_method", "<absent>"}}));
  const auto refused = authorize(provider, {.tenant = kTenantId, .query = without_pkce});
  ASSERT_EQ(refused.status, 302U);
  EXPECT_TRUE(redirect_params(refused).value("error_description").starts_with("AADSTS9002325: "));

  Browser public_browser(provider);
  const auto signed_in = public_browser.sign_in(authorization(), "carol@deputy-dev.test", "dev-password-carol");
  ASSERT_EQ(signed_in.status, 302U) << signed_in.body;
  const std::string token_body = encode({{"grant_type", "authorization_code"},
                                         {"client_id", std::string(kClientId)},
                                         {"code", std::string(redirect_params(signed_in).value("code"))},
                                         {"redirect_uri", std::string(kRedirect)},
                                         {"code_verifier", std::string(kVerifier)}});
  const auto answer = handle_token_request(
      provider, {.tenant = kTenantId, .content_type = "application/x-www-form-urlencoded", .body = token_body});
  ASSERT_EQ(answer.status, 200U) << answer.body;
  EXPECT_EQ(payload_of(TestProvider::body(answer).at("access_token").as_string()).at("azpacr"), "0");
}

TEST(GrantStore, CodesAreOneTimeAndKeptByHashOnly) {
  GrantStore store;
  std::uint8_t counter = 0;
  const Random random = [&](std::span<unsigned char> out) {
    for (auto& byte : out) byte = ++counter;
  };
  const auto code = store.issue_code({.client_id = "c", .expires_at = kStart + kCodeLifetime}, random, kStart);
  EXPECT_EQ(store.redeem_code(code, "other", kStart).error(), RedeemError::kWrongClient);
  EXPECT_TRUE(store.redeem_code(code, "c", kStart));
  EXPECT_EQ(store.redeem_code(code, "c", kStart).error(), RedeemError::kAlreadyRedeemed);
  EXPECT_EQ(store.redeem_code("nope", "c", kStart).error(), RedeemError::kUnknown);
}

}  // namespace
}  // namespace deputy::devidp::testing
