#include "deputy/devidp/runtime_consents.hpp"

#include <algorithm>

namespace deputy::devidp {

void RuntimeConsents::grant(std::string_view client, std::string_view resource, std::string_view user,
                            const std::vector<std::string>& scopes) {
  std::lock_guard lock(mutex_);
  auto it = std::ranges::find_if(grants_, [&](const Grant& grant) {
    return grant.client == client && grant.resource == resource && grant.user == user;
  });
  if (it == grants_.end()) {
    if (grants_.size() >= kMaxRuntimeConsents) grants_.pop_front();
    it = grants_.insert(grants_.end(),
                        Grant{std::string(client), std::string(resource), std::string(user), {}});
  }
  for (const auto& scope : scopes) {
    if (std::ranges::find(it->scopes, scope) == it->scopes.end()) it->scopes.push_back(scope);
  }
}

std::vector<std::string> RuntimeConsents::scopes(std::string_view client, std::string_view resource,
                                                 std::string_view user) const {
  std::lock_guard lock(mutex_);
  auto it = std::ranges::find_if(grants_, [&](const Grant& grant) {
    return grant.client == client && grant.resource == resource && grant.user == user;
  });
  return it == grants_.end() ? std::vector<std::string>{} : it->scopes;
}

}  // namespace deputy::devidp
