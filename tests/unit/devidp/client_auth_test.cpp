// Client authentication on its own: secrets, MSAL-shaped certificate assertions, public clients.
#include "devidp_fixture.hpp"

#include "deputy/devidp/client_auth.hpp"

#include <gtest/gtest.h>

namespace deputy::devidp::testing {
namespace {

Form form_of(const Fields& fields) {
  auto form = parse_form(encode(fields));
  EXPECT_TRUE(form);
  return form ? *form : Form{};
}

TEST(ClientAuth, SecretIdentifiesTheApp) {
  TestProvider idp;
  auto client = authenticate_client(idp.provider(),
                                    form_of({{"client_id", std::string(kServerId)}, {"client_secret", std::string(kServerSecret)}}),
                                    kTenantId);
  ASSERT_TRUE(client);
  EXPECT_EQ(client->app->key, "server");
  EXPECT_EQ(client->method, ClientAuthMethod::kSecret);
}

TEST(ClientAuth, ClientIdIsCaseInsensitiveLikeAGuid) {
  TestProvider idp;
  std::string upper(kServerId);
  for (auto& c : upper) c = static_cast<char>(std::toupper(c));
  auto client = authenticate_client(
      idp.provider(), form_of({{"client_id", upper}, {"client_secret", std::string(kServerSecret)}}), kTenantId);
  EXPECT_TRUE(client);
}

TEST(ClientAuth, MsalsCertificateAssertionWithPaddedX5tAndFloatTimesIsAccepted) {
  TestProvider idp;
  const auto assertion = idp.client_assertion();
  auto client = authenticate_client(idp.provider(),
                                    form_of({{"client_id", std::string(kServerId)},
                                             {"client_assertion_type", std::string(kClientAssertionType)},
                                             {"client_assertion", assertion}}),
                                    kTenantId);
  ASSERT_TRUE(client) << client.error().message;
  EXPECT_EQ(client->method, ClientAuthMethod::kCertificate);
}

TEST(ClientAuth, TheSameAssertionMayBeSentAgainWhileValid) {
  // MSAL Python keeps one assertion for up to ten minutes; Entra accepts it each time.
  TestProvider idp;
  const auto assertion = idp.client_assertion();
  const auto form = form_of({{"client_id", std::string(kServerId)},
                             {"client_assertion_type", std::string(kClientAssertionType)},
                             {"client_assertion", assertion}});
  EXPECT_TRUE(authenticate_client(idp.provider(), form, kTenantId));
  idp.advance(std::chrono::seconds(500));
  EXPECT_TRUE(authenticate_client(idp.provider(), form, kTenantId));
  idp.advance(std::chrono::seconds(200));  // past exp + leeway
  auto late = authenticate_client(idp.provider(), form, kTenantId);
  ASSERT_FALSE(late);
  EXPECT_EQ(late.error().error, IdpError::kClientAssertionTime);
}

TEST(ClientAuth, AnAppWithoutCertificatesRefusesEveryAssertion) {
  TestProvider idp;
  const auto assertion = idp.client_assertion([](json::object&, json::object& claims) {
    claims["iss"] = kClientId;
    claims["sub"] = kClientId;
  });
  auto client = authenticate_client(idp.provider(),
                                    form_of({{"client_id", std::string(kClientId)},
                                             {"client_assertion_type", std::string(kClientAssertionType)},
                                             {"client_assertion", assertion}}),
                                    kTenantId);
  ASSERT_FALSE(client);
  EXPECT_EQ(client.error().error, IdpError::kClientAssertionSignature);
}

TEST(ClientAuth, NoCredentialIsAPublicClientForTheGrantToJudge) {
  TestProvider idp;
  auto client = authenticate_client(idp.provider(), form_of({{"client_id", std::string(kClientId)}}), kTenantId);
  ASSERT_TRUE(client);
  EXPECT_EQ(client->method, ClientAuthMethod::kNone);
}

}  // namespace
}  // namespace deputy::devidp::testing
