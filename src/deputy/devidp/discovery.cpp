#include "deputy/devidp/discovery.hpp"

#include "deputy/devidp/directory_yaml.hpp"

#include <boost/json.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <cctype>

namespace deputy::devidp {

namespace json = boost::json;

namespace {

std::string lower(std::string_view text) {
  std::string out(text);
  std::ranges::transform(out, out.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

json::array strings(std::initializer_list<std::string_view> values) {
  json::array out;
  for (auto value : values) out.emplace_back(value);
  return out;
}

}  // namespace

HttpAnswer error_answer(const IdentityProvider& provider, const Failure& failure, std::string_view correlation_id) {
  ErrorStamp stamp{.now = provider.now(),
                   .trace_id = random_guid(provider.random()),
                   // The client's client-request-id comes back as the correlation id, as Entra does; only a GUID
                   // is echoed, so a header cannot inject text into the body.
                   .correlation_id = is_guid(correlation_id) ? std::string(correlation_id) : random_guid(provider.random()),
                   .error_uri_base = provider.base_url()};
  return {.status = info(failure.error).http_status, .body = error_body(failure, stamp)};
}

HttpAnswer tenant_not_found(const IdentityProvider& provider, std::string_view tenant, IdpError error,
                            std::string_view correlation_id) {
  // The segment is the caller's text: cut it short before it goes into a message.
  const std::string_view shown = tenant.substr(0, std::min<std::size_t>(tenant.size(), 100));
  return error_answer(provider,
                      {error, fmt::format("Tenant '{}' not found. Check to make sure you have the correct tenant ID and "
                                          "are signing into the correct cloud. Check with your subscription "
                                          "administrator, this may happen if there are no active subscriptions for "
                                          "the tenant.",
                                          shown)},
                      correlation_id);
}

HttpAnswer openid_configuration(const IdentityProvider& provider, std::string_view tenant) {
  const auto& directory = provider.directory();
  if (!directory.names_tenant(tenant)) {
    return tenant_not_found(provider, tenant, IdpError::kTenantNotFoundInDiscovery, {});
  }
  const std::string segment = lower(tenant);
  const bool multi_tenant = segment == "common" || segment == "organizations";
  const std::string path = multi_tenant ? segment : directory.tenant.id;
  const std::string base = fmt::format("{}/{}", provider.base_url(), path);
  json::object config;
  config["token_endpoint"] = base + "/oauth2/v2.0/token";
  config["token_endpoint_auth_methods_supported"] = strings({"client_secret_post", "private_key_jwt"});
  config["jwks_uri"] = base + "/discovery/v2.0/keys";
  config["response_modes_supported"] = strings({"query", "fragment", "form_post"});
  config["subject_types_supported"] = strings({"pairwise"});
  config["id_token_signing_alg_values_supported"] = strings({"RS256"});
  config["response_types_supported"] = strings({"code", "id_token", "code id_token", "id_token token"});
  config["scopes_supported"] = strings({"openid", "profile", "email", "offline_access"});
  config["issuer"] = multi_tenant ? fmt::format("{}/{{tenantid}}/v2.0", provider.base_url())
                                  : provider.issuer().issuer_v2();
  config["request_uri_parameter_supported"] = false;
  config["authorization_endpoint"] = base + "/oauth2/v2.0/authorize";
  config["device_authorization_endpoint"] = base + "/oauth2/v2.0/devicecode";
  config["http_logout_supported"] = true;
  config["frontchannel_logout_supported"] = true;
  config["end_session_endpoint"] = base + "/oauth2/v2.0/logout";
  config["claims_supported"] =
      strings({"sub", "iss", "cloud_instance_name", "cloud_instance_host_name", "cloud_graph_host_name", "msgraph_host",
               "aud", "exp", "iat", "auth_time", "acr", "nonce", "preferred_username", "name", "tid", "ver", "at_hash",
               "c_hash", "email"});
  config["code_challenge_methods_supported"] = strings({"S256"});
  config["tenant_region_scope"] = "NA";
  config["cloud_instance_name"] = "deputy.dev";
  config["cloud_graph_host_name"] = "graph.windows.net";
  config["msgraph_host"] = "graph.microsoft.com";
  return {.body = json::serialize(config)};
}

HttpAnswer jwks(const IdentityProvider& provider, std::string_view tenant) {
  if (!provider.directory().names_tenant(tenant)) {
    return tenant_not_found(provider, tenant, IdpError::kTenantNotFoundInDiscovery, {});
  }
  return {.body = json::serialize(provider.keys().jwks(provider.issuer().issuer_v2()))};
}

}  // namespace deputy::devidp
