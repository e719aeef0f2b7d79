// Entra's error body, and the table behind it.
#include "deputy/devidp/errors.hpp"

#include <boost/json.hpp>
#include <gtest/gtest.h>

namespace deputy::devidp {
namespace {

namespace json = boost::json;

TEST(Errors, BodyHasEntrasShape) {
  const ErrorStamp stamp{.now = std::chrono::system_clock::time_point(std::chrono::seconds(1'718'884'396)),
                         .trace_id = "36ca6b7e-6af2-4b19-835d-42fe2ce61a00",
                         .correlation_id = "70623480-4a75-4831-828b-631ef847d0b2",
                         .error_uri_base = "https://127.0.0.1:8443"};
  const auto body = json::parse(error_body({IdpError::kMfaRequired, "You must use MFA.", R"({"access_token":{}})"}, stamp))
                        .as_object();
  EXPECT_EQ(body.at("error"), "interaction_required");
  EXPECT_EQ(body.at("error_description"),
            "AADSTS50076: You must use MFA.\r\nTrace ID: 36ca6b7e-6af2-4b19-835d-42fe2ce61a00\r\nCorrelation ID: "
            "70623480-4a75-4831-828b-631ef847d0b2\r\nTimestamp: 2024-06-20 11:53:16Z");
  EXPECT_EQ(body.at("error_codes"), json::array({50076}));
  EXPECT_EQ(body.at("timestamp"), "2024-06-20 11:53:16Z");
  EXPECT_EQ(body.at("trace_id"), "36ca6b7e-6af2-4b19-835d-42fe2ce61a00");
  EXPECT_EQ(body.at("correlation_id"), "70623480-4a75-4831-828b-631ef847d0b2");
  EXPECT_EQ(body.at("error_uri"), "https://127.0.0.1:8443/error?code=50076");
  EXPECT_EQ(body.at("claims").as_string(), R"({"access_token":{}})");
  EXPECT_FALSE(body.contains("suberror"));
}

TEST(Errors, InvalidClientIs401AndTheRest400) {
  for (auto error : {IdpError::kInvalidClientSecret, IdpError::kClientCredentialsRequired,
                     IdpError::kClientAssertionSignature, IdpError::kClientAssertionTime}) {
    EXPECT_EQ(info(error).http_status, 401U) << to_string(error);
    EXPECT_EQ(info(error).oauth_error, "invalid_client");
  }
  for (auto error : {IdpError::kMissingParameter, IdpError::kUnknownClient, IdpError::kAssertionExpired,
                     IdpError::kConsentRequired, IdpError::kMfaRequired, IdpError::kTenantNotFound}) {
    EXPECT_EQ(info(error).http_status, 400U) << to_string(error);
  }
}

TEST(Errors, ReasonsAreDistinctPerCode) {
  // Two errors may share a code only when they are one refusal answered at two endpoints.
  EXPECT_EQ(info(IdpError::kTenantNotFound).code, info(IdpError::kTenantNotFoundInDiscovery).code);
  EXPECT_NE(info(IdpError::kTenantNotFound).oauth_error, info(IdpError::kTenantNotFoundInDiscovery).oauth_error);
  EXPECT_EQ(info(IdpError::kConsentRequired).suberror, "consent_required");
}

}  // namespace
}  // namespace deputy::devidp
