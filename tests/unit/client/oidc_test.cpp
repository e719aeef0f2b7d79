// What the client checks of an id_token, and the account it makes of a token response.
#include "deputy/client/oidc.hpp"

#include "deputy/auth/base64url.hpp"

#include <gtest/gtest.h>
#include <boost/json.hpp>

namespace deputy::client {
namespace {

namespace json = boost::json;
using std::chrono::seconds;

const Clock::time_point kNow = Clock::time_point(seconds(1'800'000'000));

/// An unsigned JWT with `claims` (the client reads id_tokens without checking signatures; see oidc.hpp).
std::string jwt(const json::object& claims) {
  return auth::base64url_encode(R"({"alg":"RS256","typ":"JWT"})") + "." +
         auth::base64url_encode(json::serialize(claims)) + ".c2ln";
}

json::object alice_claims() {
  return {{"iss", "https://127.0.0.1:8443/tid/v2.0"},
          {"aud", "client-id"},
          {"nonce", "n-1"},
          {"oid", "oid-a"},
          {"tid", "tid"},
          {"sub", "pairwise"},
          {"preferred_username", "alice@deputy-dev.test"},
          {"name", "Alice Adams"},
          {"exp", 1'800'000'000 + 3600}};
}

TEST(IdToken, AGoodOnePasses) {
  auto claims = read_id_token(jwt(alice_claims()));
  ASSERT_TRUE(claims);
  EXPECT_EQ(claims->preferred_username, "alice@deputy-dev.test");
  EXPECT_TRUE(check_id_token(*claims, "client-id", "n-1", "https://127.0.0.1:8443/tid/v2.0", kNow));
  // Entra's multi-tenant issuer placeholder is not compared.
  EXPECT_TRUE(
      check_id_token(*claims, "client-id", "n-1", "https://login.microsoftonline.com/{tenantid}/v2.0", kNow));
}

TEST(IdToken, AnotherSignInsNonceIsRefused) {
  auto claims = read_id_token(jwt(alice_claims()));
  ASSERT_TRUE(claims);
  auto checked = check_id_token(*claims, "client-id", "n-2", "", kNow);
  ASSERT_FALSE(checked);
  EXPECT_EQ(checked.error().code, ErrorCode::kBadTokenResponse);
  EXPECT_NE(checked.error().message.find("nonce"), std::string::npos);
  auto without = alice_claims();
  without.erase("nonce");
  EXPECT_FALSE(check_id_token(*read_id_token(jwt(without)), "client-id", "n-1", "", kNow));
}

TEST(IdToken, AnotherClientsAnotherIssuersOrAnExpiredOneIsRefused) {
  auto claims = *read_id_token(jwt(alice_claims()));
  EXPECT_FALSE(check_id_token(claims, "other-client", "n-1", "", kNow));
  EXPECT_FALSE(check_id_token(claims, "client-id", "n-1", "https://evil.example/tid/v2.0", kNow));
  EXPECT_FALSE(check_id_token(claims, "client-id", "n-1", "", kNow + seconds(3600 + 301)));
  auto array = alice_claims();
  array["aud"] = json::array({"x", "client-id"});
  EXPECT_TRUE(check_id_token(*read_id_token(jwt(array)), "client-id", "n-1", "", kNow));
}

TEST(IdToken, MalformedOnesAreBadTokenResponses) {
  for (const std::string& token :
       {std::string("abc"), std::string("a.!!!.c"),
        auth::base64url_encode("{}") + "." + auth::base64url_encode("[1]") + ".c"}) {
    auto claims = read_id_token(token);
    ASSERT_FALSE(claims) << token;
    EXPECT_EQ(claims.error().code, ErrorCode::kBadTokenResponse);
  }
  auto no_exp = alice_claims();
  no_exp.erase("exp");
  EXPECT_FALSE(read_id_token(jwt(no_exp)));
}

TEST(Account, HomeAccountIdComesFromClientInfoElseFromTheIdToken) {
  auto claims = *read_id_token(jwt(alice_claims()));
  TokenResponse response{.client_info = auth::base64url_encode(R"({"uid":"uid-1","utid":"utid-1"})")};
  auto account = account_of(response, claims, "127.0.0.1");
  EXPECT_EQ(account.home_account_id, "uid-1.utid-1");
  EXPECT_EQ(account.local_account_id, "oid-a");
  EXPECT_EQ(account.username, "alice@deputy-dev.test");
  EXPECT_EQ(account.environment, "127.0.0.1");
  EXPECT_EQ(account_of({}, claims, "e").home_account_id, "oid-a.tid");
}

TEST(Environment, IsTheAuthoritysHostAsMsalComputesIt) {
  EXPECT_EQ(environment_of("https://127.0.0.1:8443"), "127.0.0.1");
  EXPECT_EQ(environment_of("https://Login.MicrosoftOnline.com/tenant"), "login.microsoftonline.com");
}

TEST(Form, IsUrlEncoded) {
  EXPECT_EQ(encode_form({{"scope", "api://x/y openid"}, {"a&b", "c=d"}}),
            "scope=api%3A%2F%2Fx%2Fy%20openid&a%26b=c%3Dd");
}

}  // namespace
}  // namespace deputy::client
