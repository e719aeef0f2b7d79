// The exchanger against a token endpoint in memory: what goes on the wire for each protocol, how every kind
// of answer Entra (or an RFC 8693 provider) gives becomes a DownstreamToken or a Failure, retries, and that
// no token or secret ends up in a description.
#include "deputy/obo/exchanger.hpp"

#include "deputy/auth/jws.hpp"
#include "obo_test_support.hpp"

#include <gtest/gtest.h>

namespace deputy::obo::testing {
namespace {

constexpr std::string_view kUserToken = "eyJ.user-token.sig";
constexpr std::string_view kSecret = "s3cret-value-never-shown";

class Exchanger : public ::testing::Test {
 protected:
  std::unique_ptr<TokenExchanger> make(Protocol protocol = Protocol::entra_obo) {
    ExchangeOptions options;
    options.protocol = protocol;
    options.token_endpoint = std::string(kEndpoint);
    options.client_id = std::string(kClientId);
    options.credential = ClientCredential::secret(std::string(kSecret));
    options.now = [] { return kNow; };
    options.sleep = [this](std::chrono::milliseconds delay) -> asio::awaitable<void> {
      slept_.push_back(delay);
      co_return;
    };
    if (protocol == Protocol::token_exchange) options.audience = "urn:downstream";
    return make_exchanger(std::move(options), endpoint_.sender());
  }
  std::expected<DownstreamToken, Failure> exchange(TokenExchanger& exchanger,
                                                   std::vector<std::string> scopes = {std::string(kGraph)},
                                                   std::string claims = {}) {
    ExchangeRequest request{.subject_token = kUserToken,
                            .subject_key = "oid:t/alice",
                            .scopes = std::move(scopes),
                            .claims = std::move(claims)};
    return run(exchanger.exchange(std::move(request)));
  }
  Failure failure_for(SendResult answer) {
    endpoint_.push(std::move(answer));
    auto exchanger = make();
    auto result = exchange(*exchanger);
    EXPECT_FALSE(result);
    if (result) return {};
    // Whatever the failure, it never carries a token or our secret.
    EXPECT_EQ(result.error().description.find(kSecret), std::string::npos);
    EXPECT_EQ(result.error().description.find(kUserToken), std::string::npos);
    EXPECT_EQ(result.error().description.find("Trace ID"), std::string::npos);
    return result.error();
  }

