#include "deputy/devidp/delegation.hpp"

#include "deputy/auth/base64url.hpp"
#include "deputy/auth/jws.hpp"

#include <boost/json.hpp>
#include <fmt/chrono.h>
#include <fmt/format.h>

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

bool contains_ignoring_case(const std::vector<std::string>& values, std::string_view wanted) {
  return std::ranges::any_of(values, [&](const std::string& value) {
    return value.size() == wanted.size() && std::ranges::equal(value, wanted, [](unsigned char a, unsigned char b) {
             return std::tolower(a) == std::tolower(b);
           });
  });
}

}  // namespace

std::expected<std::vector<std::string>, Failure> consented(const Directory& directory, const Application& client,
                                                           const User& user, const ScopeRequest& request) {
  const auto& resource = *request.resource;
  const auto consented = directory.consented_scopes(client, resource, user);
  std::vector<std::string> granted;
  if (request.default_scope) {
    granted = consented;
  } else if (std::ranges::all_of(request.scopes,
                                 [&](const std::string& scope) { return contains_ignoring_case(consented, scope); })) {
    granted = request.scopes;
  }
  if (granted.empty()) {
    return std::unexpected(Failure{
        IdpError::kConsentRequired,
        fmt::format("The user or administrator has not consented to use the application with ID '{}' named '{}'. "
                    "Send an interactive authorization request for this user and resource.",
                    client.client_id, client.display_name)});
  }
  return granted;
}

std::expected<std::vector<std::string>, Failure> delegated_scopes(const Directory& directory,
                                                                  const Application& client, const User& user,
                                                                  const ScopeRequest& request,
                                                                  const std::vector<std::string>& amr) {
  auto granted = consented(directory, client, user, request);
  if (!granted) return granted;
  // Conditional Access: a user whose policy demands MFA for this resource and whose sign-in did not use it gets
  // a claims challenge, which a middle tier must hand back to its client (shared/entra.md).
  const auto& resource = *request.resource;
  const auto* condition = directory.condition(user, resource);
  const bool mfa = std::ranges::find(amr, "mfa") != amr.end();
  if (condition != nullptr && condition->require_mfa && !mfa) {
    json::object capolids;
    capolids["essential"] = true;
    capolids["values"] = json::array{json::value(condition->policy_id)};
    json::object access_token;
    access_token["capolids"] = std::move(capolids);
    json::object challenge;
    challenge["access_token"] = std::move(access_token);
    return std::unexpected(Failure{
        IdpError::kMfaRequired,
        fmt::format("Due to a configuration change made by your administrator, or because you moved to a new "
                    "location, you must use multi-factor authentication to access '{}'.",
                    resource.client_id),
        json::serialize(challenge)});
  }
  return granted;
}

std::string granted_scope_string(const Application& resource, const std::vector<std::string>& scopes,
                                 bool default_scope) {
  std::string out;
  for (const auto& scope : scopes) {
    out += fmt::format("{}{}/{}", out.empty() ? "" : " ", resource.primary_identifier(), scope);
  }
  // Entra lists .default too when it was asked for; MSAL caches under the answer's scopes and looks the next
  // request's .default up there, so without it a repeated .default request would never be served from cache.
  if (default_scope) out += fmt::format("{}{}/.default", out.empty() ? "" : " ", resource.primary_identifier());
  return out;
}

std::expected<Delegation, Failure> delegate(const IdentityProvider& provider, const AuthenticatedClient& client,
                                            std::string_view assertion, const ScopeRequest& request) {
  if (request.resource == nullptr) {
    return std::unexpected(Failure{IdpError::kInvalidScope,
                                   "The provided value for the input parameter 'scope' is not valid. It must name a "
                                   "resource (e.g. https://graph.microsoft.com/.default)."});
  }
  const Application& app = *client.app;
  const Application& resource = *request.resource;

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

  // Consent, then Conditional Access; the sign-in's MFA comes from the assertion's amr.
  std::vector<std::string> amr{"pwd"};
  if (signed_in_with_mfa(assertion)) amr.emplace_back("mfa");
  auto granted = delegated_scopes(directory, app, *user, request, amr);
  if (!granted) return std::unexpected(granted.error());

  UserGrant grant{.user = user, .client = &app, .resource = &resource, .scopes = *granted,
                  .client_auth = client.method, .amr = amr};
  auto issued = provider.issuer().user_token(grant, provider.now(), provider.random());
  if (!issued) return std::unexpected(issued.error());
  return Delegation{.user = user, .resource = &resource, .scopes = std::move(*granted), .amr = std::move(amr),
                    .token = std::move(*issued)};
}

json::object delegation_response(const IdentityProvider& provider, const Form& form, const AuthenticatedClient& client,
                                 const ScopeRequest& request, Delegation delegation) {
  const auto& user = *delegation.user;
  json::object body;
  body["token_type"] = "Bearer";
  body["scope"] = granted_scope_string(*delegation.resource, delegation.scopes, request.default_scope);
  body["expires_in"] = delegation.token.expires_in.count();
  body["ext_expires_in"] = delegation.token.expires_in.count();
  body["access_token"] = std::move(delegation.token.token);
  if (request.offline_access) {
    // The middle tier may refresh on the user's behalf later (MSAL asks for offline_access on every OBO call).
    body["refresh_token"] = provider.grants().issue_refresh_token({.client_id = client.app->client_id,
                                                                   .user_oid = user.object_id,
                                                                   .amr = delegation.amr,
                                                                   .expires_at = provider.now() + kRefreshTokenLifetime},
                                                                  provider.random(), provider.now());
  }
  if (form.value("client_info") == "1") {
    // MSAL keys its cache by client_info: base64url of {"uid": oid, "utid": tid}.
    json::object info;
    info["uid"] = user.object_id;
    info["utid"] = provider.directory().tenant.id;
    body["client_info"] = auth::base64url_encode(json::serialize(info));
  }
  return body;
}

}  // namespace deputy::devidp
