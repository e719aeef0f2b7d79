#include "deputy/devidp/errors.hpp"

#include <boost/json.hpp>
#include <fmt/chrono.h>
#include <fmt/format.h>

#include <ctime>

namespace deputy::devidp {

namespace json = boost::json;

const ErrorInfo& info(IdpError error) {
  // Codes and OAuth errors as Entra ID sends them (see shared/entra.md); the reason labels are ours.
  static const ErrorInfo kMissingParameter{"invalid_request", 900144, 400, "", "missing_parameter"};
  static const ErrorInfo kMalformedRequest{"invalid_request", 9002313, 400, "", "malformed_request"};
  static const ErrorInfo kPostRequired{"invalid_request", 900561, 400, "", "post_required"};
  static const ErrorInfo kUnsupportedGrantType{"unsupported_grant_type", 70003, 400, "", "unsupported_grant_type"};
  static const ErrorInfo kTenantNotFound{"invalid_request", 90002, 400, "", "tenant_not_found"};
  static const ErrorInfo kTenantNotFoundInDiscovery{"invalid_tenant", 90002, 400, "", "tenant_not_found"};
  static const ErrorInfo kUnknownClient{"unauthorized_client", 700016, 400, "", "unknown_client"};
  static const ErrorInfo kClientCredentialsRequired{"invalid_client", 7000218, 401, "", "client_credentials_required"};
  static const ErrorInfo kInvalidClientSecret{"invalid_client", 7000215, 401, "", "invalid_client_secret"};
  static const ErrorInfo kClientAssertionMalformed{"invalid_client", 50027, 401, "", "client_assertion_malformed"};
  static const ErrorInfo kClientAssertionSignature{"invalid_client", 700027, 401, "", "client_assertion_signature"};
  static const ErrorInfo kClientAssertionAudience{"invalid_client", 700023, 401, "", "client_assertion_audience"};
  static const ErrorInfo kClientAssertionTime{"invalid_client", 700024, 401, "", "client_assertion_time"};
  static const ErrorInfo kClientAssertionSubject{"invalid_client", 700021, 401, "", "client_assertion_subject"};
  static const ErrorInfo kInvalidScope{"invalid_scope", 70011, 400, "", "invalid_scope"};
  static const ErrorInfo kDefaultScopeRequired{"invalid_scope", 1002012, 400, "", "default_scope_required"};
  static const ErrorInfo kMultipleResources{"invalid_scope", 28000, 400, "", "multiple_resources"};
  static const ErrorInfo kUnknownResource{"invalid_resource", 500011, 400, "", "unknown_resource"};
  static const ErrorInfo kInvalidTarget{"invalid_target", 500011, 400, "", "invalid_target"};
  static const ErrorInfo kAssertionMalformed{"invalid_request", 50027, 400, "", "assertion_malformed"};
  static const ErrorInfo kAssertionSignature{"invalid_grant", 50013, 400, "", "assertion_signature"};
  static const ErrorInfo kAssertionExpired{"invalid_grant", 500133, 400, "", "assertion_expired"};
  static const ErrorInfo kAssertionAudience{"invalid_grant", 500131, 400, "", "assertion_audience"};
  static const ErrorInfo kAppOnlyAssertion{"invalid_grant", 7000114, 400, "", "app_only_assertion"};
  static const ErrorInfo kUserNotFound{"invalid_grant", 50034, 400, "", "user_not_found"};
  static const ErrorInfo kConsentRequired{"invalid_grant", 65001, 400, "consent_required", "consent_required"};
  static const ErrorInfo kMfaRequired{"interaction_required", 50076, 400, "", "mfa_required"};
  static const ErrorInfo kGrantInvalid{"invalid_grant", 9002313, 400, "", "grant_invalid"};
  static const ErrorInfo kGrantExpired{"invalid_grant", 70008, 400, "", "grant_expired"};
  static const ErrorInfo kGrantClientMismatch{"invalid_grant", 70000, 400, "", "grant_client_mismatch"};
  static const ErrorInfo kCodeRedeemed{"invalid_grant", 54005, 400, "", "code_redeemed"};
  static const ErrorInfo kRefreshTokenRevoked{"invalid_grant", 50173, 400, "", "refresh_token_revoked"};
  static const ErrorInfo kRedirectUriMismatch{"invalid_grant", 500112, 400, "", "redirect_uri_mismatch"};
  static const ErrorInfo kPkceMismatch{"invalid_grant", 501481, 400, "", "pkce_mismatch"};
  static const ErrorInfo kRedirectUriNotRegistered{"invalid_request", 50011, 400, "", "redirect_uri_not_registered"};
  static const ErrorInfo kUnsupportedResponseType{"unsupported_response_type", 700054, 400, "",
                                                  "unsupported_response_type"};
  static const ErrorInfo kPkceRequired{"invalid_request", 9002325, 400, "", "pkce_required"};
  static const ErrorInfo kLoginRequired{"login_required", 50058, 400, "", "login_required"};
  static const ErrorInfo kInteractiveConsentRequired{"consent_required", 65001, 400, "", "consent_required"};
  static const ErrorInfo kInvalidCredentials{"invalid_grant", 50126, 400, "", "invalid_credentials"};
  static const ErrorInfo kAccessDenied{"access_denied", 65004, 400, "cancel", "access_denied"};
  static const ErrorInfo kAccountSelectionRequired{"interaction_required", 16000, 400, "", "account_selection_required"};
  static const ErrorInfo kInternal{"temporarily_unavailable", 90033, 500, "", "internal"};
  switch (error) {
    case IdpError::kMissingParameter: return kMissingParameter;
    case IdpError::kMalformedRequest: return kMalformedRequest;
    case IdpError::kPostRequired: return kPostRequired;
    case IdpError::kUnsupportedGrantType: return kUnsupportedGrantType;
    case IdpError::kTenantNotFound: return kTenantNotFound;
    case IdpError::kTenantNotFoundInDiscovery: return kTenantNotFoundInDiscovery;
    case IdpError::kUnknownClient: return kUnknownClient;
    case IdpError::kClientCredentialsRequired: return kClientCredentialsRequired;
    case IdpError::kInvalidClientSecret: return kInvalidClientSecret;
    case IdpError::kClientAssertionMalformed: return kClientAssertionMalformed;
    case IdpError::kClientAssertionSignature: return kClientAssertionSignature;
    case IdpError::kClientAssertionAudience: return kClientAssertionAudience;
    case IdpError::kClientAssertionTime: return kClientAssertionTime;
    case IdpError::kClientAssertionSubject: return kClientAssertionSubject;
    case IdpError::kInvalidScope: return kInvalidScope;
    case IdpError::kDefaultScopeRequired: return kDefaultScopeRequired;
    case IdpError::kMultipleResources: return kMultipleResources;
    case IdpError::kUnknownResource: return kUnknownResource;
    case IdpError::kInvalidTarget: return kInvalidTarget;
    case IdpError::kAssertionMalformed: return kAssertionMalformed;
    case IdpError::kAssertionSignature: return kAssertionSignature;
    case IdpError::kAssertionExpired: return kAssertionExpired;
    case IdpError::kAssertionAudience: return kAssertionAudience;
    case IdpError::kAppOnlyAssertion: return kAppOnlyAssertion;
    case IdpError::kUserNotFound: return kUserNotFound;
    case IdpError::kConsentRequired: return kConsentRequired;
    case IdpError::kMfaRequired: return kMfaRequired;
    case IdpError::kGrantInvalid: return kGrantInvalid;
    case IdpError::kGrantExpired: return kGrantExpired;
    case IdpError::kGrantClientMismatch: return kGrantClientMismatch;
    case IdpError::kCodeRedeemed: return kCodeRedeemed;
    case IdpError::kRefreshTokenRevoked: return kRefreshTokenRevoked;
    case IdpError::kRedirectUriMismatch: return kRedirectUriMismatch;
    case IdpError::kPkceMismatch: return kPkceMismatch;
    case IdpError::kRedirectUriNotRegistered: return kRedirectUriNotRegistered;
    case IdpError::kUnsupportedResponseType: return kUnsupportedResponseType;
    case IdpError::kPkceRequired: return kPkceRequired;
    case IdpError::kLoginRequired: return kLoginRequired;
    case IdpError::kInteractiveConsentRequired: return kInteractiveConsentRequired;
    case IdpError::kInvalidCredentials: return kInvalidCredentials;
    case IdpError::kAccessDenied: return kAccessDenied;
    case IdpError::kAccountSelectionRequired: return kAccountSelectionRequired;
    case IdpError::kInternal: return kInternal;
  }
  return kInternal;
}

std::string entra_timestamp(std::chrono::system_clock::time_point time) {
  // UTC, whatever the machine's zone (fmt's time_point formatting uses local time in some versions).
  const std::time_t seconds = std::chrono::system_clock::to_time_t(time);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  return fmt::format("{:%Y-%m-%d %H:%M:%S}Z", utc);
}

std::string error_body(const Failure& failure, const ErrorStamp& stamp) {
  const auto& error = info(failure.error);
  const std::string timestamp = entra_timestamp(stamp.now);
  json::object body;
  body["error"] = error.oauth_error;
  // Entra appends the trace and correlation ids and the time to every description, CRLF-separated.
  body["error_description"] =
      fmt::format("AADSTS{}: {}\r\nTrace ID: {}\r\nCorrelation ID: {}\r\nTimestamp: {}", error.code,
                  failure.message, stamp.trace_id, stamp.correlation_id, timestamp);
  body["error_codes"] = json::array{error.code};
  body["timestamp"] = timestamp;
  body["trace_id"] = stamp.trace_id;
  body["correlation_id"] = stamp.correlation_id;
  body["error_uri"] = fmt::format("{}/error?code={}", stamp.error_uri_base, error.code);
  if (!error.suberror.empty()) body["suberror"] = error.suberror;
  if (!failure.claims.empty()) body["claims"] = failure.claims;
  return json::serialize(body);
}

Failure missing_body_parameter(std::string_view name) {
  return {IdpError::kMissingParameter,
          fmt::format("The request body must contain the following parameter: '{}'.", name), {}};
}

}  // namespace deputy::devidp