  FakeEndpoint endpoint_;
  std::vector<std::chrono::milliseconds> slept_;
};

TEST_F(Exchanger, EntraOnBehalfOfSendsTheJwtBearerFormAndReadsTheToken) {
  endpoint_.push(answer(200, success_body("uti-graph")));
  auto exchanger = make();
  auto token = exchange(*exchanger);
  ASSERT_TRUE(token) << token.error().description;
  EXPECT_EQ(token->expires_at, kNow + std::chrono::seconds(3599));
  EXPECT_EQ(token->scope, "https://graph.microsoft.com/User.Read");
  EXPECT_EQ(token->audience, "https://graph.microsoft.com");
  EXPECT_EQ(token->token_id, "uti-graph");
  EXPECT_FALSE(token->from_cache);

  ASSERT_EQ(endpoint_.calls(), 1U);
  const auto request = endpoint_.request();
  EXPECT_EQ(request.method, boost::beast::http::verb::post);
  EXPECT_EQ(request.url, kEndpoint);
  const auto has_header = [&](std::string_view name, std::string_view value) {
    return std::ranges::any_of(
        request.headers, [&](const net::ClientHeader& h) { return h.name == name && h.value == value; });
  };
  EXPECT_TRUE(has_header("Content-Type", "application/x-www-form-urlencoded"));
  ASSERT_TRUE(request.timeout);
  EXPECT_LE(*request.timeout, kDefaultExchangeTimeout);
  const auto form = endpoint_.form();
  EXPECT_EQ(form.value("grant_type"), "urn:ietf:params:oauth:grant-type:jwt-bearer");
  EXPECT_EQ(form.value("requested_token_use"), "on_behalf_of");
  EXPECT_EQ(form.value("assertion"), kUserToken);
  EXPECT_EQ(form.value("scope"), kGraph);
  EXPECT_EQ(form.value("client_id"), kClientId);
  EXPECT_EQ(form.value("client_secret"), kSecret);
  EXPECT_FALSE(form.get("claims"));
  EXPECT_FALSE(form.get("subject_token"));
}

TEST_F(Exchanger, ScopesAreSpaceJoinedAndClaimsArePassed) {
  endpoint_.push(answer(200, success_body()));
  auto exchanger = make();
  const std::string claims = R"({"access_token":{"acrs":{"essential":true,"value":"c1"}}})";
  auto token = exchange(
      *exchanger, {"https://graph.microsoft.com/User.Read", "https://graph.microsoft.com/Sites.Read.All"},
      claims);
  ASSERT_TRUE(token);
  const auto form = endpoint_.form();
  EXPECT_EQ(form.value("scope"),
            "https://graph.microsoft.com/User.Read https://graph.microsoft.com/Sites.Read.All");
  EXPECT_EQ(form.value("claims"), claims);
}

TEST_F(Exchanger, Rfc8693SendsTheTokenExchangeForm) {
  endpoint_.push(answer(
      200,
      R"({"access_token":"opaque-token","issued_token_type":"urn:ietf:params:oauth:token-type:access_token","token_type":"Bearer","expires_in":300})"));
  auto exchanger = make(Protocol::token_exchange);
  auto token = exchange(*exchanger, {"read", "write"});
  ASSERT_TRUE(token) << token.error().description;
  EXPECT_EQ(token->access_token, "opaque-token");
  EXPECT_EQ(token->scope, "read write");  // no scope in the answer: as asked
  EXPECT_EQ(token->token_id, "");         // not a JWT: nothing to read
  EXPECT_EQ(token->expires_at, kNow + std::chrono::seconds(300));
  const auto form = endpoint_.form();
  EXPECT_EQ(form.value("grant_type"), "urn:ietf:params:oauth:grant-type:token-exchange");
  EXPECT_EQ(form.value("subject_token"), kUserToken);
  EXPECT_EQ(form.value("subject_token_type"), "urn:ietf:params:oauth:token-type:access_token");
  EXPECT_EQ(form.value("audience"), "urn:downstream");
  EXPECT_EQ(form.value("scope"), "read write");
  EXPECT_FALSE(form.get("resource"));
  EXPECT_FALSE(form.get("assertion"));
  EXPECT_FALSE(form.get("requested_token_use"));
}

TEST_F(Exchanger, Rfc8693WithoutScopeIsAllowedButEntraNeedsOne) {
  endpoint_.push(answer(200, success_body()));
  auto exchange_8693 = make(Protocol::token_exchange);
  EXPECT_TRUE(exchange(*exchange_8693, {}));
  EXPECT_FALSE(endpoint_.form().get("scope"));
  auto obo = make();
  auto refused = exchange(*obo, {});
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().error, Error::invalid_scope);
  EXPECT_EQ(endpoint_.calls(), 1U);  // refused before the network
}

TEST_F(Exchanger, AScopeWithASpaceCannotSmuggleASecondScope) {
  auto exchanger = make();
  auto refused = exchange(*exchanger, {"https://graph.microsoft.com/User.Read Mail.Send"});
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().error, Error::invalid_scope);
  EXPECT_EQ(endpoint_.calls(), 0U);
}

TEST_F(Exchanger, NoUserTokenOrAnOversizedOneIsRefusedBeforeTheNetwork) {
  auto exchanger = make();
  ExchangeRequest empty{.subject_token = "", .subject_key = "k", .scopes = {std::string(kGraph)}};
  auto none = run(exchanger->exchange(empty));
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().error, Error::invalid_grant);
  const std::string huge(auth::kMaxTokenSize + 1, 'a');
  ExchangeRequest large{.subject_token = huge, .subject_key = "k", .scopes = {std::string(kGraph)}};
  auto too_large = run(exchanger->exchange(large));
  ASSERT_FALSE(too_large);
  EXPECT_EQ(too_large.error().error, Error::invalid_grant);
  EXPECT_EQ(endpoint_.calls(), 0U);
}

