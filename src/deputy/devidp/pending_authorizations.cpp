#include "deputy/devidp/pending_authorizations.hpp"

#include "deputy/devidp/grant_store.hpp"

#include <algorithm>

namespace deputy::devidp {

std::string PendingAuthorizations::put(PendingAuthorization pending, const Random& random,
                                       Clock::time_point now) {
  auto token = random_secret(random);
  std::lock_guard lock(mutex_);
  if (pending_.size() >= kMaxPendingAuthorizations) {
    std::erase_if(pending_, [&](const auto& entry) { return entry.second.expires_at <= now; });
    while (pending_.size() >= kMaxPendingAuthorizations) {
      pending_.erase(
          std::ranges::min_element(pending_, {}, [](const auto& entry) { return entry.second.expires_at; }));
    }
  }
  pending_.emplace(secret_hash(token), std::move(pending));
  return token;
}

std::optional<PendingAuthorization> PendingAuthorizations::take(std::string_view token,
                                                                Clock::time_point now) {
  if (token.empty()) return std::nullopt;
  const auto key = secret_hash(token);
  std::lock_guard lock(mutex_);
  auto it = pending_.find(key);
  if (it == pending_.end()) return std::nullopt;
  PendingAuthorization pending = std::move(it->second);
  pending_.erase(it);
  if (pending.expires_at <= now) return std::nullopt;
  return pending;
}

}  // namespace deputy::devidp
