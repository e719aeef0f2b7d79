#pragma once
// Consent a user gave on the authorization endpoint's consent page: delegated scopes of a resource that a
// client may use on that user's behalf (Entra: an oauth2PermissionGrant with consentType Principal). The
// directory file's grants are fixed; these are recorded while the provider runs, and
// Directory::consented_scopes adds them, so every later grant (authorization code, refresh token,
// On-Behalf-Of) sees them. In memory, bounded, thread-safe.

#include <cstddef>
#include <list>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace deputy::devidp {

/// Users' consent grants kept at most; past the bound the oldest is forgotten (its user is asked again).
inline constexpr std::size_t kMaxRuntimeConsents = 10'000;

class RuntimeConsents {
 public:
  /// Records that `user` consented to `scopes` of `resource` for `client` (application and user keys), adding
  /// to what was consented before.
  void grant(std::string_view client, std::string_view resource, std::string_view user,
             const std::vector<std::string>& scopes);
  /// The scopes `user` consented to for `client` on `resource`.
  [[nodiscard]] std::vector<std::string> scopes(std::string_view client, std::string_view resource,
                                                std::string_view user) const;

 private:
  struct Grant {
    std::string client;
    std::string resource;
    std::string user;
    std::vector<std::string> scopes;
  };
  mutable std::mutex mutex_;
  std::list<Grant> grants_;  // oldest first; a handful in practice, so a linear search
};

}  // namespace deputy::devidp