TEST_F(Exchanger, ConsentRequiredFromAadsts65001) {
  const auto failure = failure_for(answer(
      400,
      entra_error("invalid_grant", 65001,
                  "The user or administrator has not consented to use the application with ID "
                  "'d894da85-e1f8-4202-b8d8-bbfc24cbe604' named 'deputy MCP server'. Send an interactive "
                  "authorization request for this user and resource.",
                  {}, "consent_required")));
  EXPECT_EQ(failure.error, Error::consent_required);
  EXPECT_EQ(failure.code, "AADSTS65001");
  EXPECT_EQ(failure.oauth_error, "invalid_grant");
  EXPECT_EQ(failure.http_status, 400U);
  EXPECT_EQ(failure.scopes, std::vector<std::string>{std::string(kGraph)});
  EXPECT_TRUE(failure.description.starts_with("AADSTS65001: The user or administrator has not consented"));
  EXPECT_TRUE(failure.description.ends_with("resource."));  // the first line only
}

TEST_F(Exchanger, ConsentRequiredByCodeAlone) {
  EXPECT_EQ(failure_for(answer(400, entra_error("invalid_grant", 65001, "no consent"))).error,
            Error::consent_required);
}

TEST_F(Exchanger, InteractionRequiredCarriesTheClaimsChallenge) {
  const std::string claims =
      R"({"access_token":{"capolids":{"essential":true,"values":["f80160ba-329b-422e-beb7-51afef74a32a"]}}})";
  const auto failure = failure_for(answer(
      400,
      entra_error("interaction_required", 50076,
                  "Due to a configuration change made by your administrator, or because you moved to a new "
                  "location, you must use multi-factor authentication to access "
                  "'00000003-0000-0000-c000-000000000000'.",
                  claims)));
  EXPECT_EQ(failure.error, Error::interaction_required);
  EXPECT_EQ(failure.code, "AADSTS50076");
  EXPECT_EQ(failure.claims, claims);
}

TEST_F(Exchanger, AClaimsChallengeUnderInvalidGrantIsStillInteractionRequired) {
  // Entra has sent MFA challenges to OBO callers as invalid_grant with claims.
  const auto failure =
      failure_for(answer(400, entra_error("invalid_grant", 50079, "MFA registration", R"({"a":1})")));
  EXPECT_EQ(failure.error, Error::interaction_required);
  EXPECT_EQ(failure.claims, R"({"a":1})");
}

TEST_F(Exchanger, AppOnlyAssertionIsInvalidGrant) {
  const auto failure = failure_for(answer(
      400, entra_error(
               "invalid_grant", 7000114,
               "Application 'd894da85-e1f8-4202-b8d8-bbfc24cbe604'(deputy MCP server) is not allowed to make "
               "application on-behalf-of calls.")));
  EXPECT_EQ(failure.error, Error::invalid_grant);
  EXPECT_EQ(failure.code, "AADSTS7000114");
  EXPECT_TRUE(failure.claims.empty());
}

TEST_F(Exchanger, ExpiredOrMisaddressedAssertionsAreInvalidGrant) {
  EXPECT_EQ(failure_for(answer(400, entra_error("invalid_grant", 500133,
                                                "Assertion is not within its valid time range.")))
                .error,
            Error::invalid_grant);
  EXPECT_EQ(
      failure_for(answer(400, entra_error("invalid_grant", 500131, "Assertion audience does not match.")))
          .error,
      Error::invalid_grant);
  // A user token that is not a JWT at all: Entra says invalid_request, but it is the user's token that is
  // bad.
  EXPECT_EQ(
      failure_for(answer(400, entra_error("invalid_request", 50027, "JWT token is invalid or malformed.")))
          .error,
      Error::invalid_grant);
}

