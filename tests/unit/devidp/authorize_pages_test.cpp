// The authorization endpoint's pages beyond the password: the sign-in session cookie (single sign-on,
// prompt=none, prompt=login), the account picker, the consent page, the MFA step after a claims challenge,
// and the forms' CSRF tokens, each tried the way an attacker would.
#include "authorize_fixture.hpp"

#include "deputy/devidp/authorization_request.hpp"
#include "deputy/devidp/pages.hpp"

#include <gtest/gtest.h>

namespace deputy::devidp::testing {
namespace {

const std::string kGraphUserRead = "https://graph.microsoft.com/User.Read";
/// Carol's Conditional Access policy (examples/dev-directory.yaml).
constexpr std::string_view kCarolPolicy = "f80160ba-329b-422e-beb7-51afef74a32a";

std::string capolids_challenge() {
  return R"({"access_token":{"capolids":{"essential":true,"values":[")" + std::string(kCarolPolicy) +
         R"("]}}})";
}

bool shows(const HttpAnswer& answer, std::string_view id) {
  return answer.status == 200 && answer.body.find("id=\"" + std::string(id) + "\"") != std::string::npos;
}

class AuthorizePages : public ::testing::Test {
 protected:
  HttpAnswer redeem(const HttpAnswer& redirect,
                    std::string scope = kServerScope + " openid profile offline_access") {
    return idp.post({{"grant_type", "authorization_code"},
                     {"client_id", std::string(kClientId)},
                     {"client_secret", std::string(kClientSecret)},
                     {"code", std::string(redirect_params(redirect).value("code"))},
                     {"redirect_uri", std::string(kRedirect)},
                     {"code_verifier", std::string(kVerifier)},
                     {"scope", std::move(scope)}});
  }
  json::object access_claims(const HttpAnswer& redirect) {
    const auto answer = redeem(redirect);
    EXPECT_EQ(answer.status, 200U) << answer.body;
    if (answer.status != 200) return {};
    return payload_of(TestProvider::body(answer).at("access_token").as_string());
  }
  HttpAnswer on_behalf_of(const std::string& assertion) {
    return idp.post({{"grant_type", std::string(kJwtBearerGrant)},
                     {"client_id", std::string(kServerId)},
                     {"client_secret", std::string(kServerSecret)},
                     {"assertion", assertion},
                     {"scope", "https://graph.microsoft.com/.default"},
                     {"requested_token_use", "on_behalf_of"}});
  }
  static std::string error_description(const HttpAnswer& answer) {
    return std::string(redirect_params(answer).value("error_description"));
  }

  TestProvider idp;
  Browser browser{idp.provider()};
};

// --- The sign-in session

TEST_F(AuthorizePages, ASignInSetsAnOpaqueSessionCookie) {
  const auto answer = browser.sign_in(authorization(), "alice@deputy-dev.test", "dev-password-alice");
  ASSERT_EQ(answer.status, 302U);
  std::vector<std::string> cookies;
  for (const auto& [name, value] : answer.headers) {
    if (name == "Set-Cookie") cookies.push_back(value);
  }
  ASSERT_EQ(cookies.size(), 1U);
  const std::string& cookie = cookies.front();
  EXPECT_TRUE(cookie.starts_with(std::string(kSessionCookie) + "=")) << cookie;
  EXPECT_NE(cookie.find("; Path=/" + std::string(kTenantId) + ";"), std::string::npos) << cookie;
  EXPECT_NE(cookie.find("; Secure"), std::string::npos);
  EXPECT_NE(cookie.find("; HttpOnly"), std::string::npos);
  EXPECT_NE(cookie.find("; SameSite=None"), std::string::npos);
  EXPECT_NE(cookie.find("; Max-Age=28800"), std::string::npos);
  // Opaque: 32 random bytes, nothing of the user in it.
  const auto& id = browser.cookies().at(std::string(kSessionCookie));
  EXPECT_EQ(id.size(), 43U);
  EXPECT_EQ(id.find("alice"), std::string::npos);
  // The page that asked for the password bound the request to this browser.
  EXPECT_EQ(browser.cookies().at(std::string(kBrowserCookie)).size(), 43U);
}

