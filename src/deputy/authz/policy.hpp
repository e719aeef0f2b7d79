#pragma once
// Tier 1: which tools (resources, prompts) a principal may see and call, from its app roles. Built once
// from configuration; a check is a const, allocation-free walk over a few grants.

#include "deputy/auth/principal.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace deputy::authz {

/// What one app role grants: everything, or tools by name, or tools by tag.
struct RoleGrant {
  std::string role;
  bool everything = false;
  std::vector<std::string> tags;
  std::vector<std::string> tools;
};

struct PolicyOptions {
  /// Deny by default, allow what a grant names (the seed's MIDDLEWARE_ENABLED). Off: every authenticated
  /// caller sees everything, except what a tool's own required roles keep from it.
  bool enabled = false;
  std::vector<RoleGrant> grants;
  /// Off (the default): a tool the caller may not use answers exactly like a tool that does not exist, so
  /// its existence is not disclosed. On: the caller is told which role is missing.
  bool explain_denials = false;
};

/// Why a decision went the way it did: a stable label for metrics and audit records.
enum class Reason {
  kNoAuthentication,    // allowed: authentication is off and the item asks for no role
  kPolicyOff,           // allowed: authenticated, no role policy, no required role
  kGranted,             // allowed: a role of the caller grants it
  kNoPrincipal,         // denied: the item requires a role and nobody is signed in
  kRequiredRoleMissing, // denied: the item's own required roles are not among the caller's
  kNotGranted,          // denied: the policy is on and no role of the caller grants it
};
[[nodiscard]] std::string_view to_string(Reason reason);

struct Decision {
  bool allowed;
  Reason reason;
  explicit operator bool() const { return allowed; }
};

/// What a check needs to know of a tool, resource or prompt.
struct Item {
  std::string_view name;
  const std::vector<std::string>& tags;
  const std::vector<std::string>& required_roles;  // any one suffices
};

class Policy {
 public:
  Policy() = default;
  explicit Policy(PolicyOptions options) : options_(std::move(options)) {}

  /// `principal` is null when authentication is off.
  [[nodiscard]] Decision check(const auth::Principal* principal, const Item& item) const;
  [[nodiscard]] bool explain_denials() const { return options_.explain_denials; }
  [[nodiscard]] const PolicyOptions& options() const { return options_; }

 private:
  PolicyOptions options_;
};

}  // namespace deputy::authz
