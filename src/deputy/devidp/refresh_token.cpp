// The refresh_token grant (grants.hpp): RFC 6749 §6, with rotation.
#include "deputy/devidp/grants.hpp"

#include <boost/json.hpp>
#include <fmt/format.h>

namespace deputy::devidp {

namespace json = boost::json;

std::expected<json::object, Failure> refresh_token_grant(const IdentityProvider& provider, const Form& form,
                                                         const AuthenticatedClient& client) {
  const auto token = form.value("refresh_token");
  if (token.empty()) {
    return std::unexpected(Failure{IdpError::kMissingParameter,
                                   "The request body must contain the following parameter: 'refresh_token'."});
  }
  const auto scope = form.value("scope");
  if (scope.empty()) {
    return std::unexpected(
        Failure{IdpError::kMissingParameter, "The request body must contain the following parameter: 'scope'."});
  }
  if (auto credential = require_credential_if_confidential(client, "refresh_token"); !credential) {
    return std::unexpected(credential.error());
  }
  auto request = parse_scopes(provider.directory(), scope);
  if (!request) return std::unexpected(request.error());
  // Rotation: the presented token is spent here; the response carries its successor. A second use of a spent
  // token is refused (and tells that a copy exists somewhere).
  auto grant = provider.grants().redeem_refresh_token(token, client.app->client_id, provider.now());
  if (!grant) return std::unexpected(redeem_failure(grant.error(), "refresh token"));
  const User* user = provider.directory().find_user_by_oid(grant->user_oid);
  if (user == nullptr) {
    return std::unexpected(Failure{IdpError::kUserNotFound, "The user account does not exist in the directory."});
  }
  auto response = user_token_response(provider, form, client, *user, *request, grant->amr, {}, true);
  if (!response) provider.grants().restore_refresh_token(token, std::move(*grant));
  return response;
}

}  // namespace deputy::devidp