TEST_F(AuthorizePages, TheSessionSignsInWithoutThePassword) {
  ASSERT_EQ(browser.sign_in(authorization(), "alice@deputy-dev.test", "dev-password-alice").status, 302U);
  const auto again = browser.open(authorization({{"state", "second"}}));
  ASSERT_EQ(again.status, 302U) << again.body;
  EXPECT_EQ(redirect_params(again).value("state"), "second");
  const auto claims = access_claims(again);
  EXPECT_EQ(str(claims.at("preferred_username")), "alice@deputy-dev.test");
  EXPECT_EQ(claims.at("amr"), json::array({"pwd"}));
}

TEST_F(AuthorizePages, PromptNoneGivesACodeWithASessionAndLoginRequiredWithout) {
  const auto without = browser.open(authorization({{"prompt", "none"}}));
  ASSERT_EQ(without.status, 302U);
  EXPECT_EQ(redirect_params(without).value("error"), "login_required");
  EXPECT_TRUE(
      error_description(without).starts_with("AADSTS50058: A silent sign-in request was sent but no user is "
                                             "signed in."))
      << error_description(without);

  ASSERT_EQ(browser.sign_in(authorization(), "bob@deputy-dev.test", "dev-password-bob").status, 302U);
  const auto with = browser.open(authorization({{"prompt", "none"}}));
  ASSERT_EQ(with.status, 302U);
  EXPECT_EQ(redirect_params(with).value("state"), "s-123");
  EXPECT_EQ(str(access_claims(with).at("preferred_username")), "bob@deputy-dev.test");

  // login_hint naming someone not signed in: login_required.
  const auto other =
      browser.open(authorization({{"prompt", "none"}, {"login_hint", "alice@deputy-dev.test"}}));
  EXPECT_EQ(redirect_params(other).value("error"), "login_required");
}

TEST_F(AuthorizePages, PromptLoginAsksForThePasswordDespiteTheSession) {
  ASSERT_EQ(browser.sign_in(authorization(), "alice@deputy-dev.test", "dev-password-alice").status, 302U);
  const auto page = browser.open(authorization({{"prompt", "login"}}));
  EXPECT_TRUE(shows(page, "password"));
}

TEST_F(AuthorizePages, TheSessionExpiresAfterEightHours) {
  ASSERT_EQ(browser.sign_in(authorization(), "alice@deputy-dev.test", "dev-password-alice").status, 302U);
  idp.advance(std::chrono::seconds(kSessionLifetime) - std::chrono::seconds(1));
  EXPECT_EQ(browser.open(authorization({{"prompt", "none"}})).status, 302U);
  EXPECT_TRUE(redirect_params(browser.open(authorization({{"prompt", "none"}}))).get("code"));
  idp.advance(std::chrono::seconds(2));
  EXPECT_EQ(redirect_params(browser.open(authorization({{"prompt", "none"}}))).value("error"),
            "login_required");
}

TEST_F(AuthorizePages, ASessionIdIsWorthNothingOutsideTheStoreOrAfterRotation) {
  // A made-up id: no session.
  browser.cookies()[std::string(kSessionCookie)] = "made-up";
  EXPECT_EQ(redirect_params(browser.open(authorization({{"prompt", "none"}}))).value("error"),
            "login_required");
  // An id planted before sign-in is replaced at sign-in; the old one stays empty.
  const std::string planted = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
  browser.cookies()[std::string(kSessionCookie)] = planted;
  ASSERT_EQ(browser.sign_in(authorization(), "alice@deputy-dev.test", "dev-password-alice").status, 302U);
  EXPECT_NE(browser.cookies().at(std::string(kSessionCookie)), planted);
  Browser attacker(idp.provider());
  attacker.cookies()[std::string(kSessionCookie)] = planted;
  EXPECT_EQ(redirect_params(attacker.open(authorization({{"prompt", "none"}}))).value("error"),
            "login_required");
}