TEST_F(Exchanger, AConditionalAccessBlockIsInvalidGrant) {
  EXPECT_EQ(failure_for(answer(400, entra_error("access_denied", 53003,
                                                "Access has been blocked by Conditional Access policies.")))
                .error,
            Error::invalid_grant);
}

TEST_F(Exchanger, OurCredentialRefusedIsInvalidClient) {
  const auto failure =
      failure_for(answer(401, entra_error("invalid_client", 7000215, "Invalid client secret provided.")));
  EXPECT_EQ(failure.error, Error::invalid_client);
  EXPECT_EQ(failure.code, "AADSTS7000215");
  EXPECT_EQ(failure.http_status, 401U);
  EXPECT_EQ(
      failure_for(answer(400, entra_error("unauthorized_client", 700016, "Application not found."))).error,
      Error::invalid_client);
}

TEST_F(Exchanger, ScopeAndResourceProblemsAreInvalidScope) {
  EXPECT_EQ(failure_for(answer(400, entra_error("invalid_scope", 70011, "bad scope"))).error,
            Error::invalid_scope);
  EXPECT_EQ(failure_for(answer(400, entra_error("invalid_resource", 500011, "no such resource"))).error,
            Error::invalid_scope);
  EXPECT_EQ(failure_for(answer(400, R"({"error":"invalid_target"})")).error,
            Error::invalid_scope);  // RFC 8693
}

TEST_F(Exchanger, UnsupportedGrantTypeIsInvalidRequestWithTheOAuthError) {
  const auto failure = failure_for(answer(400, entra_error("unsupported_grant_type", 70003, "unsupported")));
  EXPECT_EQ(failure.error, Error::invalid_request);
  EXPECT_EQ(failure.oauth_error, "unsupported_grant_type");
}

TEST_F(Exchanger, ADescriptionWithoutCodesStillGivesTheCode) {
  const auto failure = failure_for(
      answer(400, R"({"error":"invalid_grant","error_description":"AADSTS50013: bad\r\nTrace ID: x"})"));
  EXPECT_EQ(failure.code, "AADSTS50013");
  EXPECT_EQ(failure.description, "AADSTS50013: bad");
}

TEST_F(Exchanger, AnErrorWithoutADescriptionGetsOurs) {
  const auto failure = failure_for(answer(400, R"({"error":"invalid_grant"})"));
  EXPECT_EQ(failure.error, Error::invalid_grant);
  EXPECT_EQ(failure.code, "");
  EXPECT_FALSE(failure.description.empty());
}

TEST_F(Exchanger, ServerErrorsAreUnavailableWhateverTheBody) {
  EXPECT_EQ(failure_for(answer(500, "<html>oops</html>")).error, Error::unavailable);
  EXPECT_EQ(failure_for(answer(500, entra_error("temporarily_unavailable", 90033, "try later"))).error,
            Error::unavailable);
  EXPECT_EQ(failure_for(answer(502, entra_error("invalid_grant", 50013, "a gateway quoting an error"))).error,
            Error::unavailable);
}

TEST_F(Exchanger, TransportErrorsAreUnavailable) {
  EXPECT_EQ(failure_for(std::unexpected(net::ClientError::timeout)).error, Error::unavailable);
  EXPECT_EQ(failure_for(std::unexpected(net::ClientError::connect_failed)).error, Error::unavailable);
  EXPECT_EQ(failure_for(std::unexpected(net::ClientError::tls_failed)).error, Error::unavailable);
  EXPECT_EQ(failure_for(std::unexpected(net::ClientError::response_too_large)).error,
            Error::malformed_response);
}

