#include "deputy/devidp/delegation.hpp"

#include <boost/json.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <cctype>

namespace deputy::devidp {

namespace json = boost::json;

namespace {

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

std::string granted_scope_string(const Application& resource, const std::vector<std::string>& scopes) {
  std::string out;
  for (const auto& scope : scopes) {
    out += fmt::format("{}{}/{}", out.empty() ? "" : " ", resource.primary_identifier(), scope);
  }
  return out;
}

}  // namespace deputy::devidp