// --- The account picker

TEST_F(AuthorizePages, SeveralAccountsShowThePicker) {
  ASSERT_EQ(browser.sign_in(authorization(), "alice@deputy-dev.test", "dev-password-alice").status, 302U);
  ASSERT_EQ(
      browser.sign_in(authorization({{"prompt", "login"}}), "bob@deputy-dev.test", "dev-password-bob").status,
      302U);
  const auto picker = browser.open(authorization());
  ASSERT_EQ(picker.status, 200U);
  EXPECT_NE(picker.body.find("data-account=\"alice@deputy-dev.test\""), std::string::npos) << picker.body;
  EXPECT_NE(picker.body.find("data-account=\"bob@deputy-dev.test\""), std::string::npos);
  EXPECT_TRUE(shows(picker, "other"));
  const auto chosen = browser.submit(picker, {{"account", "alice@deputy-dev.test"}});
  ASSERT_EQ(chosen.status, 302U) << chosen.body;
  EXPECT_EQ(str(access_claims(chosen).at("preferred_username")), "alice@deputy-dev.test");

  // login_hint picks without the picker; prompt=none without one cannot choose.
  const auto hinted = browser.open(authorization({{"login_hint", "BOB@deputy-dev.test"}}));
  ASSERT_EQ(hinted.status, 302U);
  EXPECT_EQ(str(access_claims(hinted).at("preferred_username")), "bob@deputy-dev.test");
  const auto silent = browser.open(authorization({{"prompt", "none"}}));
  EXPECT_EQ(redirect_params(silent).value("error"), "interaction_required");
  EXPECT_TRUE(error_description(silent).starts_with("AADSTS16000: "));
}

TEST_F(AuthorizePages, SelectAccountShowsThePickerEvenForOneAccount) {
  ASSERT_EQ(browser.sign_in(authorization(), "alice@deputy-dev.test", "dev-password-alice").status, 302U);
  const auto picker = browser.open(authorization({{"prompt", "select_account"}}));
  ASSERT_TRUE(shows(picker, "other"));
  // "Use another account": the password page, and the new account joins the session.
  const auto password = browser.submit(picker, {{"account", ""}});
  ASSERT_TRUE(shows(password, "password"));
  const auto signed_in =
      browser.submit(password, {{"username", "carol@deputy-dev.test"}, {"password", "dev-password-carol"}});
  ASSERT_EQ(signed_in.status, 302U);
  const auto both = browser.open(authorization({{"prompt", "select_account"}}));
  EXPECT_NE(both.body.find("data-account=\"carol@deputy-dev.test\""), std::string::npos);
  EXPECT_NE(both.body.find("data-account=\"alice@deputy-dev.test\""), std::string::npos);
}

TEST_F(AuthorizePages, ThePickerOnlyChoosesAmongTheBrowsersOwnAccounts) {
  ASSERT_EQ(browser.sign_in(authorization(), "alice@deputy-dev.test", "dev-password-alice").status, 302U);
  const auto picker = browser.open(authorization({{"prompt", "select_account"}}));
  // bob is not signed in here: naming him leads to his password, not his code.
  const auto forged = browser.submit(picker, {{"account", "bob@deputy-dev.test"}});
  EXPECT_TRUE(shows(forged, "password"));
  EXPECT_NE(forged.body.find("value=\"bob@deputy-dev.test\""), std::string::npos);
  EXPECT_FALSE(header(forged, "Location"));
}

// --- Consent

