// The On-Behalf-Of grant (grants.hpp): RFC 7523 jwt-bearer as Entra ID does it.
#include "deputy/devidp/delegation.hpp"
#include "deputy/devidp/grants.hpp"
#include "deputy/devidp/scopes.hpp"

#include <boost/json.hpp>
#include <spdlog/spdlog.h>

namespace deputy::devidp {

namespace json = boost::json;

std::expected<json::object, Failure> on_behalf_of_grant(const IdentityProvider& provider, const Form& form,
                                                        const AuthenticatedClient& client) {
  const auto use = form.value("requested_token_use");
  if (use.empty()) return std::unexpected(missing_body_parameter("requested_token_use"));
  if (use != "on_behalf_of") {
    // Other jwt-bearer uses are not Entra's; RFC 8693 token exchange has its own grant type (token_exchange.cpp).
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
  auto delegation = delegate(provider, client, assertion, *request);
  if (!delegation) return std::unexpected(delegation.error());
  spdlog::info("devidp on-behalf-of: {} for {} via {}", delegation->user->upn, delegation->resource->key,
               client.app->key);
  const User& user = *delegation->user;
  auto body = delegation_response(provider, form, client, *request, std::move(*delegation));
  if (request->openid) {
    // Entra adds the user's id_token (aud = the middle tier) when openid is asked for, as MSAL always does;
    // MSAL builds the result's account from it (msal-node's `account` is null without it).
    auto id_token = provider.issuer().id_token(user, *client.app, {}, provider.now(), provider.random());
    if (!id_token) return std::unexpected(id_token.error());
    body["id_token"] = std::move(id_token->token);
  }
  return body;
}

}  // namespace deputy::devidp
