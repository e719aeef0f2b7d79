// The identity provider's test hooks: token counters (by grant, by client and user, refusals), key rotation
// (the new key signs, the previous stays published, the one before leaves), and who may call them.
#include "devidp_fixture.hpp"

#include "deputy/auth/jws.hpp"
#include "deputy/devidp/admin_endpoints.hpp"
#include "deputy/devidp/graph_server.hpp"
#include "deputy/devidp/idp_server.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

namespace deputy::devidp::testing {
namespace {

namespace http = boost::beast::http;

constexpr std::string_view kGraphDefault = "https://graph.microsoft.com/.default";
const std::string kServerDefault = "api://" + std::string(kServerId) + "/.default";

Fields obo(std::string assertion) {
  return {{"grant_type", std::string(kJwtBearerGrant)},  {"client_id", std::string(kServerId)},
          {"client_secret", std::string(kServerSecret)}, {"assertion", std::move(assertion)},
          {"scope", std::string(kGraphDefault)},         {"requested_token_use", "on_behalf_of"}};
}

Fields exchange_form(std::string subject) {
  return {{"grant_type", std::string(kTokenExchangeGrant)},      {"client_id", std::string(kServerId)},
          {"client_secret", std::string(kServerSecret)},         {"subject_token", std::move(subject)},
          {"subject_token_type", std::string(kAccessTokenType)}, {"scope", std::string(kGraphDefault)}};
}

Fields client_credentials() {
  return {{"grant_type", "client_credentials"},
          {"client_id", std::string(kClientId)},
          {"client_secret", std::string(kClientSecret)},
          {"scope", kServerDefault}};
}

class Admin : public ::testing::Test {
 protected:
  TestProvider idp;

