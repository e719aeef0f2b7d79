// The token response of a user's interactive grant (grants.hpp).
#include "deputy/auth/base64url.hpp"
#include "deputy/devidp/delegation.hpp"
#include "deputy/devidp/grants.hpp"

#include <boost/json.hpp>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

namespace deputy::devidp {

namespace json = boost::json;

std::expected<void, Failure> require_credential_if_confidential(const AuthenticatedClient& client,
                                                                std::string_view grant_type) {
  if (!client.app->confidential()) return {};
  return require_credential(client, grant_type);
}

std::expected<json::object, Failure> user_token_response(const IdentityProvider& provider, const Form& form,
                                                         const AuthenticatedClient& client, const User& user,
                                                         const ScopeRequest& request,
                                                         const std::vector<std::string>& amr, std::string_view nonce,
                                                         bool rotate) {
  const auto& directory = provider.directory();
  const auto now = provider.now();
  const Application& app = *client.app;
  json::object body;
  body["token_type"] = "Bearer";
  if (request.resource != nullptr) {
    auto granted = delegated_scopes(directory, app, user, request, amr);
    if (!granted) return std::unexpected(granted.error());
    UserGrant grant{.user = &user, .client = &app, .resource = request.resource, .scopes = *granted,
                    .client_auth = client.method, .amr = amr};
    auto issued = provider.issuer().user_token(grant, now, provider.random());
    if (!issued) return std::unexpected(issued.error());
    body["scope"] = granted_scope_string(*request.resource, *granted, request.default_scope);
    body["expires_in"] = issued->expires_in.count();
    body["ext_expires_in"] = issued->expires_in.count();
    body["access_token"] = std::move(issued->token);
    spdlog::info("devidp issued a user token: {} for {} via {}", user.upn, request.resource->key, app.key);
  }
  if (request.offline_access || rotate) {
    body["refresh_token"] = provider.grants().issue_refresh_token(
        {.client_id = app.client_id, .user_oid = user.object_id, .amr = amr, .expires_at = now + kRefreshTokenLifetime},
        provider.random(), now);
  }
  if (request.openid) {
    auto id_token = provider.issuer().id_token(user, app, nonce, now, provider.random());
    if (!id_token) return std::unexpected(id_token.error());
    body["id_token"] = std::move(id_token->token);
  }
  if (form.value("client_info") == "1") {
    // MSAL keys its cache by client_info: base64url of {"uid": oid, "utid": tid}.
    json::object info;
    info["uid"] = user.object_id;
    info["utid"] = directory.tenant.id;
    body["client_info"] = auth::base64url_encode(json::serialize(info));
  }
  return body;
}

}  // namespace deputy::devidp