TEST_F(Exchanger, GarbageAndOversizedBodiesAreMalformed) {
  EXPECT_EQ(failure_for(answer(200, "not json")).error, Error::malformed_response);
  EXPECT_EQ(failure_for(answer(200, "[1,2,3]")).error, Error::malformed_response);
  EXPECT_EQ(failure_for(answer(200, R"({"token_type":"Bearer","expires_in":3599})")).error,
            Error::malformed_response);
  EXPECT_EQ(failure_for(answer(200, R"({"access_token":"t","token_type":"N_A","expires_in":3599})")).error,
            Error::malformed_response);
  EXPECT_EQ(
      failure_for(answer(200, R"({"access_token":"t","token_type":"Bearer","expires_in":"soon"})")).error,
      Error::malformed_response);
  EXPECT_EQ(failure_for(answer(200, R"({"access_token":"t","token_type":"Bearer"})")).error,
            Error::malformed_response);  // neither expires_in nor a JWT exp
  std::string oversized =
      R"({"access_token":")" + std::string(kMaxTokenResponseSize, 'a') + R"(","expires_in":1})";
  EXPECT_EQ(failure_for(answer(200, oversized)).error, Error::malformed_response);
  EXPECT_EQ(failure_for(answer(400, "not json")).error, Error::malformed_response);
  const std::string deep = std::string(100, '[') + std::string(100, ']');
  EXPECT_EQ(failure_for(answer(400, deep)).error, Error::malformed_response);
}