TEST_F(AuthorizePages, MissingConsentShowsTheConsentPageAndAcceptRecordsIt) {
  const auto fields = authorization({{"scope", kGraphUserRead + " openid offline_access"}});
  const auto consent = browser.sign_in(fields, "alice@deputy-dev.test", "dev-password-alice");
  ASSERT_TRUE(shows(consent, "accept")) << consent.body;
  EXPECT_TRUE(shows(consent, "cancel"));
  EXPECT_NE(consent.body.find("data-scope=\"" + kGraphUserRead + "\""), std::string::npos);
  EXPECT_NE(consent.body.find("deputy MCP client"), std::string::npos);
  const auto accepted = browser.submit(consent, {{"consent", "accept"}});
  ASSERT_EQ(accepted.status, 302U) << accepted.body;
  const auto answer = redeem(accepted, kGraphUserRead + " openid offline_access");
  ASSERT_EQ(answer.status, 200U) << answer.body;
  const auto body = TestProvider::body(answer);
  EXPECT_EQ(payload_of(body.at("access_token").as_string()).at("scp"), "User.Read");

  // Recorded for alice and this client: the next request asks nothing, and the token endpoint sees it too.
  EXPECT_EQ(browser.open(fields).status, 302U);
  const auto refreshed = idp.post({{"grant_type", "refresh_token"},
                                   {"client_id", std::string(kClientId)},
                                   {"client_secret", std::string(kClientSecret)},
                                   {"refresh_token", std::string(body.at("refresh_token").as_string())},
                                   {"scope", kGraphUserRead}});
  EXPECT_EQ(refreshed.status, 200U) << refreshed.body;
  const auto& directory = idp.provider().directory();
  EXPECT_EQ(directory.consented_scopes(*directory.find_app("client"), *directory.find_app("graph"),
                                       *directory.find_user("alice")),
            std::vector<std::string>{"User.Read"});
  // Not for bob.
  EXPECT_TRUE(directory
                  .consented_scopes(*directory.find_app("client"), *directory.find_app("graph"),
                                    *directory.find_user("bob"))
                  .empty());
  Browser bobs(idp.provider());
  EXPECT_TRUE(shows(bobs.sign_in(fields, "bob@deputy-dev.test", "dev-password-bob"), "accept"));
}

TEST_F(AuthorizePages, CancelSendsAccessDeniedAndRecordsNothing) {
  const auto fields = authorization({{"scope", kGraphUserRead}});
  const auto consent = browser.sign_in(fields, "alice@deputy-dev.test", "dev-password-alice");
  const auto cancelled = browser.submit(consent, {{"consent", "cancel"}});
  ASSERT_EQ(cancelled.status, 302U);
  const auto params = redirect_params(cancelled);
  EXPECT_EQ(params.value("error"), "access_denied");
  EXPECT_TRUE(error_description(cancelled).starts_with("AADSTS65004: User declined to consent to access the app."))
      << error_description(cancelled);
  EXPECT_EQ(params.value("error_subcode"), "cancel");
  EXPECT_EQ(params.value("state"), "s-123");
  EXPECT_FALSE(params.get("code"));
  // Still signed in, still not consented: prompt=none hears consent_required.
  const auto silent = browser.open(authorization({{"scope", kGraphUserRead}, {"prompt", "none"}}));
  EXPECT_EQ(redirect_params(silent).value("error"), "consent_required");
  EXPECT_TRUE(error_description(silent).starts_with("AADSTS65001: "));
}

TEST_F(AuthorizePages, PromptConsentShowsThePageEvenWhenConsented) {
  // The client is pre-authorized for the server's scope: no page, unless prompt=consent asks for it.
  const auto page =
      browser.sign_in(authorization({{"prompt", "consent"}}), "alice@deputy-dev.test", "dev-password-alice");
  ASSERT_TRUE(shows(page, "accept"));
  EXPECT_NE(page.body.find("data-scope=\"" + kServerScope + "\""), std::string::npos);
  EXPECT_EQ(browser.submit(page, {{"consent", "accept"}}).status, 302U);
}

// --- MFA

