#include "deputy/authz/policy.hpp"

#include <algorithm>

namespace deputy::authz {

std::string_view to_string(Reason reason) {
  switch (reason) {
    case Reason::kNoAuthentication: return "no_authentication";
    case Reason::kPolicyOff: return "policy_off";
    case Reason::kGranted: return "granted";
    case Reason::kNoPrincipal: return "no_principal";
    case Reason::kRequiredRoleMissing: return "required_role_missing";
    case Reason::kNotGranted: return "not_granted";
  }
  return "unknown";
}

namespace {

bool contains(const std::vector<std::string>& values, std::string_view wanted) {
  return std::ranges::find(values, wanted) != values.end();
}

bool grants(const RoleGrant& grant, const Item& item) {
  if (grant.everything || contains(grant.tools, item.name)) return true;
  return std::ranges::any_of(item.tags, [&](const std::string& tag) { return contains(grant.tags, tag); });
}

}  // namespace

Decision Policy::check(const auth::Principal* principal, const Item& item) const {
  if (principal == nullptr) {
    // Without authentication nobody has roles: an item that asks for one stays closed.
    if (!item.required_roles.empty()) return {false, Reason::kNoPrincipal};
    return {true, Reason::kNoAuthentication};
  }
  // A tool's own requirement (the seed's test_write_tool wants Task.All or Task.Write) holds whatever the
  // policy says.
  if (!item.required_roles.empty() &&
      !std::ranges::any_of(item.required_roles, [&](const std::string& role) { return principal->has_role(role); })) {
    return {false, Reason::kRequiredRoleMissing};
  }
  if (!options_.enabled) return {true, Reason::kPolicyOff};
  for (const auto& grant : options_.grants) {
    if (principal->has_role(grant.role) && grants(grant, item)) return {true, Reason::kGranted};
  }
  return {false, Reason::kNotGranted};  // deny by default
}

}  // namespace deputy::authz
