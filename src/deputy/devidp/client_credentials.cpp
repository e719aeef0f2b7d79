// The client_credentials grant (grants.hpp).
#include "deputy/devidp/grants.hpp"
#include "deputy/devidp/scopes.hpp"

#include <boost/json.hpp>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

namespace deputy::devidp {

namespace json = boost::json;

std::expected<json::object, Failure> client_credentials_grant(const IdentityProvider& provider, const Form& form,
                                                              const AuthenticatedClient& client) {
  const auto scope = form.value("scope");
  if (scope.empty()) {
    return std::unexpected(
        Failure{IdpError::kMissingParameter, "The request body must contain the following parameter: 'scope'."});
  }
  if (auto credential = require_credential(client, "client_credentials"); !credential) {
    return std::unexpected(credential.error());
  }
  // An app has no delegated permissions of its own: exactly one <resource>/.default, nothing else.
  const auto items = split_scopes(scope);
  if (items.size() != 1 || !items.front().ends_with("/.default")) {
    return std::unexpected(Failure{
        IdpError::kDefaultScopeRequired,
        fmt::format("The provided value for scope {} is not valid. Client credential flows must have a scope value "
                    "with /.default suffixed to the resource identifier (application ID URI).",
                    scope.substr(0, std::min<std::size_t>(scope.size(), 200)))});
  }
  auto request = parse_scopes(provider.directory(), scope);
  if (!request) return std::unexpected(request.error());

  auto issued = provider.issuer().app_token(*client.app, *request->resource, client.method, provider.now(),
                                            provider.random());
  if (!issued) return std::unexpected(issued.error());
  spdlog::info("devidp issued an app-only token: client {} for {}", client.app->key, request->resource->key);
  json::object body;
  body["token_type"] = "Bearer";
  body["expires_in"] = issued->expires_in.count();
  body["ext_expires_in"] = issued->expires_in.count();
  body["access_token"] = std::move(issued->token);
  return body;
}

}  // namespace deputy::devidp
