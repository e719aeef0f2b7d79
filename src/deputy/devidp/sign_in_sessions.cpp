#include "deputy/devidp/sign_in_sessions.hpp"

#include "deputy/devidp/grant_store.hpp"

#include <algorithm>

namespace deputy::devidp {

void SignInSessions::drop_expired(Session& session, Clock::time_point now) {
  std::erase_if(session.accounts, [&](const SessionAccount& account) {
    return account.authenticated_at + kSessionLifetime <= now;
  });
}

std::vector<SessionAccount> SignInSessions::accounts(std::string_view id, Clock::time_point now) const {
  if (id.empty()) return {};
  const auto key = secret_hash(id);
  std::lock_guard lock(mutex_);
  const auto it = sessions_.find(key);
  if (it == sessions_.end() || it->second.expires_at <= now) return {};
  std::vector<SessionAccount> out;
  for (const auto& account : it->second.accounts) {
    if (account.authenticated_at + kSessionLifetime > now) out.push_back(account);
  }
  return out;
}

std::string SignInSessions::sign_in(std::string_view id, SessionAccount account, const Random& random,
                                    Clock::time_point now) {
  const auto fresh = random_secret(random);
  std::lock_guard lock(mutex_);
  Session session;
  if (!id.empty()) {
    if (auto it = sessions_.find(secret_hash(id)); it != sessions_.end()) {
      session = std::move(it->second);
      sessions_.erase(it);  // the old id stops working: the session moves to the fresh one
    }
  }
  drop_expired(session, now);
  std::erase_if(session.accounts,
                [&](const SessionAccount& other) { return other.user_oid == account.user_oid; });
  session.accounts.insert(session.accounts.begin(), std::move(account));
  if (session.accounts.size() > kMaxSessionAccounts) session.accounts.resize(kMaxSessionAccounts);
  session.expires_at = Clock::time_point::min();
  for (const auto& signed_in : session.accounts) {
    session.expires_at = std::max(session.expires_at, signed_in.authenticated_at + kSessionLifetime);
  }
  // Bounded: expired sessions first, then the one nearest its end.
  if (sessions_.size() >= kMaxSessions) {
    std::erase_if(sessions_, [&](const auto& entry) { return entry.second.expires_at <= now; });
    while (sessions_.size() >= kMaxSessions) {
      auto oldest =
          std::ranges::min_element(sessions_, {}, [](const auto& entry) { return entry.second.expires_at; });
      sessions_.erase(oldest);
    }
  }
  sessions_.emplace(secret_hash(fresh), std::move(session));
  return fresh;
}

}  // namespace deputy::devidp
