#include "deputy/devidp/scopes.hpp"

#include <fmt/format.h>

namespace deputy::devidp {

namespace {

/// Scope names echoed in error messages are cut short: the parameter is the caller's text.
constexpr std::size_t kMaxEchoed = 200;

std::string echo(std::string_view text) {
  return text.size() <= kMaxEchoed ? std::string(text) : std::string(text.substr(0, kMaxEchoed)) + "...";
}

Failure unknown_resource(const Directory& directory, std::string_view resource) {
  return {IdpError::kUnknownResource,
          fmt::format("The resource principal named {} was not found in the tenant named {}. This can happen if the "
                      "application has not been installed by the administrator of the tenant or consented to by any "
                      "user in the tenant. You might have sent your authentication request to the wrong tenant.",
                      echo(resource), directory.tenant.display_name)};
}

}  // namespace

std::vector<std::string_view> split_scopes(std::string_view scope) {
  std::vector<std::string_view> out;
  while (!scope.empty()) {
    const auto space = scope.find(' ');
    if (space != 0) out.push_back(scope.substr(0, space));
    if (space == std::string_view::npos) break;
    scope.remove_prefix(space + 1);
  }
  return out;
}

std::expected<ScopeRequest, Failure> parse_scopes(const Directory& directory, std::string_view scope) {
  ScopeRequest request;
  for (const auto item : split_scopes(scope)) {
    if (item == "openid") {
      request.openid = true;
      continue;
    }
    if (item == "profile") {
      request.profile = true;
      continue;
    }
    if (item == "email") {
      request.email = true;
      continue;
    }
    if (item == "offline_access") {
      request.offline_access = true;
      continue;
    }
    // <resource>/<name>: the resource is everything before the last slash (identifier URIs contain slashes).
    const auto slash = item.rfind('/');
    const std::string_view resource_id = slash == std::string_view::npos ? kGraphResource : item.substr(0, slash);
    const std::string_view name = slash == std::string_view::npos ? item : item.substr(slash + 1);
    const Application* resource = directory.find_resource(resource_id);
    if (resource == nullptr) return std::unexpected(unknown_resource(directory, resource_id));
    if (request.resource != nullptr && request.resource != resource) {
      return std::unexpected(Failure{
          IdpError::kMultipleResources,
          fmt::format("Provided value for the input parameter scope is not valid because it contains more than one "
                      "resource. Scope {} is not valid.",
                      echo(scope))});
    }
    request.resource = resource;
    if (name == ".default") {
      request.default_scope = true;
      continue;
    }
    const Scope* exposed = resource->find_scope(name);
    if (exposed == nullptr) {
      return std::unexpected(
          Failure{IdpError::kInvalidScope,
                  fmt::format("The provided value for the input parameter 'scope' is not valid. The scope '{}' does not "
                              "exist on the resource '{}'.",
                              echo(item), resource->primary_identifier())});
    }
    request.scopes.push_back(exposed->value);
  }
  if (request.default_scope && !request.scopes.empty()) {
    return std::unexpected(Failure{
        IdpError::kInvalidScope,
        fmt::format("The provided value for the input parameter 'scope' is not valid. The scope {} combines .default "
                    "with other scopes of the same resource.",
                    echo(scope))});
  }
  return request;
}

}  // namespace deputy::devidp
