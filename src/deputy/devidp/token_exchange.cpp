// The token exchange grant (grants.hpp): RFC 8693 with On-Behalf-Of's policy. Entra ID does not offer it; the
// dev provider does so that a middle tier written against the RFC can be tested next to one written against
// MSAL, and both get the same decisions (delegation.hpp).
#include "deputy/devidp/delegation.hpp"
#include "deputy/devidp/grants.hpp"
#include "deputy/devidp/scopes.hpp"
#include "deputy/devidp/token_endpoint.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <boost/json.hpp>

namespace deputy::devidp {

namespace json = boost::json;

namespace {

/// What a caller's text may show in a message: cut short.
std::string_view shown(std::string_view text) {
  return text.substr(0, std::min<std::size_t>(text.size(), 100));
}

bool is_access_token_type(std::string_view type) {
  return type == kAccessTokenType || type == kJwtTokenType;
}

/// The target: `scope` (as OBO reads it), or `audience` / `resource` naming the resource (all that was
/// consented, as .default); when both are given they must name the same application (RFC 8693 §2.1 leaves the
/// combination to the server; one request, one resource, as everywhere here).
std::expected<ScopeRequest, Failure> target(const Directory& directory, const Form& form) {
  const auto scope = form.value("scope");
  const Application* named = nullptr;
  for (std::string_view parameter : {"audience", "resource"}) {
    const auto value = form.value(parameter);
    if (value.empty()) continue;
    const auto* app = directory.find_resource(value);
    if (app == nullptr || (named != nullptr && named != app)) {
      return std::unexpected(
          Failure{IdpError::kInvalidTarget,
                  fmt::format("The {} '{}' is not a resource of this directory, or not the one the "
                              "other target parameters name.",
                              parameter, shown(value))});
    }
    named = app;
  }
  if (scope.empty()) {
    if (named == nullptr) return std::unexpected(missing_body_parameter("scope"));
    return ScopeRequest{.resource = named, .default_scope = true};
  }
  auto request = parse_scopes(directory, scope);
  if (!request) return request;
  if (named != nullptr && request->resource != nullptr && request->resource != named) {
    return std::unexpected(Failure{IdpError::kInvalidTarget,
                                   "The audience or resource names another application than the scope."});
  }
  if (request->resource == nullptr && named != nullptr) {  // only OpenID Connect scopes besides the audience
    request->resource = named;
    request->default_scope = true;
  }
  return request;
}

}  // namespace

std::expected<json::object, Failure> token_exchange_grant(const IdentityProvider& provider, const Form& form,
                                                          const AuthenticatedClient& client) {
  const auto subject_token = form.value("subject_token");
  if (subject_token.empty()) return std::unexpected(missing_body_parameter("subject_token"));
  const auto subject_type = form.value("subject_token_type");
  if (subject_type.empty()) return std::unexpected(missing_body_parameter("subject_token_type"));
  if (!is_access_token_type(subject_type)) {
    return std::unexpected(
        Failure{IdpError::kMalformedRequest,
                fmt::format("Invalid request. The subject_token_type '{}' is not supported; send {}.",
                            shown(subject_type), kAccessTokenType)});
  }
  if (const auto requested = form.value("requested_token_type");
      !requested.empty() && !is_access_token_type(requested)) {
    return std::unexpected(Failure{
        IdpError::kMalformedRequest,
        fmt::format(
            "Invalid request. The requested_token_type '{}' is not supported; only access tokens are issued.",
            shown(requested))});
  }
  // Delegation with an actor (RFC 8693 §1.1) is not On-Behalf-Of: the caller is the actor, authenticated.
  if (!form.value("actor_token").empty() || !form.value("actor_token_type").empty()) {
    return std::unexpected(
        Failure{IdpError::kMalformedRequest,
                "Invalid request. actor_token is not supported; the authenticated client acts."});
  }
  if (auto credential = require_credential(client, "token_exchange"); !credential) {
    return std::unexpected(credential.error());
  }
  auto request = target(provider.directory(), form);
  if (!request) return std::unexpected(request.error());
  auto delegation = delegate(provider, client, subject_token, *request);
  if (!delegation) return std::unexpected(delegation.error());
  spdlog::info("devidp token exchange: {} for {} via {}", delegation->user->upn, delegation->resource->key,
               client.app->key);
  auto body = delegation_response(provider, form, client, *request, std::move(*delegation));
  body["issued_token_type"] = kAccessTokenType;
  return body;
}

}  // namespace deputy::devidp