TEST_F(AuthorizePages, AClaimsChallengeLeadsThroughMfaToATokenTheOnBehalfOfTakes) {
  // Without MFA carol's token gets the On-Behalf-Of claims challenge.
  Browser first(idp.provider());
  const auto plain = first.sign_in(authorization(), "carol@deputy-dev.test", "dev-password-carol");
  ASSERT_EQ(plain.status, 302U);
  const auto token = redeem(plain);
  const auto refused = on_behalf_of(std::string(TestProvider::body(token).at("access_token").as_string()));
  ASSERT_EQ(refused.status, 400U);
  const std::string claims(TestProvider::body(refused).at("claims").as_string());

  // The client comes back with the challenge: password, then the MFA page.
  const auto mfa =
      browser.sign_in(authorization({{"claims", claims}}), "carol@deputy-dev.test", "dev-password-carol");
  ASSERT_TRUE(shows(mfa, "otp")) << mfa.body;
  EXPECT_NE(mfa.body.find("carol@deputy-dev.test"), std::string::npos);
  EXPECT_NE(mfa.body.find("000000"), std::string::npos);  // the dev hint
  const auto wrong = browser.submit(mfa, {{"otp", "123456"}});
  ASSERT_TRUE(shows(wrong, "otp"));
  EXPECT_NE(wrong.body.find("role=\"alert\""), std::string::npos);
  EXPECT_FALSE(header(wrong, "Location"));
  const auto passed = browser.submit(wrong, {{"otp", "000000"}});
  ASSERT_EQ(passed.status, 302U) << passed.body;
  const auto answer = redeem(passed);
  ASSERT_EQ(answer.status, 200U);
  const std::string access(TestProvider::body(answer).at("access_token").as_string());
  EXPECT_EQ(payload_of(access).at("amr"), json::array({"pwd", "mfa"}));
  const auto obo = on_behalf_of(access);
  EXPECT_EQ(obo.status, 200U) << obo.body;

  // The session remembers the MFA: the same challenge again needs no page, even with prompt=none.
  const auto silent = browser.open(authorization({{"claims", claims}, {"prompt", "none"}}));
  ASSERT_EQ(silent.status, 302U);
  EXPECT_EQ(access_claims(silent).at("amr"), json::array({"pwd", "mfa"}));
}

TEST_F(AuthorizePages, PromptNoneCannotStepUp) {
  ASSERT_EQ(browser.sign_in(authorization(), "alice@deputy-dev.test", "dev-password-alice").status, 302U);
  const auto silent = browser.open(
      authorization({{"claims", R"({"access_token":{"amr":{"values":["mfa"]}}})"}, {"prompt", "none"}}));
  EXPECT_EQ(redirect_params(silent).value("error"), "interaction_required");
  EXPECT_TRUE(error_description(silent).starts_with("AADSTS50076: "));
  // Interactively, the session's password stands and only the second factor is asked.
  const auto step_up =
      browser.open(authorization({{"claims", R"({"access_token":{"amr":{"values":["mfa"]}}})"}}));
  ASSERT_TRUE(shows(step_up, "otp"));
  EXPECT_EQ(access_claims(browser.submit(step_up, {{"otp", "000000"}})).at("amr"),
            json::array({"pwd", "mfa"}));
}

TEST_F(AuthorizePages, AUserWhoseConditionDemandsMfaForTheResourceGetsTheMfaPage) {
  // carol asks for Graph directly: MFA (her condition), then consent (the client has none for Graph).
  const auto mfa = browser.sign_in(authorization({{"scope", kGraphUserRead}}), "carol@deputy-dev.test",
                                   "dev-password-carol");
  ASSERT_TRUE(shows(mfa, "otp"));
  const auto consent = browser.submit(mfa, {{"otp", "000000"}});
  ASSERT_TRUE(shows(consent, "accept"));
  EXPECT_EQ(browser.submit(consent, {{"consent", "accept"}}).status, 302U);
}