TEST_F(Exchanger, ExpiryFromAStringOrFromTheJwtAndCapped) {
  endpoint_.push(answer(200, R"({"access_token":"t","token_type":"bearer","expires_in":"3599"})"));
  auto exchanger = make();
  auto token = exchange(*exchanger);
  ASSERT_TRUE(token);
  EXPECT_EQ(token->expires_at, kNow + std::chrono::seconds(3599));

  FakeEndpoint endpoint;
  ExchangeOptions options{.token_endpoint = std::string(kEndpoint),
                          .client_id = std::string(kClientId),
                          .credential = ClientCredential::secret("s")};
  options.now = [] { return kNow; };
  const std::string jwt =
      fake_jwt({{"exp", 1'800'000'600}, {"jti", "j-1"}, {"aud", json::array{"api://a", "api://b"}}});
  endpoint.push(answer(200, R"({"access_token":")" + jwt + R"(","token_type":"Bearer"})"));
  auto from_jwt =
      run(make_exchanger(options, endpoint.sender())
              ->exchange({.subject_token = kUserToken, .subject_key = "k", .scopes = {std::string(kGraph)}}));
  ASSERT_TRUE(from_jwt);
  EXPECT_EQ(from_jwt->expires_at, kNow + std::chrono::seconds(600));
  EXPECT_EQ(from_jwt->token_id, "j-1");
  EXPECT_EQ(from_jwt->audience, "api://a");

  endpoint.push(answer(200, R"({"access_token":"t","token_type":"Bearer","expires_in":99999999})"));
  auto capped =
      run(make_exchanger(options, endpoint.sender())
              ->exchange({.subject_token = kUserToken, .subject_key = "k", .scopes = {std::string(kGraph)}}));
  ASSERT_TRUE(capped);
  EXPECT_EQ(capped->expires_at, kNow + kMaxTokenLifetime);
}

TEST_F(Exchanger, ThrottlingIsRetriedOnceHonouringRetryAfter) {
  endpoint_.push(answer(429, "", {{"Retry-After", "2"}}));
  endpoint_.push(answer(200, success_body()));
  auto exchanger = make();
  auto token = exchange(*exchanger);
  ASSERT_TRUE(token);
  EXPECT_EQ(endpoint_.calls(), 2U);
  EXPECT_EQ(slept_, std::vector<std::chrono::milliseconds>{std::chrono::seconds(2)});
}

TEST_F(Exchanger, ThrottlingThatPersistsIsUnavailableWithRetryAfter) {
  endpoint_.push(answer(429, "", {{"Retry-After", "1"}}));
  auto exchanger = make();
  auto failure = exchange(*exchanger);
  ASSERT_FALSE(failure);
  EXPECT_EQ(failure.error().error, Error::unavailable);
  EXPECT_EQ(failure.error().retry_after, std::chrono::seconds(1));
  EXPECT_EQ(endpoint_.calls(), kDefaultExchangeAttempts);
}

TEST_F(Exchanger, ALongRetryAfterIsPassedOnNotWaited) {
  endpoint_.push(answer(503, "", {{"Retry-After", "120"}}));
  auto exchanger = make();
  auto failure = exchange(*exchanger);
  ASSERT_FALSE(failure);
  EXPECT_EQ(failure.error().retry_after, std::chrono::seconds(120));
  EXPECT_EQ(endpoint_.calls(), 1U);
  EXPECT_TRUE(slept_.empty());
}

TEST_F(Exchanger, AClosedKeepAliveConnectionIsRetriedButATimeoutIsNot) {
  endpoint_.push(std::unexpected(net::ClientError::connection_closed));
  endpoint_.push(answer(200, success_body()));
  auto exchanger = make();
  EXPECT_TRUE(exchange(*exchanger));
  EXPECT_EQ(endpoint_.calls(), 2U);

  FakeEndpoint timing_out;
  timing_out.push(std::unexpected(net::ClientError::timeout));
  ExchangeOptions options{.token_endpoint = std::string(kEndpoint),
                          .client_id = std::string(kClientId),
                          .credential = ClientCredential::secret("s")};
  auto failure =
      run(make_exchanger(options, timing_out.sender())
              ->exchange({.subject_token = kUserToken, .subject_key = "k", .scopes = {std::string(kGraph)}}));
  ASSERT_FALSE(failure);
  EXPECT_EQ(failure.error().error, Error::unavailable);
  EXPECT_EQ(timing_out.calls(), 1U);
}

TEST_F(Exchanger, AnUnreadableCredentialIsCredentialUnavailableBeforeTheNetwork) {
  ExchangeOptions options{
      .token_endpoint = std::string(kEndpoint),
      .client_id = std::string(kClientId),
      .credential = ClientCredential::secret_from_environment("DEPUTY_TEST_UNSET_SECRET_VARIABLE")};
  auto failure =
      run(make_exchanger(options, endpoint_.sender())
              ->exchange({.subject_token = kUserToken, .subject_key = "k", .scopes = {std::string(kGraph)}}));
  ASSERT_FALSE(failure);
  EXPECT_EQ(failure.error().error, Error::credential_unavailable);
  EXPECT_EQ(failure.error().scopes, std::vector<std::string>{std::string(kGraph)});
  EXPECT_EQ(endpoint_.calls(), 0U);
}

TEST_F(Exchanger, ConfigurationErrorsThrowAtConstruction) {
  const auto build = [&](std::string endpoint, std::string client_id, bool credential, Protocol protocol) {
    ExchangeOptions options{
        .protocol = protocol, .token_endpoint = std::move(endpoint), .client_id = std::move(client_id)};
    if (credential) options.credential = ClientCredential::secret("s");
    return make_exchanger(std::move(options), endpoint_.sender());
  };
  EXPECT_THROW(build("http://login.example.test/token", "id", true, Protocol::entra_obo),
               std::invalid_argument);
  EXPECT_THROW(build("not a url", "id", true, Protocol::entra_obo), std::invalid_argument);
  EXPECT_THROW(build(std::string(kEndpoint), "", true, Protocol::entra_obo), std::invalid_argument);
  EXPECT_THROW(build(std::string(kEndpoint), "id", false, Protocol::entra_obo), std::invalid_argument);
  EXPECT_NO_THROW(build(std::string(kEndpoint), "id", false, Protocol::token_exchange));
  EXPECT_NO_THROW(build("http://127.0.0.1:8080/token", "id", true, Protocol::entra_obo));
  EXPECT_NO_THROW(build("http://localhost:8080/token", "id", true, Protocol::entra_obo));
}

}  // namespace
}  // namespace deputy::obo::testing
