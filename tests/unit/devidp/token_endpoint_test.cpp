// The token endpoint without sockets: each grant's success with the claims it issues, and every refusal with
// Entra's error, code and status, table-driven.
#include "devidp_fixture.hpp"

#include "deputy/auth/base64url.hpp"
#include "deputy/devidp/client_auth.hpp"

#include <gtest/gtest.h>

namespace deputy::devidp::testing {
namespace {

constexpr std::string_view kGraphDefault = "https://graph.microsoft.com/.default";
const std::string kServerDefault = "api://" + std::string(kServerId) + "/.default";

Fields obo(std::string assertion, std::string scope = std::string(kGraphDefault),
           std::string secret = std::string(kServerSecret)) {
  return {{"grant_type", std::string(kJwtBearerGrant)},
          {"client_id", std::string(kServerId)},
          {"client_secret", std::move(secret)},
          {"assertion", std::move(assertion)},
          {"scope", std::move(scope)},
          {"requested_token_use", "on_behalf_of"}};
}

Fields client_credentials(std::string client_id, std::string secret, std::string scope) {
  return {{"grant_type", "client_credentials"},
          {"client_id", std::move(client_id)},
          {"client_secret", std::move(secret)},
          {"scope", std::move(scope)}};
}

Fields without(Fields fields, std::string_view name) {
  std::erase_if(fields, [&](const auto& field) { return field.first == name; });
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

std::vector<std::string> strings(const json::value& value) {
  std::vector<std::string> out;
  for (const auto& item : value.as_array()) out.emplace_back(item.as_string());
  return out;
}

class TokenEndpoint : public ::testing::Test {
 protected:
  TestProvider idp;
};

// --- Successes

TEST_F(TokenEndpoint, ClientCredentialsForTheServerApiCarriesTheGrantedAppPermissionsAsRoles) {
  const auto answer = idp.post(client_credentials(std::string(kClientId), std::string(kClientSecret), kServerDefault));
  ASSERT_EQ(answer.status, 200U) << answer.body;
  const auto body = TestProvider::body(answer);
  EXPECT_EQ(body.at("token_type"), "Bearer");
  EXPECT_EQ(body.at("expires_in"), 3600);
  EXPECT_EQ(body.at("ext_expires_in"), 3600);
  const auto claims = payload_of(body.at("access_token").as_string());
  EXPECT_EQ(str(claims.at("aud")), kServerId);
  EXPECT_EQ(str(claims.at("iss")), std::string(kBaseUrl) + "/" + std::string(kTenantId) + "/v2.0");
  EXPECT_EQ(str(claims.at("azp")), kClientId);
  EXPECT_EQ(claims.at("azpacr"), "1");
  EXPECT_EQ(claims.at("idtyp"), "app");
  EXPECT_EQ(strings(claims.at("roles")), std::vector<std::string>{"Task.Read"});
  EXPECT_EQ(claims.at("ver"), "2.0");
  EXPECT_EQ(str(claims.at("tid")), kTenantId);
  EXPECT_EQ(claims.at("sub"), claims.at("oid"));
  EXPECT_FALSE(claims.contains("scp"));
  EXPECT_EQ(claims.at("exp").as_int64() - claims.at("iat").as_int64(), 3600);
}

TEST_F(TokenEndpoint, ClientCredentialsForGraphIsAV1TokenWithoutRolesWhenNoneAreGranted) {
  const auto answer =
      idp.post(client_credentials(std::string(kServerId), std::string(kServerSecret), std::string(kGraphDefault)));
  ASSERT_EQ(answer.status, 200U) << answer.body;
  const auto claims = payload_of(TestProvider::body(answer).at("access_token").as_string());
  EXPECT_EQ(claims.at("aud"), "https://graph.microsoft.com");
  EXPECT_EQ(str(claims.at("iss")), "https://sts.windows.net/" + std::string(kTenantId) + "/");
  EXPECT_EQ(str(claims.at("appid")), kServerId);
  EXPECT_EQ(claims.at("idtyp"), "app");
  EXPECT_EQ(claims.at("ver"), "1.0");
  EXPECT_FALSE(claims.contains("roles"));
}

TEST_F(TokenEndpoint, TokensAreSignedWithTheActiveKeyAndVerifyAgainstTheJwks) {
  const auto answer = idp.post(client_credentials(std::string(kClientId), std::string(kClientSecret), kServerDefault));
  const std::string token(TestProvider::body(answer).at("access_token").as_string());
  auto jws = auth::parse_jws(token);
  ASSERT_TRUE(jws);
  EXPECT_EQ(jws->kid(), test_keys().signing.front().kid);
  EXPECT_EQ(str(jws->header().at("x5t")), test_keys().signing.front().kid);
  auto keys = auth::parse_jwks(json::serialize(idp.provider().keys().jwks("issuer")));
  ASSERT_TRUE(keys);
  ASSERT_EQ(keys->size(), 2U);
  auto key = keys->select(jws->kid());
  ASSERT_TRUE(key);
  EXPECT_TRUE(auth::verify(*jws, **key));
}

TEST_F(TokenEndpoint, OnBehalfOfAliceGivesAV1GraphTokenWithTheConsentedScopes) {
  const auto alice = idp.mint("alice");
  auto fields = obo(alice, std::string(kGraphDefault) + " offline_access openid profile");  // as MSAL decorates
  fields.emplace_back("client_info", "1");
  const auto answer = idp.post(fields);
  ASSERT_EQ(answer.status, 200U) << answer.body;
  const auto body = TestProvider::body(answer);
  EXPECT_EQ(body.at("scope"), "https://graph.microsoft.com/Sites.Read.All https://graph.microsoft.com/User.Read https://graph.microsoft.com/.default");
  const auto claims = payload_of(body.at("access_token").as_string());
  const auto assertion = payload_of(alice);
  EXPECT_EQ(claims.at("aud"), "https://graph.microsoft.com");
  EXPECT_EQ(str(claims.at("iss")), "https://sts.windows.net/" + std::string(kTenantId) + "/");
  EXPECT_EQ(str(claims.at("appid")), kServerId);
  EXPECT_EQ(claims.at("appidacr"), "1");
  EXPECT_EQ(claims.at("upn"), "alice@deputy-dev.test");
  EXPECT_EQ(claims.at("oid"), assertion.at("oid"));
  EXPECT_EQ(claims.at("scp"), "Sites.Read.All User.Read");
  EXPECT_EQ(claims.at("ver"), "1.0");
  EXPECT_EQ(claims.at("idtyp"), "user");
  // client_info: base64url {"uid": oid, "utid": tid}.
  auto info = auth::base64url_decode(body.at("client_info").as_string());
  ASSERT_TRUE(info);
  const auto parsed = json::parse(*info).as_object();
  EXPECT_EQ(parsed.at("uid"), assertion.at("oid"));
  EXPECT_EQ(str(parsed.at("utid")), kTenantId);
  // openid was asked for: the user's id_token for the middle tier (MSAL builds the result's account from it).
  ASSERT_TRUE(body.contains("id_token")) << body;
  const auto id = payload_of(body.at("id_token").as_string());
  EXPECT_EQ(str(id.at("aud")), kServerId);
  EXPECT_EQ(id.at("oid"), assertion.at("oid"));
  EXPECT_EQ(str(id.at("tid")), kTenantId);
  EXPECT_EQ(id.at("preferred_username"), "alice@deputy-dev.test");
  EXPECT_EQ(id.at("ver"), "2.0");
  EXPECT_FALSE(id.contains("nonce"));
}

TEST_F(TokenEndpoint, OnBehalfOfWithoutOpenIdHasNoIdToken) {
  const auto answer = idp.post(obo(idp.mint("alice")));
  ASSERT_EQ(answer.status, 200U) << answer.body;
  EXPECT_FALSE(TestProvider::body(answer).contains("id_token"));
}

TEST_F(TokenEndpoint, OnBehalfOfWithNamedScopesGrantsExactlyThose) {
  const auto answer = idp.post(obo(idp.mint("bob"), "https://graph.microsoft.com/User.Read"));
  ASSERT_EQ(answer.status, 200U) << answer.body;
  EXPECT_EQ(payload_of(TestProvider::body(answer).at("access_token").as_string()).at("scp"), "User.Read");
  // A bare name means Graph, as at Entra.
  const auto bare = idp.post(obo(idp.mint("bob"), "User.Read"));
  ASSERT_EQ(bare.status, 200U) << bare.body;
}

TEST_F(TokenEndpoint, OnBehalfOfByCertificateMarksTheClientAuthentication) {
  auto fields = without(obo(idp.mint("alice")), "client_secret");
  fields.emplace_back("client_assertion_type", std::string(kClientAssertionType));
  fields.emplace_back("client_assertion", idp.client_assertion());
  const auto answer = idp.post(fields);
  ASSERT_EQ(answer.status, 200U) << answer.body;
  EXPECT_EQ(payload_of(TestProvider::body(answer).at("access_token").as_string()).at("appidacr"), "2");
}

TEST_F(TokenEndpoint, ClientAssertionNamedByX5tS256AndSentToTheCommonEndpointIsAccepted) {
  const auto assertion = idp.client_assertion([](json::object& header, json::object& claims) {
    header.erase("x5t");
    header["x5t#S256"] = auth::x5t_sha256(test_keys().app_certificate_der);
    claims["aud"] = std::string(kBaseUrl) + "/common/oauth2/v2.0/token";
  });
  const Fields fields{{"grant_type", "client_credentials"},
                      {"client_id", std::string(kServerId)},
                      {"client_assertion_type", std::string(kClientAssertionType)},
                      {"client_assertion", assertion},
                      {"scope", std::string(kGraphDefault)}};
  const auto answer = idp.post(fields, "common");
  EXPECT_EQ(answer.status, 200U) << answer.body;
}

TEST_F(TokenEndpoint, CarolAfterMfaPassesHerCondition) {
  const auto answer = idp.post(obo(idp.mint("carol", {.mfa = true})));
  ASSERT_EQ(answer.status, 200U) << answer.body;
  const auto claims = payload_of(TestProvider::body(answer).at("access_token").as_string());
  EXPECT_EQ(strings(claims.at("amr")), (std::vector<std::string>{"pwd", "mfa"}));
}

TEST_F(TokenEndpoint, TheTenantMayBeNamedByDomainCommonOrOrganizations) {
  for (std::string_view tenant : {"deputy-dev.test", "DEPUTY-DEV.TEST", "common", "organizations"}) {
    const auto answer =
        idp.post(client_credentials(std::string(kClientId), std::string(kClientSecret), kServerDefault), tenant);
    EXPECT_EQ(answer.status, 200U) << tenant << ": " << answer.body;
  }
}

TEST_F(TokenEndpoint, TheMintedUserTokenIsWhatTheServerAppExpects) {
  const auto claims = payload_of(idp.mint("alice"));
  EXPECT_EQ(str(claims.at("aud")), kServerId);
  EXPECT_EQ(str(claims.at("iss")), std::string(kBaseUrl) + "/" + std::string(kTenantId) + "/v2.0");
  EXPECT_EQ(str(claims.at("azp")), kClientId);
  EXPECT_EQ(claims.at("azpacr"), "1");
  EXPECT_EQ(claims.at("name"), "Alice Adams");
  EXPECT_EQ(claims.at("preferred_username"), "alice@deputy-dev.test");
  EXPECT_EQ(claims.at("oid"), "b4822fd4-5a21-4902-90ad-7430c1db4dd9");
  EXPECT_EQ(strings(claims.at("roles")), std::vector<std::string>{"Task.All"});
  EXPECT_EQ(claims.at("scp"), "access_as_user");
  EXPECT_EQ(str(claims.at("tid")), kTenantId);
  EXPECT_EQ(claims.at("ver"), "2.0");
  EXPECT_EQ(claims.at("nbf"), claims.at("iat"));
  EXPECT_EQ(claims.at("sub").as_string().size(), 43U);
  EXPECT_EQ(claims.at("uti").as_string().size(), 22U);
  // sub is pairwise: the same user seen by another client has another sub.
  const auto other = payload_of(idp.mint("alice", {.client = "server"}));
  EXPECT_NE(claims.at("sub"), other.at("sub"));
  EXPECT_EQ(claims.at("oid"), other.at("oid"));
}

TEST_F(TokenEndpoint, MintingRefusesUnknownUsersAppsAndScopes) {
  EXPECT_FALSE(idp.provider().mint_user_token("mallory"));
  EXPECT_FALSE(idp.provider().mint_user_token("alice", {.client = "nope"}));
  EXPECT_FALSE(idp.provider().mint_user_token("alice", {.scopes = {"Files.ReadWrite"}}));
}

// --- Refusals

struct Refusal {
  std::string name;
  Fields fields;
  unsigned status;
  std::string error;
  std::uint32_t code;
  std::string tenant = std::string(kTenantId);
  std::string content_type = "application/x-www-form-urlencoded";
};

TEST_F(TokenEndpoint, EveryRefusalIsEntraShaped) {
  const auto alice = idp.mint("alice");
  const auto expired = idp.mint("alice", {.lifetime = std::chrono::seconds(600), .issued_before = std::chrono::hours(2)});
  const auto for_graph_app = idp.mint("alice", {.resource = "graph", .scopes = {"User.Read"}});
  const auto app_only = std::string(TestProvider::body(idp.post(client_credentials(
      std::string(kClientId), std::string(kClientSecret), kServerDefault))).at("access_token").as_string());
  // The payload swapped for bob's under alice's signature.
  const auto bob = idp.mint("bob");
  const auto forged = alice.substr(0, alice.find('.')) + bob.substr(bob.find('.'), bob.rfind('.') - bob.find('.')) +
                      alice.substr(alice.rfind('.'));
  // A token from a key nobody published, under our kid.
  json::object header{{"typ", "JWT"}, {"kid", test_keys().signing.front().kid}};
  const auto foreign = *auth::sign(header, payload_of(alice), test_keys().other_key.get(), auth::Alg::kRs256);
  auto certificate = [&](const std::function<void(json::object&, json::object&)>& edit, EVP_PKEY* key = nullptr) {
    return with(with(without(client_credentials(std::string(kServerId), "", std::string(kGraphDefault)), "client_secret"),
                     "client_assertion_type", std::string(kClientAssertionType)),
                "client_assertion", idp.client_assertion(edit, key));
  };
  const auto cc = client_credentials(std::string(kServerId), std::string(kServerSecret), std::string(kGraphDefault));

  const std::vector<Refusal> cases = {
      // The request itself
      {"not a form", cc, 400, "invalid_request", 900144, std::string(kTenantId), "application/json"},
      {"no grant_type", without(cc, "grant_type"), 400, "invalid_request", 900144},
      {"unsupported grant_type", with(cc, "grant_type", "password"), 400, "unsupported_grant_type", 70003},
      {"device_code is not offered", with(cc, "grant_type", "urn:ietf:params:oauth:grant-type:device_code"), 400,
       "unsupported_grant_type", 70003},
      {"token exchange without its subject token", with(cc, "grant_type", std::string(kTokenExchangeGrant)), 400,
       "invalid_request", 900144},
      {"unknown tenant", cc, 400, "invalid_request", 90002, "contoso.example"},
      {"consumers is not this tenant", cc, 400, "invalid_request", 90002, "consumers"},
      // The client
      {"no client_id", without(cc, "client_id"), 400, "invalid_request", 900144},
      {"unknown client", with(cc, "client_id", "11111111-2222-4333-8444-555555555555"), 400, "unauthorized_client",
       700016},
      {"wrong secret", with(cc, "client_secret", "dev-server-secret-not-for-productioN"), 401, "invalid_client",
       7000215},
      {"another app's secret", with(cc, "client_secret", std::string(kClientSecret)), 401, "invalid_client", 7000215},
      {"empty secret", with(cc, "client_secret", ""), 401, "invalid_client", 7000215},
      {"no credential at all", without(cc, "client_secret"), 401, "invalid_client", 7000218},
      {"secret and assertion together", with(cc, "client_assertion", "x.y.z"), 400, "invalid_request", 9002313},
      {"assertion without its type", without(certificate({}), "client_assertion_type"), 400, "invalid_request",
       9002313},
      {"assertion of another type", with(certificate({}), "client_assertion_type", "urn:x"), 400, "invalid_request",
       9002313},
      {"assertion that is not a JWT", with(certificate({}), "client_assertion", "not-a-jwt"), 401, "invalid_client",
       50027},
      {"assertion for an unknown certificate",
       certificate([](json::object& h, json::object&) { h["x5t"] = "AAAAAAAAAAAAAAAAAAAAAAAAAAA"; }), 401,
       "invalid_client", 700027},
      {"assertion signed by another key", certificate({}, test_keys().other_key.get()), 401, "invalid_client", 700027},
      {"assertion for another endpoint",
       certificate([](json::object&, json::object& c) { c["aud"] = "https://login.microsoftonline.com/x/oauth2/v2.0/token"; }),
       401, "invalid_client", 700023},
      {"assertion expired", certificate([](json::object&, json::object& c) { c["exp"] = 1'700'000'000.5; }), 401,
       "invalid_client", 700024},
      {"assertion without exp", certificate([](json::object&, json::object& c) { c.erase("exp"); }), 401,
       "invalid_client", 700024},
      {"assertion issued by another app", certificate([](json::object&, json::object& c) { c["iss"] = kClientId; }),
       401, "invalid_client", 700021},
      {"assertion about another subject", certificate([](json::object&, json::object& c) { c["sub"] = kClientId; }),
       401, "invalid_client", 700021},
      {"assertion without jti", certificate([](json::object&, json::object& c) { c.erase("jti"); }), 401,
       "invalid_client", 50027},
      // Client credentials
      {"no scope", without(cc, "scope"), 400, "invalid_request", 900144},
      {"a delegated scope", with(cc, "scope", "https://graph.microsoft.com/User.Read"), 400, "invalid_scope", 1002012},
      {"two .default scopes", with(cc, "scope", std::string(kGraphDefault) + " " + kServerDefault), 400, "invalid_scope",
       1002012},
      {"an unknown resource", with(cc, "scope", "api://nothing-here/.default"), 400, "invalid_resource", 500011},
      // On-Behalf-Of: the request
      {"no requested_token_use", without(obo(alice), "requested_token_use"), 400, "invalid_request", 900144},
      {"another requested_token_use", with(obo(alice), "requested_token_use", "impersonate"), 400, "invalid_request",
       9002313},
      {"no assertion", without(obo(alice), "assertion"), 400, "invalid_request", 900144},
      {"no scope", without(obo(alice), "scope"), 400, "invalid_request", 900144},
      {"OBO by a client without credential", without(obo(alice), "client_secret"), 401, "invalid_client", 7000218},
      {"OBO with a wrong secret", obo(alice, std::string(kGraphDefault), "nope"), 401, "invalid_client", 7000215},
      {"only OpenID scopes", obo(alice, "openid profile offline_access"), 400, "invalid_scope", 70011},
      {"a scope Graph does not expose", obo(alice, "https://graph.microsoft.com/Files.ReadWrite.All"), 400,
       "invalid_scope", 70011},
      {"two resources", obo(alice, "https://graph.microsoft.com/User.Read " + kServerDefault), 400, "invalid_scope",
       28000},
      {".default mixed with a named scope", obo(alice, "https://graph.microsoft.com/User.Read " + std::string(kGraphDefault)),
       400, "invalid_scope", 70011},
      // On-Behalf-Of: the assertion
      {"assertion that is not a JWT", obo("garbage"), 400, "invalid_request", 50027},
      {"forged payload", obo(forged), 400, "invalid_grant", 50013},
      {"signed by an unpublished key", obo(foreign), 400, "invalid_grant", 50013},
      {"expired", obo(expired), 400, "invalid_grant", 500133},
      {"addressed to another app", obo(for_graph_app), 400, "invalid_grant", 500131},
      {"app-only", obo(app_only), 400, "invalid_grant", 7000114},
      // On-Behalf-Of: policy
      {"no consent for the scope", obo(alice, "https://graph.microsoft.com/Mail.Read"), 400, "invalid_grant", 65001},
      {"no consent for the resource (the server to itself)", obo(alice, kServerDefault), 400, "invalid_grant", 65001},
      {"carol without MFA", obo(idp.mint("carol")), 400, "interaction_required", 50076},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    const auto answer = idp.post(c.fields, c.tenant, c.content_type);
    EXPECT_EQ(answer.status, c.status) << answer.body;
    const auto body = TestProvider::body(answer);
    EXPECT_EQ(str(body.at("error")), c.error);
    ASSERT_TRUE(body.at("error_codes").is_array());
    EXPECT_EQ(body.at("error_codes").as_array().at(0).to_number<std::uint32_t>(), c.code);
    const std::string description(body.at("error_description").as_string());
    EXPECT_TRUE(description.starts_with("AADSTS" + std::to_string(c.code) + ": ")) << description;
    EXPECT_TRUE(body.contains("timestamp") && body.contains("trace_id") && body.contains("correlation_id"));
    // No secret or token ever comes back in an error.
    EXPECT_EQ(answer.body.find(kServerSecret), std::string::npos);
    EXPECT_EQ(answer.body.find(alice.substr(alice.rfind('.') + 1)), std::string::npos);
  }
}

TEST_F(TokenEndpoint, TheClaimsChallengeNamesCarolsPolicy) {
  const auto answer = idp.post(obo(idp.mint("carol")));
  const auto body = TestProvider::body(answer);
  ASSERT_TRUE(body.contains("claims"));
  const auto challenge = json::parse(body.at("claims").as_string()).as_object();
  const auto& capolids = challenge.at("access_token").at("capolids").as_object();
  EXPECT_EQ(capolids.at("essential"), true);
  EXPECT_EQ(strings(capolids.at("values")), std::vector<std::string>{"f80160ba-329b-422e-beb7-51afef74a32a"});
}

TEST_F(TokenEndpoint, ConsentRequiredCarriesItsSuberror) {
  const auto body = TestProvider::body(idp.post(obo(idp.mint("alice"), "https://graph.microsoft.com/Mail.Read")));
  EXPECT_EQ(body.at("suberror"), "consent_required");
}

TEST_F(TokenEndpoint, AnAssertionExpiresWithTheClockAndTheLeewayApplies) {
  const auto alice = idp.mint("alice");
  idp.advance(std::chrono::seconds(3600 + 30));  // past exp, within the 60 s leeway
  EXPECT_EQ(idp.post(obo(alice)).status, 200U);
  idp.advance(std::chrono::seconds(60));
  EXPECT_EQ(TestProvider::body(idp.post(obo(alice))).at("error_codes").as_array().at(0), 500133);
}

TEST_F(TokenEndpoint, MalformedFormsAreRefused) {
  const std::vector<std::pair<std::string, std::string>> bodies = {
      {"bad escape", "grant_type=client_credentials&client_id=%zz"},
      {"truncated escape", "grant_type=client_credentials&client_id=%4"},
      {"repeated parameter", "grant_type=client_credentials&grant_type=client_credentials"},
      {"empty name", "=x&grant_type=client_credentials"},
      {"too large", "grant_type=client_credentials&x=" + std::string(kMaxFormSize, 'a')},
  };
  for (const auto& [name, body] : bodies) {
    SCOPED_TRACE(name);
    const auto answer = handle_token_request(
        idp.provider(), {.tenant = kTenantId, .content_type = "application/x-www-form-urlencoded", .body = body});
    EXPECT_EQ(answer.status, 400U);
    EXPECT_EQ(TestProvider::body(answer).at("error_codes").as_array().at(0), 9002313) << answer.body;
  }
}

TEST_F(TokenEndpoint, OnlyPostIsAccepted) {
  const auto answer = handle_token_request(idp.provider(), {.tenant = kTenantId, .post = false});
  EXPECT_EQ(answer.status, 400U);
  EXPECT_EQ(TestProvider::body(answer).at("error_codes").as_array().at(0), 900561);
}

TEST_F(TokenEndpoint, TheClientRequestIdComesBackAsCorrelationIdOnlyWhenItIsAGuid) {
  const std::string body = encode({{"grant_type", "password"}});
  auto answer = handle_token_request(idp.provider(), {.tenant = kTenantId,
                                                      .content_type = "application/x-www-form-urlencoded",
                                                      .body = body,
                                                      .client_request_id = "0f8fad5b-d9cb-469f-a165-70867728950e"});
  EXPECT_EQ(TestProvider::body(answer).at("correlation_id"), "0f8fad5b-d9cb-469f-a165-70867728950e");
  answer = handle_token_request(idp.provider(), {.tenant = kTenantId,
                                                 .content_type = "application/x-www-form-urlencoded",
                                                 .body = body,
                                                 .client_request_id = "\"><script>"});
  EXPECT_NE(TestProvider::body(answer).at("correlation_id"), "\"><script>");
  EXPECT_EQ(answer.body.find("<script>"), std::string::npos);
}

}  // namespace
}  // namespace deputy::devidp::testing