TEST_F(AuthorizePages, ClaimsThatAreNotJsonAreRefused) {
  const auto answer = browser.open(authorization({{"claims", "{not json"}}));
  ASSERT_EQ(answer.status, 302U);
  EXPECT_EQ(redirect_params(answer).value("error"), "invalid_request");
  const auto prompt = browser.open(authorization({{"prompt", "always"}}));
  EXPECT_EQ(redirect_params(prompt).value("error"), "invalid_request");
}

TEST(ClaimsParameter, WhatDemandsMfa) {
  EXPECT_TRUE(claims_demand_mfa(R"({"access_token":{"amr":{"values":["mfa"]}}})").value());
  EXPECT_TRUE(claims_demand_mfa(R"({"id_token":{"amr":{"essential":true,"value":"mfa"}}})").value());
  EXPECT_TRUE(claims_demand_mfa(R"({"access_token":{"acrs":{"essential":true,"value":"c1"}}})").value());
  EXPECT_TRUE(claims_demand_mfa(capolids_challenge()).value());
  EXPECT_FALSE(claims_demand_mfa(R"({"access_token":{"xms_cc":{"values":["cp1"]}}})").value());
  EXPECT_FALSE(claims_demand_mfa(R"({"access_token":{"amr":{"values":["pwd"]}}})").value());
  EXPECT_FALSE(claims_demand_mfa("[]"));
  EXPECT_FALSE(claims_demand_mfa(""));
}

// --- The forms' CSRF tokens

TEST_F(AuthorizePages, AFormTokenIsGoodOnce) {
  const auto page = browser.open(authorization());
  ASSERT_EQ(browser.submit(page, {{"username", "alice@deputy-dev.test"}, {"password", "dev-password-alice"}})
                .status,
            302U);
  const auto replayed =
      browser.submit(page, {{"username", "alice@deputy-dev.test"}, {"password", "dev-password-alice"}});
  EXPECT_EQ(replayed.status, 400U);
  EXPECT_NE(replayed.body.find("has expired, was already used"), std::string::npos);
  EXPECT_FALSE(header(replayed, "Location"));
}

TEST_F(AuthorizePages, AFormFromAnotherBrowserOrWithoutAValidTokenIsRefused) {
  // Login CSRF: the attacker opens a flow and gets its page, then makes the victim's browser post it.
  Browser attacker(idp.provider());
  const auto page = attacker.open(authorization());
  Browser victim(idp.provider());
  const auto posted = victim.submit(page, {{"username", "mallory@deputy-dev.test"}, {"password", "x"}});
  EXPECT_EQ(posted.status, 400U);
  EXPECT_FALSE(header(posted, "Location"));
  // Nor does a victim's browser holding a binding of its own help.
  ASSERT_EQ(victim.open(authorization()).status, 200U);
  EXPECT_EQ(
      victim.submit(page, {{"username", "alice@deputy-dev.test"}, {"password", "dev-password-alice"}}).status,
      400U);

  for (const std::string& token : std::vector<std::string>{"", "forged", std::string(43, 'A')}) {
    SCOPED_TRACE(token);
    const auto answer = browser.post(
        {{"csrf", token}, {"username", "alice@deputy-dev.test"}, {"password", "dev-password-alice"}});
    EXPECT_EQ(answer.status, 400U);
    EXPECT_FALSE(header(answer, "Location"));
  }
}

TEST_F(AuthorizePages, GuessingEndsTheRequestAfterAFewTries) {
  auto page = browser.open(authorization());
  for (int i = 1; i < kMaxSignInFailures; ++i) {
    page = browser.submit(page, {{"username", "alice@deputy-dev.test"}, {"password", "guess"}});
    ASSERT_TRUE(shows(page, "password"));
  }
  const auto last =
      browser.submit(page, {{"username", "alice@deputy-dev.test"}, {"password", "dev-password-alice"}});
  EXPECT_EQ(last.status, 302U);  // the right password after the last allowed failure still signs in
  auto mfa = browser.open(authorization({{"claims", capolids_challenge()}}));
  ASSERT_TRUE(shows(mfa, "otp"));
  for (int i = 1; i < kMaxSignInFailures; ++i) {
    mfa = browser.submit(mfa, {{"otp", "111111"}});
    ASSERT_TRUE(shows(mfa, "otp"));
  }
  const auto refused = browser.submit(mfa, {{"otp", "222222"}});
  EXPECT_EQ(refused.status, 400U);
  EXPECT_NE(refused.body.find("too many times"), std::string::npos);
  EXPECT_FALSE(header(refused, "Location"));
}

