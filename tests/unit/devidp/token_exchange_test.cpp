// RFC 8693 token exchange at the token endpoint: the same decisions as On-Behalf-Of (it shares the code), the
// RFC's parameters and answer, and each refusal.
#include "devidp_fixture.hpp"

#include "deputy/devidp/client_auth.hpp"

#include <gtest/gtest.h>

namespace deputy::devidp::testing {
namespace {

constexpr std::string_view kGraphDefault = "https://graph.microsoft.com/.default";

Fields exchange_form(std::string subject, std::string scope = std::string(kGraphDefault)) {
  Fields fields{{"grant_type", std::string(kTokenExchangeGrant)},
                {"client_id", std::string(kServerId)},
                {"client_secret", std::string(kServerSecret)},
                {"subject_token", std::move(subject)},
                {"subject_token_type", std::string(kAccessTokenType)}};
  if (!scope.empty()) fields.emplace_back("scope", std::move(scope));
  return fields;
}

Fields with(Fields fields, std::string name, std::string value) {
  for (auto& field : fields) {
    if (field.first == name) {
      field.second = std::move(value);
      return fields;
    }
  }
  fields.emplace_back(std::move(name), std::move(value));
  return fields;
}

Fields without(Fields fields, std::string_view name) {
  std::erase_if(fields, [&](const auto& field) { return field.first == name; });
  return fields;
}

std::uint32_t code_of(const HttpAnswer& answer) {
  return TestProvider::body(answer).at("error_codes").as_array().at(0).to_number<std::uint32_t>();
}

class TokenExchange : public ::testing::Test {
 protected:
  TestProvider idp;
};

TEST_F(TokenExchange, AlicesMcpTokenBecomesAGraphTokenWithTheIssuedTokenType) {
  const auto alice = idp.mint("alice");
  const auto answer = idp.post(exchange_form(alice));
  ASSERT_EQ(answer.status, 200U) << answer.body;
  const auto body = TestProvider::body(answer);
  EXPECT_EQ(body.at("issued_token_type"), "urn:ietf:params:oauth:token-type:access_token");
  EXPECT_EQ(body.at("token_type"), "Bearer");
  EXPECT_EQ(body.at("expires_in"), 3600);
  EXPECT_EQ(body.at("scope"),
            "https://graph.microsoft.com/Sites.Read.All https://graph.microsoft.com/User.Read "
            "https://graph.microsoft.com/.default");
  EXPECT_FALSE(body.contains("refresh_token"));
  const auto claims = payload_of(body.at("access_token").as_string());
  EXPECT_EQ(claims.at("aud"), "https://graph.microsoft.com");
  EXPECT_EQ(str(claims.at("appid")), kServerId);
  EXPECT_EQ(claims.at("oid"), payload_of(alice).at("oid"));
  EXPECT_EQ(claims.at("scp"), "Sites.Read.All User.Read");
  EXPECT_EQ(claims.at("idtyp"), "user");
}

TEST_F(TokenExchange, TheTargetMayBeAnAudienceOrResourceAndTheSubjectAJwt) {
  const auto alice = idp.mint("alice");
  for (std::string_view parameter : {"audience", "resource"}) {
    SCOPED_TRACE(parameter);
    const auto answer =
        idp.post(with(exchange_form(alice, ""), std::string(parameter), "https://graph.microsoft.com"));
    ASSERT_EQ(answer.status, 200U) << answer.body;
    EXPECT_EQ(payload_of(TestProvider::body(answer).at("access_token").as_string()).at("scp"),
              "Sites.Read.All User.Read");
  }
  // Scope and audience naming the same resource, a jwt subject type, an access token asked for explicitly.
  auto fields = with(exchange_form(alice, "https://graph.microsoft.com/User.Read"), "audience",
                     "00000003-0000-0000-c000-000000000000");
  fields = with(with(fields, "subject_token_type", std::string(kJwtTokenType)), "requested_token_type",
                std::string(kAccessTokenType));
  const auto answer = idp.post(fields);
  ASSERT_EQ(answer.status, 200U) << answer.body;
  EXPECT_EQ(payload_of(TestProvider::body(answer).at("access_token").as_string()).at("scp"), "User.Read");
}

TEST_F(TokenExchange, ACertificateAuthenticatedCallerAndOfflineAccess) {
  auto fields = without(exchange_form(idp.mint("alice"), std::string(kGraphDefault) + " offline_access"),
                        "client_secret");
  fields.emplace_back("client_assertion_type", std::string(kClientAssertionType));
  fields.emplace_back("client_assertion", idp.client_assertion());
  const auto answer = idp.post(fields);
  ASSERT_EQ(answer.status, 200U) << answer.body;
  const auto body = TestProvider::body(answer);
  EXPECT_EQ(payload_of(body.at("access_token").as_string()).at("appidacr"), "2");
  EXPECT_TRUE(body.contains("refresh_token"));
}

TEST_F(TokenExchange, CarolAfterMfaPasses) {
  EXPECT_EQ(idp.post(exchange_form(idp.mint("carol", {.mfa = true}))).status, 200U);
}

TEST_F(TokenExchange, TheOboPolicyRefusesAsForOnBehalfOf) {
  const auto alice = idp.mint("alice");
  const auto bob = idp.mint("bob");
  const auto forged = alice.substr(0, alice.find('.')) +
                      bob.substr(bob.find('.'), bob.rfind('.') - bob.find('.')) +
                      alice.substr(alice.rfind('.'));
  const auto app_only =
      std::string(TestProvider::body(idp.post({{"grant_type", "client_credentials"},
                                               {"client_id", std::string(kClientId)},
                                               {"client_secret", std::string(kClientSecret)},
                                               {"scope", "api://" + std::string(kServerId) + "/.default"}}))
                      .at("access_token")
                      .as_string());
  const auto expired =
      idp.mint("alice", {.lifetime = std::chrono::seconds(600), .issued_before = std::chrono::hours(2)});
  const auto for_graph = idp.mint("alice", {.resource = "graph", .scopes = {"User.Read"}});
  struct Case {
    std::string name;
    Fields fields;
    std::string error;
    std::uint32_t code;
    unsigned status = 400;
  };
  const std::vector<Case> cases = {
      {"forged subject token", exchange_form(forged), "invalid_grant", 50013},
      {"subject token that is not a JWT", exchange_form("garbage"), "invalid_request", 50027},
      {"app-only subject token", exchange_form(app_only), "invalid_grant", 7000114},
      {"expired subject token", exchange_form(expired), "invalid_grant", 500133},
      {"subject token addressed to another app", exchange_form(for_graph), "invalid_grant", 500131},
      {"dave has not consented to Graph", exchange_form(idp.mint("dave")), "invalid_grant", 65001},
      {"no consent for the scope", exchange_form(alice, "https://graph.microsoft.com/Mail.Read"),
       "invalid_grant", 65001},
      {"carol without MFA", exchange_form(idp.mint("carol")), "interaction_required", 50076},
      // The RFC's parameters
      {"no subject_token", without(exchange_form(alice), "subject_token"), "invalid_request", 900144},
      {"no subject_token_type", without(exchange_form(alice), "subject_token_type"), "invalid_request",
       900144},
      {"a refresh token as the subject",
       with(exchange_form(alice), "subject_token_type", "urn:ietf:params:oauth:token-type:refresh_token"),
       "invalid_request", 9002313},
      {"an id_token requested",
       with(exchange_form(alice), "requested_token_type", "urn:ietf:params:oauth:token-type:id_token"),
       "invalid_request", 9002313},
      {"an actor token", with(exchange_form(alice), "actor_token", alice), "invalid_request", 9002313},
      {"no target", exchange_form(alice, ""), "invalid_request", 900144},
      {"an audience no app has", with(exchange_form(alice, ""), "audience", "https://example.com"),
       "invalid_target", 500011},
      {"an audience that is not the scope's resource",
       with(exchange_form(alice), "audience", "api://" + std::string(kServerId)), "invalid_target", 500011},
      {"audience and resource disagreeing",
       with(with(exchange_form(alice, ""), "audience", "https://graph.microsoft.com"), "resource",
            "api://" + std::string(kServerId)),
       "invalid_target", 500011},
      {"only OpenID scopes", exchange_form(alice, "openid profile"), "invalid_scope", 70011},
      // The caller
      {"no client credential", without(exchange_form(alice), "client_secret"), "invalid_client", 7000218,
       401},
      {"a wrong secret", with(exchange_form(alice), "client_secret", "nope"), "invalid_client", 7000215, 401},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    const auto answer = idp.post(c.fields);
    EXPECT_EQ(answer.status, c.status) << answer.body;
    EXPECT_EQ(str(TestProvider::body(answer).at("error")), c.error) << answer.body;
    EXPECT_EQ(code_of(answer), c.code) << answer.body;
  }
}

TEST_F(TokenExchange, ConsentAndClaimsChallengeCarryTheirDetails) {
  auto body = TestProvider::body(idp.post(exchange_form(idp.mint("dave"))));
  EXPECT_EQ(body.at("suberror"), "consent_required");
  body = TestProvider::body(idp.post(exchange_form(idp.mint("carol"))));
  ASSERT_TRUE(body.contains("claims"));
  const auto challenge = json::parse(body.at("claims").as_string()).as_object();
  EXPECT_EQ(challenge.at("access_token").at("capolids").at("values").as_array().at(0),
            "f80160ba-329b-422e-beb7-51afef74a32a");
}

TEST_F(TokenExchange, OnBehalfOfForDaveIsRefusedForConsentToo) {
  const auto answer = idp.post({{"grant_type", std::string(kJwtBearerGrant)},
                                {"client_id", std::string(kServerId)},
                                {"client_secret", std::string(kServerSecret)},
                                {"assertion", idp.mint("dave")},
                                {"scope", std::string(kGraphDefault)},
                                {"requested_token_use", "on_behalf_of"}});
  EXPECT_EQ(answer.status, 400U);
  EXPECT_EQ(code_of(answer), 65001U);
  EXPECT_EQ(TestProvider::body(answer).at("suberror"), "consent_required");
}

}  // namespace
}  // namespace deputy::devidp::testing
