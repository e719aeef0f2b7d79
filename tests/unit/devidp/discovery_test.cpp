// Discovery and keys as MSAL and OIDC clients read them.
#include "devidp_fixture.hpp"

#include "deputy/devidp/discovery.hpp"
#include "deputy/devidp/idp_server.hpp"

#include <gtest/gtest.h>

namespace deputy::devidp::testing {
namespace {

namespace http = boost::beast::http;

TEST(Discovery, ForTheTenantEverythingIsUnderItsGuid) {
  TestProvider idp;
  for (std::string_view tenant : {kTenantId, std::string_view("deputy-dev.test")}) {
    SCOPED_TRACE(tenant);
    const auto answer = openid_configuration(idp.provider(), tenant);
    ASSERT_EQ(answer.status, 200U);
    const auto config = json::parse(answer.body).as_object();
    const std::string base = std::string(kBaseUrl) + "/" + std::string(kTenantId);
    EXPECT_EQ(str(config.at("issuer")), base + "/v2.0");
    EXPECT_EQ(str(config.at("token_endpoint")), base + "/oauth2/v2.0/token");
    EXPECT_EQ(str(config.at("authorization_endpoint")), base + "/oauth2/v2.0/authorize");
    EXPECT_EQ(str(config.at("jwks_uri")), base + "/discovery/v2.0/keys");
    EXPECT_EQ(config.at("id_token_signing_alg_values_supported"), json::array({"RS256"}));
    EXPECT_EQ(config.at("code_challenge_methods_supported"), json::array({"S256"}));
  }
}

TEST(Discovery, CommonAndOrganizationsKeepTheWordAndTheIssuerPlaceholder) {
  TestProvider idp;
  for (std::string_view tenant : {"common", "Organizations"}) {
    const auto config = json::parse(openid_configuration(idp.provider(), tenant).body).as_object();
    std::string word(tenant);
    word[0] = static_cast<char>(std::tolower(word[0]));
    EXPECT_EQ(str(config.at("issuer")), std::string(kBaseUrl) + "/{tenantid}/v2.0");
    EXPECT_EQ(str(config.at("token_endpoint")), std::string(kBaseUrl) + "/" + word + "/oauth2/v2.0/token");
  }
}

TEST(Discovery, AnUnknownTenantIsAADSTS90002) {
  TestProvider idp;
  for (std::string_view tenant : {"contoso.com", "consumers", "00000000-0000-0000-0000-000000000000"}) {
    const auto answer = openid_configuration(idp.provider(), tenant);
    EXPECT_EQ(answer.status, 400U);
    const auto body = json::parse(answer.body).as_object();
    EXPECT_EQ(body.at("error"), "invalid_tenant");
    EXPECT_EQ(body.at("error_codes"), json::array({90002}));
    EXPECT_EQ(jwks(idp.provider(), tenant).status, 400U);
  }
}

TEST(Discovery, TheKeysAreTwoRsaSigningKeysWithKidX5tAndX5c) {
  TestProvider idp;
  const auto answer = jwks(idp.provider(), kTenantId);
  ASSERT_EQ(answer.status, 200U);
  const auto document = json::parse(answer.body).as_object();
  const auto& keys = document.at("keys").as_array();
  ASSERT_EQ(keys.size(), 2U);
  for (std::size_t i = 0; i < keys.size(); ++i) {
    const auto& key = keys[i].as_object();
    EXPECT_EQ(key.at("kty"), "RSA");
    EXPECT_EQ(key.at("use"), "sig");
    EXPECT_EQ(str(key.at("kid")), test_keys().signing[i].kid);
    EXPECT_EQ(key.at("x5t"), key.at("kid"));
    EXPECT_EQ(key.at("e"), "AQAB");
    EXPECT_EQ(key.at("x5c").as_array().size(), 1U);
    EXPECT_EQ(str(key.at("issuer")), idp.provider().issuer().issuer_v2());
    EXPECT_FALSE(key.contains("d"));
  }
  auto parsed = auth::parse_jwks(answer.body);
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->size(), 2U);
  EXPECT_TRUE(parsed->skipped().empty());
}

TEST(Routing, PathsAreEntrasAndRepeatedSlashesAreTolerated) {
  TestProvider idp;
  const std::string tenant(kTenantId);
  struct Case {
    http::verb method;
    std::string target;
    unsigned status;
  };
  const std::vector<Case> cases = {
      {http::verb::get, "/" + tenant + "/v2.0/.well-known/openid-configuration", 200},
      {http::verb::get, "//" + tenant + "//v2.0/.well-known/openid-configuration", 200},  // MSAL's double slash
      {http::verb::get, "/common/v2.0/.well-known/openid-configuration?appid=x", 200},
      {http::verb::get, "/" + tenant + "/discovery/v2.0/keys", 200},
      {http::verb::post, "/" + tenant + "/v2.0/.well-known/openid-configuration", 404},
      {http::verb::get, "/" + tenant + "/oauth2/v2.0/token", 400},  // AADSTS900561: POST only
      {http::verb::get, "/" + tenant + "/oauth2/v2.0/authorize", 400},  // no client_id: an error page
      {http::verb::put, "/" + tenant + "/oauth2/v2.0/authorize", 404},
      {http::verb::get, "/" + tenant + "/nothing", 404},
      {http::verb::get, "/", 200},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.target);
    EXPECT_EQ(route(idp.provider(), c.method, c.target, "", "", "").status, c.status);
  }
  const std::string body = encode({{"grant_type", "client_credentials"},
                                   {"client_id", std::string(kClientId)},
                                   {"client_secret", std::string(kClientSecret)},
                                   {"scope", "api://" + std::string(kServerId) + "/.default"}});
  const auto answer = route(idp.provider(), http::verb::post, "/" + tenant + "/oauth2/v2.0/token",
                            "application/x-www-form-urlencoded", body, "");
  EXPECT_EQ(answer.status, 200U) << answer.body;
}

}  // namespace
}  // namespace deputy::devidp::testing