TEST_F(AuthorizePages, APageLeftOpenTooLongStartsNothing) {
  const auto page = browser.open(authorization());
  idp.advance(std::chrono::seconds(kPendingLifetime) + std::chrono::seconds(1));
  const auto late =
      browser.submit(page, {{"username", "alice@deputy-dev.test"}, {"password", "dev-password-alice"}});
  EXPECT_EQ(late.status, 400U);
}

TEST_F(AuthorizePages, AFormPostedToAnotherTenantSegmentIsRefused) {
  const auto page = browser.open(authorization());
  const auto answer = browser.submit(
      page, {{"username", "alice@deputy-dev.test"}, {"password", "dev-password-alice"}}, "common");
  EXPECT_EQ(answer.status, 400U);
}

TEST_F(AuthorizePages, PagesAllowTheirFormsToEndAtTheRedirectUriOnly) {
  const auto page = browser.open(authorization());
  const auto policy = header(page, "Content-Security-Policy");
  ASSERT_TRUE(policy);
  EXPECT_NE(policy->find("form-action 'self' http://localhost:8100;"), std::string::npos) << *policy;
  EXPECT_NE(policy->find("frame-ancestors 'none'"), std::string::npos);
}

TEST_F(AuthorizePages, ThePagesEscapeWhatTheyEcho) {
  const auto page = browser.open(authorization({{"login_hint", "<img src=x onerror=alert(1)>\"'"}}));
  EXPECT_EQ(page.body.find("<img"), std::string::npos);
  EXPECT_NE(page.body.find("&lt;img src=x onerror=alert(1)&gt;&quot;&#39;"), std::string::npos);
  const auto typed = browser.submit(page, {{"username", "\"><script>x</script>"}, {"password", "p"}});
  EXPECT_EQ(typed.body.find("<script>"), std::string::npos);
  EXPECT_NE(typed.body.find("&quot;&gt;&lt;script&gt;"), std::string::npos);
  const std::string consent =
      consent_page({.form = {.action = "https://idp/a", .csrf = "t\"x"},
                    .client_name = "<b>app</b>",
                    .upn = "u&v",
                    .permissions = {{.resource_name = "R<", .scope = "s\"", .value = "v'"}}});
  EXPECT_EQ(consent.find("<b>"), std::string::npos);
  EXPECT_NE(consent.find("value=\"t&quot;x\""), std::string::npos);
  EXPECT_NE(consent.find("data-scope=\"s&quot;\""), std::string::npos);
  const std::string picker = account_picker_page({.form = {.action = "a", .csrf = "c"},
                                                  .client_name = "c",
                                                  .accounts = {{.upn = "\"x", .display_name = "<y>"}}});
  EXPECT_NE(picker.find("data-account=\"&quot;x\""), std::string::npos);
  EXPECT_EQ(picker.find("<y>"), std::string::npos);
}

TEST_F(AuthorizePages, CodesAreNeverSentToAnUnregisteredRedirectUriEvenWithASession) {
  ASSERT_EQ(browser.sign_in(authorization(), "alice@deputy-dev.test", "dev-password-alice").status, 302U);
  for (const auto& prompt : {"none", ""}) {
    const auto answer =
        browser.open(authorization({{"redirect_uri", "https://evil.example/cb"}, {"prompt", prompt}}));
    EXPECT_EQ(answer.status, 400U);
    EXPECT_FALSE(header(answer, "Location"));
  }
}

}  // namespace
}  // namespace deputy::devidp::testing
