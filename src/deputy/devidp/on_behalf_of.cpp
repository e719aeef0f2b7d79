// The On-Behalf-Of grant (grants.hpp): RFC 7523 jwt-bearer as Entra ID does it.
#include "deputy/auth/base64url.hpp"
#include "deputy/auth/jws.hpp"
#include "deputy/devidp/delegation.hpp"
#include "deputy/devidp/grants.hpp"
#include "deputy/devidp/scopes.hpp"

#include <boost/json.hpp>
#include <fmt/chrono.h>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>
#include <ctime>

namespace deputy::devidp {

namespace json = boost::json;

namespace {

/// Entra's time format in assertion messages: 2024-06-20T11:53:16.0000000Z.
std::string iso_time(std::int64_t seconds) {
  const std::time_t time = seconds;
  std::tm utc{};
  gmtime_r(&time, &utc);
  return fmt::format("{:%Y-%m-%dT%H:%M:%S}.0000000Z", utc);
}

/// What the (not yet trusted) assertion says, for the text of an error only: never for a decision.
json::object unverified_claims(std::string_view assertion) {
  auto jws = auth::parse_jws(assertion, {.algorithms = auth::AlgSet::all()});
  return jws ? std::move(*jws).take_payload() : json::object();
}

std::string string_claim(const json::object& claims, std::string_view name) {
  const auto* value = claims.if_contains(name);
  if (value == nullptr) return {};
  if (value->is_string()) return std::string(value->get_string());
  return json::serialize(*value);
}

std::int64_t time_claim(const json::object& claims, std::string_view name) {
  const auto* value = claims.if_contains(name);
  if (value == nullptr) return 0;
  if (value->is_int64()) return value->get_int64();
  if (value->is_double()) return static_cast<std::int64_t>(value->get_double());
  return 0;
}

/// An assertion that did not validate, as Entra words it.
Failure assertion_failure(const IdentityProvider& provider, const Application& client, auth::Error error,
                          std::string_view assertion) {
  using auth::Error;
  switch (error) {
    case Error::kTooLarge:
    case Error::kMalformed:
    case Error::kWrongType:
      return {IdpError::kAssertionMalformed, "JWT token is invalid or malformed."};
    case Error::kUnknownKey:
    case Error::kKeysUnavailable:
      return {IdpError::kAssertionSignature,
              "Assertion failed signature validation. [Reason - The key was not found.]"};
    case Error::kAlgorithmNotAllowed:
    case Error::kUnsupportedCritical:
    case Error::kKeyMismatch:
    case Error::kBadSignature:
      return {IdpError::kAssertionSignature,
              "Assertion failed signature validation. [Reason - The provided signature value did not match the "
              "expected signature value.]"};
    case Error::kWrongIssuer:
    case Error::kTenantNotAllowed:
      return {IdpError::kAssertionSignature,
              "Assertion failed signature validation. [Reason - The assertion was not issued by this tenant.]"};
    case Error::kWrongAudience: {
      const auto audience = string_claim(unverified_claims(assertion), "aud");
      return {IdpError::kAssertionAudience,
              fmt::format("Assertion audience does not match the Client app presenting the assertion. The audience in "
                          "the assertion was '{}' and the expected audience is '{}' or one of the Application Uris of "
                          "this application with App ID '{}'({}). The downstream client must request a token for the "
                          "expected audience (the application that made the OBO request) and this application should "
                          "use that token as the assertion.",
                          audience.substr(0, std::min<std::size_t>(audience.size(), 200)), client.client_id,
                          client.client_id, client.display_name)};
    }
    case Error::kMissingExpiry:
    case Error::kExpired:
    case Error::kNotYetValid: {
      const auto now = std::chrono::duration_cast<std::chrono::seconds>(provider.now().time_since_epoch()).count();
      return {IdpError::kAssertionExpired,
              fmt::format("Assertion is not within its valid time range. Ensure that the access token is not expired "
                          "before using it for user assertion, or request a new token. Current time: {}, expiry time "
                          "of assertion {}.",
                          iso_time(now), iso_time(time_claim(unverified_claims(assertion), "exp")))};
    }
    case Error::kAppOnlyNotAllowed:
      return {IdpError::kAppOnlyAssertion,
              fmt::format("Application '{}'({}) is not allowed to make application on-behalf-of calls.",
                          client.client_id, client.display_name)};
    default:
      return {IdpError::kAssertionMalformed, "JWT token is invalid or malformed."};
  }
}

/// Whether the verified assertion records an MFA sign-in (see token_issuer.hpp on `amr`).
bool signed_in_with_mfa(std::string_view assertion) {
  const auto claims = unverified_claims(assertion);  // verified by the caller already
  const auto* amr = claims.if_contains("amr");
  if (amr == nullptr || !amr->is_array()) return false;
  return std::ranges::any_of(amr->get_array(),
                             [](const json::value& method) { return method.is_string() && method.get_string() == "mfa"; });
}

}  // namespace

std::expected<json::object, Failure> on_behalf_of_grant(const IdentityProvider& provider, const Form& form,
                                                        const AuthenticatedClient& client) {
  const auto use = form.value("requested_token_use");
  if (use.empty()) return std::unexpected(missing_body_parameter("requested_token_use"));
  if (use != "on_behalf_of") {
    // TODO(next slice): other jwt-bearer uses are not Entra's; RFC 8693 token exchange has its own grant type.
    return std::unexpected(Failure{IdpError::kMalformedRequest,
                                   "Invalid request. requested_token_use must be 'on_behalf_of'."});
  }
  const auto assertion = form.value("assertion");
  if (assertion.empty()) return std::unexpected(missing_body_parameter("assertion"));
  const auto scope = form.value("scope");
  if (scope.empty()) return std::unexpected(missing_body_parameter("scope"));
  if (auto credential = require_credential(client, "on_behalf_of"); !credential) {
    return std::unexpected(credential.error());
  }
  auto request = parse_scopes(provider.directory(), scope);
  if (!request) return std::unexpected(request.error());
  if (request->resource == nullptr) {
    return std::unexpected(Failure{IdpError::kInvalidScope,
                                   "The provided value for the input parameter 'scope' is not valid. It must name a "
                                   "resource (e.g. https://graph.microsoft.com/.default)."});
  }
  const Application& app = *client.app;
  const Application& resource = *request->resource;

  // The assertion: our signature, this tenant, unexpired, a user's, and addressed to the caller itself (a
  // token for another app would let that app's holder borrow the caller's permissions).
  auto principal = provider.validate_assertion(app, assertion);
  if (!principal) return std::unexpected(assertion_failure(provider, app, principal.error(), assertion));
  const auto& directory = provider.directory();
  const User* user = directory.find_user_by_oid((*principal)->object_id);
  if (user == nullptr) {
    return std::unexpected(Failure{
        IdpError::kUserNotFound,
        fmt::format("The user account {} does not exist in the {} directory. To sign into this application, the "
                    "account must be added to the directory.",
                    (*principal)->object_id, directory.tenant.id)});
  }

  // Consent, then Conditional Access (delegation.hpp); the sign-in's MFA comes from the assertion's amr.
  std::vector<std::string> amr{"pwd"};
  if (signed_in_with_mfa(assertion)) amr.emplace_back("mfa");
  auto granted = delegated_scopes(directory, app, *user, *request, amr);
  if (!granted) return std::unexpected(granted.error());

  UserGrant grant{.user = user, .client = &app, .resource = &resource, .scopes = *granted,
                  .client_auth = client.method, .amr = amr};
  auto issued = provider.issuer().user_token(grant, provider.now(), provider.random());
  if (!issued) return std::unexpected(issued.error());
  spdlog::info("devidp on-behalf-of: {} for {} via {}", user->upn, resource.key, app.key);

  json::object body;
  body["token_type"] = "Bearer";
  body["scope"] = granted_scope_string(resource, *granted);
  body["expires_in"] = issued->expires_in.count();
  body["ext_expires_in"] = issued->expires_in.count();
  body["access_token"] = std::move(issued->token);
  if (request->offline_access) {
    // The middle tier may refresh on the user's behalf later (MSAL asks for offline_access on every OBO call).
    body["refresh_token"] = provider.grants().issue_refresh_token(
        {.client_id = app.client_id, .user_oid = user->object_id, .amr = amr, .expires_at = provider.now() + kRefreshTokenLifetime},
        provider.random(), provider.now());
  }
  if (form.value("client_info") == "1") {
    // MSAL keys its cache by client_info: base64url of {"uid": oid, "utid": tid}.
    json::object info;
    info["uid"] = user->object_id;
    info["utid"] = directory.tenant.id;
    body["client_info"] = auth::base64url_encode(json::serialize(info));
  }
  return body;
}

}  // namespace deputy::devidp
