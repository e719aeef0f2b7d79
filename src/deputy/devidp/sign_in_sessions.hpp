#pragma once
// The browser sign-in sessions of the authorization endpoint: an opaque random id (the deputy_idp_session
// cookie) that stands, server-side, for the accounts signed in in that browser, each with the time and the
// methods of its authentication (amr: pwd, mfa). A second authorization request from the same browser signs
// in without the password (single sign-on, prompt=none); prompt=login ignores the session. In memory only and
// bounded, like the grant store; thread-safe. Ids are kept by their SHA-256.

#include "deputy/devidp/token_issuer.hpp"

#include <chrono>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace deputy::devidp {

/// How long a sign-in holds: a working day, Entra's default sign-in frequency for browsers being longer
/// still.
inline constexpr std::chrono::hours kSessionLifetime{8};
/// Live sessions at most (a few hundred bytes each); past the bound the one nearest its end goes first.
inline constexpr std::size_t kMaxSessions = 10'000;
/// Accounts one browser keeps signed in at most (Entra's account picker lists a handful); the oldest goes.
inline constexpr std::size_t kMaxSessionAccounts = 8;

/// One account signed in in a browser.
struct SessionAccount {
  std::string user_oid;
  Clock::time_point authenticated_at;
  std::vector<std::string> amr;  // {"pwd"} or {"pwd", "mfa"}
};

class SignInSessions {
 public:
  /// The live accounts of session `id`, the most recently signed in first; none for an unknown or expired id.
  [[nodiscard]] std::vector<SessionAccount> accounts(std::string_view id, Clock::time_point now) const;

  /// Records that `account` signed in in the browser holding session `id` (empty, unknown or expired: a new
  /// session). The account replaces an earlier sign-in of the same user. Returns the session's new id: the id
  /// changes at every sign-in, so that an id planted in a browser before sign-in is worth nothing after it.
  [[nodiscard]] std::string sign_in(std::string_view id, SessionAccount account, const Random& random,
                                    Clock::time_point now);

 private:
  struct Session {
    std::vector<SessionAccount> accounts;  // most recent first
    Clock::time_point expires_at;          // when its last account's sign-in runs out
  };
  static void drop_expired(Session& session, Clock::time_point now);

  mutable std::mutex mutex_;
  std::unordered_map<std::string, Session> sessions_;  // by hash of the id
};

}  // namespace deputy::devidp
