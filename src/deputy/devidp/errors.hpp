#pragma once
// The development identity provider's errors: one closed list, each with the OAuth error, the AADSTS code
// and the HTTP status Entra ID answers with, and one function that writes Entra's error body. Everything the
// token, authorization and discovery endpoints refuse goes through here, so the wire shape is decided in one
// place (the authorization endpoint's redirect and error page carry the same code and text).

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

namespace deputy::devidp {

enum class IdpError : std::uint8_t {
  kMissingParameter,            // 900144 invalid_request: a required form parameter is absent or empty
  kMalformedRequest,            // 9002313 invalid_request: bad encoding, a repeated parameter, a bad value
  kPostRequired,                // 900561 invalid_request: the token endpoint was not POSTed to
  kUnsupportedGrantType,        // 70003 unsupported_grant_type
  kTenantNotFound,              // 90002 invalid_request: the {tenant} path segment names no tenant here
  kTenantNotFoundInDiscovery,   // 90002 invalid_tenant: the same, as the discovery document answers it
  kUnknownClient,               // 700016 unauthorized_client: client_id names no application
  kClientCredentialsRequired,   // 7000218 invalid_client (401): a confidential flow without secret or assertion
  kInvalidClientSecret,         // 7000215 invalid_client (401): the secret is not one of the app's
  kClientAssertionMalformed,    // 50027 invalid_client (401): the client assertion is not a JWT we can read
  kClientAssertionSignature,    // 700027 invalid_client (401): unknown certificate or a signature that fails
  kClientAssertionAudience,     // 700023 invalid_client (401): aud is not this token endpoint
  kClientAssertionTime,         // 700024 invalid_client (401): expired, not yet valid, or without exp
  kClientAssertionSubject,      // 700021 invalid_client (401): iss or sub is not the client_id
  kInvalidScope,                // 70011 invalid_scope: unknown scope name, .default mixed, no resource
  kDefaultScopeRequired,        // 1002012 invalid_scope: client credentials without <resource>/.default
  kMultipleResources,           // 28000 invalid_scope: scopes of more than one resource in one request
  kUnknownResource,             // 500011 invalid_resource: no application has that identifier
  kInvalidTarget,               // 500011 invalid_target (RFC 8693): audience/resource names no app, or not the scope's
  kAssertionMalformed,          // 50027 invalid_request: the OBO assertion is not a JWT we can read
  kAssertionSignature,          // 50013 invalid_grant: signature, unknown key, or an issuer we never use
  kAssertionExpired,            // 500133 invalid_grant: the assertion is expired (or not yet valid)
  kAssertionAudience,           // 500131 invalid_grant: the assertion was not issued to the calling app
  kAppOnlyAssertion,            // 7000114 invalid_grant: an app-only token cannot be an OBO assertion
  kUserNotFound,                // 50034 invalid_grant: the assertion's user is not in the directory
  kConsentRequired,             // 65001 invalid_grant (suberror consent_required): no consent for the scopes
  kMfaRequired,                 // 50076 interaction_required, with a claims challenge
  kGrantInvalid,                // 9002313 invalid_grant: a code or refresh token never issued here
  kGrantExpired,                // 70008 invalid_grant: a code or refresh token past its life
  kGrantClientMismatch,         // 70000 invalid_grant: a code or refresh token of another client
  kCodeRedeemed,                // 54005 invalid_grant: a code used a second time
  kRefreshTokenRevoked,         // 50173 invalid_grant: a refresh token already rotated away
  kRedirectUriMismatch,         // 500112 invalid_grant: redirect_uri differs from the authorization request's
  kPkceMismatch,                // 501481 invalid_grant: code_verifier missing or not the code_challenge's
  kRedirectUriNotRegistered,    // 50011 invalid_request: shown on a page, never redirected to
  kUnsupportedResponseType,     // 700054 unsupported_response_type
  kPkceRequired,                // 9002325 invalid_request: a public client without code_challenge
  kLoginRequired,               // 50058 login_required: prompt=none and no session
  kInteractiveConsentRequired,  // 65001 consent_required: at /authorize with prompt=none and no consent
  kInvalidCredentials,          // 50126 invalid_grant: wrong user name or password (shown on the login page)
  kAccessDenied,                // 65004 access_denied (error_subcode cancel): the user cancelled consent
  kAccountSelectionRequired,    // 16000 interaction_required: prompt=none, several accounts and no login_hint
  kInternal,                    // 90033 temporarily_unavailable (500): signing failed; our fault
};

/// How Entra answers one error.
struct ErrorInfo {
  std::string_view oauth_error;  // RFC 6749 §5.2 "error" (or Entra's own: invalid_tenant, invalid_resource)
  std::uint32_t code;            // the AADSTS number
  unsigned http_status;          // 400, 401 for invalid_client, 500 for ours
  std::string_view suberror;     // Entra's "suberror", empty when it sends none
  std::string_view reason;       // a stable reason label for logs and metrics
};

[[nodiscard]] const ErrorInfo& info(IdpError error);
[[nodiscard]] inline std::string_view to_string(IdpError error) { return info(error).reason; }

/// A refusal: which error, the text after "AADSTSnnnnn: ", and for kMfaRequired the claims challenge (a JSON
/// text, e.g. {"access_token":{"capolids":{"essential":true,"values":["..."]}}}). The message never holds a
/// secret or a token.
struct Failure {
  IdpError error = IdpError::kInternal;
  std::string message;
  std::string claims;
};

/// The refusal of a token request that lacks a parameter (AADSTS900144), worded as Entra words it.
[[nodiscard]] Failure missing_body_parameter(std::string_view name);

/// What the error body is stamped with besides the error itself.
struct ErrorStamp {
  std::chrono::system_clock::time_point now;
  std::string trace_id;        // a fresh GUID per answer
  std::string correlation_id;  // the client's client-request-id when it sent one, else a fresh GUID
  std::string error_uri_base;  // https://host:port, for "error_uri"
};

/// Entra's error body: {"error","error_description":"AADSTSn: message\r\nTrace ID: …\r\nCorrelation ID: …
/// \r\nTimestamp: …","error_codes":[n],"timestamp","trace_id","correlation_id","error_uri","suberror"?,
/// "claims"?}.
[[nodiscard]] std::string error_body(const Failure& failure, const ErrorStamp& stamp);

/// Entra's timestamp format: "2024-06-20 11:53:16Z".
[[nodiscard]] std::string entra_timestamp(std::chrono::system_clock::time_point time);

}  // namespace deputy::devidp