  HttpAnswer admin(http::verb method, std::string_view path) const {
    return route(idp.provider(), method, path, "", "", "", {}, true);
  }
  std::vector<std::string> published_kids() const {
    std::vector<std::string> out;
    const auto jwks =
        idp.provider().keys().jwks("x");  // named: a range-for over a temporary's member dangles
    for (const auto& key : jwks.at("keys").as_array()) {
      out.emplace_back(key.at("kid").as_string());
    }
    return out;
  }
};

TEST_F(Admin, StatsCountIssuedTokensByGrantAndByClientAndUser) {
  ASSERT_EQ(idp.post(client_credentials()).status, 200U);
  ASSERT_EQ(idp.post(obo(idp.mint("alice"))).status, 200U);
  ASSERT_EQ(idp.post(obo(idp.mint("alice"))).status, 200U);
  ASSERT_EQ(idp.post(obo(idp.mint("bob"))).status, 200U);
  ASSERT_EQ(idp.post(exchange_form(idp.mint("alice"))).status, 200U);
  ASSERT_EQ(idp.post(obo(idp.mint("dave"))).status, 400U);   // consent_required
  ASSERT_EQ(idp.post(obo(idp.mint("carol"))).status, 400U);  // mfa_required

  const auto stats = idp.provider().stats().snapshot();
  EXPECT_EQ(stats.count(GrantType::kClientCredentials), 1U);
  EXPECT_EQ(stats.count(GrantType::kOnBehalfOf), 3U);
  EXPECT_EQ(stats.count(GrantType::kTokenExchange), 1U);
  EXPECT_EQ(stats.count(GrantType::kAuthorizationCode), 0U);
  EXPECT_EQ(stats.total(), 5U);
  EXPECT_EQ(stats.count(GrantType::kOnBehalfOf, "server", "alice"), 2U);
  EXPECT_EQ(stats.count(GrantType::kOnBehalfOf, "server", "bob"), 1U);
  EXPECT_EQ(stats.count(GrantType::kOnBehalfOf, "server", "dave"), 0U);
  EXPECT_EQ(stats.count(GrantType::kTokenExchange, "server", "alice"), 1U);
  EXPECT_EQ(stats.count(GrantType::kClientCredentials, "client", ""), 1U);  // app-only: no user
  EXPECT_EQ(stats.refusals("consent_required"), 1U);
  EXPECT_EQ(stats.refusals("mfa_required"), 1U);

  const auto answer = admin(http::verb::get, "/_dev/stats");
  ASSERT_EQ(answer.status, 200U);
  const auto body = TestProvider::body(answer);
  EXPECT_EQ(body.at("issued").at("on_behalf_of"), 3);
  EXPECT_EQ(body.at("issued").at("token_exchange"), 1);
  EXPECT_EQ(body.at("issued").at("refresh_token"), 0);
  EXPECT_EQ(body.at("issued").at("authorization_code"), 0);
  EXPECT_EQ(body.at("issued").at("client_credentials"), 1);
  EXPECT_EQ(body.at("total"), 5);
  EXPECT_EQ(body.at("refused").at("consent_required"), 1);
  bool found = false;
  for (const auto& entry : body.at("by_client_user").as_array()) {
    if (entry.at("grant") == "on_behalf_of" && entry.at("client") == "server" &&
        entry.at("user") == "alice") {
      EXPECT_EQ(entry.at("count"), 2);
      found = true;
    }
  }
  EXPECT_TRUE(found) << answer.body;
  EXPECT_EQ(str(body.at("signing_keys").at("active_kid")), idp.provider().keys().active().kid);

  EXPECT_EQ(admin(http::verb::delete_, "/_dev/stats").status, 204U);
  EXPECT_EQ(idp.provider().stats().snapshot().total(), 0U);
}

TEST_F(Admin, StatsCountCodeAndRefreshGrantsForTheUserTheyIssuedFor) {
  const auto* alice = idp.provider().directory().find_user("alice");
  const std::string code = idp.provider().grants().issue_code(
      {.client_id = std::string(kClientId),
       .redirect_uri = "http://localhost:8100/auth/callback",
       .user_oid = alice->object_id,
       .scope = "openid api://" + std::string(kServerId) + "/access_as_user",
       .amr = {"pwd"},
       .expires_at = idp.now() + std::chrono::minutes(5)},
      idp.provider().random(), idp.now());
  ASSERT_EQ(idp.post({{"grant_type", "authorization_code"},
                      {"client_id", std::string(kClientId)},
                      {"client_secret", std::string(kClientSecret)},
                      {"code", code},
                      {"redirect_uri", "http://localhost:8100/auth/callback"}})
                .status,
            200U);
  const std::string refresh = idp.provider().grants().issue_refresh_token(
      {.client_id = std::string(kClientId), .user_oid = alice->object_id, .amr = {"pwd"},
       .expires_at = idp.now() + std::chrono::hours(1)},
      idp.provider().random(), idp.now());
  ASSERT_EQ(idp.post({{"grant_type", "refresh_token"},
                      {"client_id", std::string(kClientId)},
                      {"client_secret", std::string(kClientSecret)},
                      {"refresh_token", refresh},
                      {"scope", "api://" + std::string(kServerId) + "/access_as_user"}})
                .status,
            200U);
  const auto stats = idp.provider().stats().snapshot();
  EXPECT_EQ(stats.count(GrantType::kAuthorizationCode, "client", "alice"), 1U);
  EXPECT_EQ(stats.count(GrantType::kRefreshToken, "client", "alice"), 1U);
  // A refused redemption is counted as a refusal, not an issuance.
  ASSERT_EQ(idp.post({{"grant_type", "refresh_token"},
                      {"client_id", std::string(kClientId)},
                      {"client_secret", std::string(kClientSecret)},
                      {"refresh_token", refresh},
                      {"scope", "api://" + std::string(kServerId) + "/access_as_user"}})
                .status,
            400U);
  EXPECT_EQ(idp.provider().stats().snapshot().count(GrantType::kRefreshToken), 1U);
  EXPECT_EQ(idp.provider().stats().snapshot().refusals("refresh_token_revoked"), 1U);
}

TEST_F(Admin, RotationPutsANewKeyInChargeAndKeepsThePreviousPublished) {
  const auto original = idp.provider().keys().active().kid;
  const auto alice_before = idp.mint("alice");
  EXPECT_EQ(auth::parse_jws(alice_before)->kid(), original);

  auto answer = admin(http::verb::post, "/_dev/keys/rotate");
  ASSERT_EQ(answer.status, 200U) << answer.body;
  auto body = TestProvider::body(answer);
  const std::string first(body.at("active_kid").as_string());
  EXPECT_EQ(first, test_keys().rotation[0].kid);
  EXPECT_EQ(body.at("generation"), 1);
  EXPECT_EQ(published_kids(), (std::vector<std::string>{first, original}));
  EXPECT_EQ(body.at("published_kids"), (json::array{first, original}));

  // New tokens carry the new kid; a token of the previous key still serves as an OBO assertion.
  const auto alice_after = idp.mint("alice");
  EXPECT_EQ(auth::parse_jws(alice_after)->kid(), first);
  EXPECT_EQ(idp.post(obo(alice_before)).status, 200U);
  EXPECT_EQ(idp.post(obo(alice_after)).status, 200U);

  // A second rotation retires the original key: its tokens no longer verify, cached or not.
  answer = admin(http::verb::post, "/_dev/keys/rotate");
  ASSERT_EQ(answer.status, 200U);
  EXPECT_EQ(published_kids(), (std::vector<std::string>{test_keys().rotation[1].kid, first}));
  const auto refused = idp.post(obo(alice_before));
  EXPECT_EQ(refused.status, 400U);
  EXPECT_EQ(TestProvider::body(refused).at("error_codes").as_array().at(0), 50013);
  EXPECT_EQ(idp.post(obo(alice_after)).status, 200U);
}

TEST_F(Admin, ARotationThatCannotMakeAKeyChangesNothing) {
  ProviderOptions options;
  options.base_url = kBaseUrl;
  options.new_signing_key = []() -> SigningKey { throw std::runtime_error("no entropy today"); };
  IdentityProvider provider(test_directory(), SigningKeys(test_keys().signing), std::move(options));
  const auto before = provider.keys().active().kid;
  const auto answer = admin_request(provider, http::verb::post, "/_dev/keys/rotate");
  EXPECT_EQ(answer.status, 500U);
  EXPECT_EQ(answer.body.find("entropy"), std::string::npos);  // the cause goes to the log, not the caller
  EXPECT_EQ(provider.keys().active().kid, before);
  // Nor may a rotation publish a kid twice (the signer again); the key published ahead may take over.
  SigningKeys keys(test_keys().signing);
  EXPECT_THROW(keys.rotate(test_keys().signing[0]), std::runtime_error);
  EXPECT_EQ(keys.current()->number, 0U);
  EXPECT_EQ(keys.rotate(test_keys().signing[1])->keys.at(1).kid, test_keys().signing[0].kid);
}

TEST_F(Admin, TheHooksAreOnlyForAdminCallersAndOnlyWithTheirMethods) {
  for (auto [method, path] :
       std::vector<std::pair<http::verb, std::string_view>>{{http::verb::get, "/_dev/stats"},
                                                            {http::verb::post, "/_dev/keys/rotate"},
                                                            {http::verb::delete_, "/_dev/stats"}}) {
    EXPECT_EQ(route(idp.provider(), method, path, "", "", "").status, 404U) << path;
  }
  EXPECT_EQ(idp.rotations(), 0U);
  EXPECT_EQ(admin(http::verb::get, "/_dev/keys/rotate").status, 405U);
  EXPECT_EQ(admin(http::verb::post, "/_dev/stats").status, 405U);
  EXPECT_EQ(admin(http::verb::get, "/_dev/other").status, 404U);
  EXPECT_EQ(admin(http::verb::get, "/_dev/stats?x=1").status, 200U);
}

TEST(AdminAllowed, LoopbackListenerNoOriginAndALoopbackHost) {
  EXPECT_TRUE(admin_allowed(true, "", "127.0.0.1:8443"));
  EXPECT_TRUE(admin_allowed(true, "", "localhost:8443"));
  EXPECT_TRUE(admin_allowed(true, "", "[::1]:8444"));
  EXPECT_TRUE(admin_allowed(true, "", "127.0.0.1"));
  EXPECT_TRUE(admin_allowed(true, "", "127.1.2.3:1"));
  EXPECT_FALSE(admin_allowed(false, "", "127.0.0.1:8443"));                     // a listener others reach
  EXPECT_FALSE(admin_allowed(true, "https://evil.example", "127.0.0.1:8443"));  // a web page's request
  EXPECT_FALSE(admin_allowed(true, "null", "127.0.0.1:8443"));
  EXPECT_FALSE(admin_allowed(true, "", "evil.example:8443"));  // DNS rebinding
  EXPECT_FALSE(admin_allowed(true, "", "localhost.evil.example"));
  EXPECT_FALSE(admin_allowed(true, "", ""));
  EXPECT_TRUE(is_loopback_host("::1"));
  EXPECT_FALSE(is_loopback_host("0.0.0.0"));
  EXPECT_FALSE(is_loopback_host("10.0.0.1"));
}

TEST_F(Admin, RotationWhileOtherThreadsIssueAndVerifyIsConsistent) {
  // Every token signed during rotations verifies against the key set as it was when it was signed or the next
  // one (the previous key stays published): no torn reads, no crash. Bounded: a fixed number of rounds.
  constexpr int kRounds = 200;
  std::atomic<int> failures{0};
  std::vector<std::thread> workers;
  for (int t = 0; t < 3; ++t) {
    workers.emplace_back([&] {
      for (int i = 0; i < kRounds; ++i) {
        auto token = idp.provider().mint_user_token("alice");
        if (!token) {
          ++failures;
          continue;
        }
        (void)idp.provider().validate_assertion(*idp.provider().directory().find_app("server"), *token);
        (void)idp.provider().keys().jwks("x");
      }
    });
  }
  for (int i = 0; i < 6; ++i) ASSERT_TRUE(idp.provider().rotate_signing_key());
  for (auto& worker : workers) worker.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(idp.provider().keys().current()->number, 6U);
  // After the last rotation, a fresh token verifies.
  EXPECT_TRUE(
      idp.provider().validate_assertion(*idp.provider().directory().find_app("server"), idp.mint("alice")));
}

}  // namespace
}  // namespace deputy::devidp::testing
