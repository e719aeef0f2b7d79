#pragma once
// Authorization requests waiting for the user (a sign-in, account, MFA or consent page is showing). The
// request stays server-side; each page's form carries only a CSRF token (field `csrf`): 32 random bytes that
// name the waiting request, good once, and only in the browser that started it (the deputy_idp_browser
// cookie). A page posted from elsewhere (login CSRF: an attacker's form signing the victim in to the
// attacker's account), a token used twice, or a page left open too long starts nothing. In memory, bounded,
// thread-safe; tokens are kept by their SHA-256.

#include "deputy/devidp/token_issuer.hpp"

#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace deputy::devidp {

/// How long a page may stay open before its form is refused (Entra's flow tokens last about as long).
inline constexpr std::chrono::minutes kPendingLifetime{30};
/// Waiting requests at most. A request is at most kMaxFormSize (64 KiB) of parameters, so the worst case is
/// 64 MiB; past the bound the one nearest its end goes (its user starts again from the application).
inline constexpr std::size_t kMaxPendingAuthorizations = 1'000;

/// Wrong passwords or codes one waiting request takes before it is dropped (the user starts again from the
/// application): guessing costs a fresh request every few tries.
inline constexpr std::uint8_t kMaxSignInFailures = 5;

/// The page a waiting request shows, and so what its form brings back.
enum class SignInStep : std::uint8_t {
  kPassword,  // user name and password
  kAccount,   // the account picker: one of the session's accounts, or another
  kMfa,       // the one-time code of the second factor
  kConsent,   // accept or cancel the permissions asked for
};

struct PendingAuthorization {
  std::string tenant;  // the path segment the request came to
  /// The request's parameters as sent (form-encoded), checked again at each step.
  std::string request;
  std::string browser;  // SHA-256 of the deputy_idp_browser cookie it is bound to
  SignInStep step = SignInStep::kPassword;
  std::string user_oid;          // once the user is known (kMfa, kConsent)
  std::vector<std::string> amr;  // how the user authenticated so far
  std::uint8_t failures = 0;     // wrong passwords and codes so far
  Clock::time_point expires_at;
};

class PendingAuthorizations {
 public:
  /// Keeps `pending` and returns its CSRF token.
  [[nodiscard]] std::string put(PendingAuthorization pending, const Random& random, Clock::time_point now);
  /// Takes the request out (one-time): nullopt for a token never issued, already used, or expired. The caller
  /// checks the browser binding, and puts the request back under a fresh token when it shows another page.
  [[nodiscard]] std::optional<PendingAuthorization> take(std::string_view token, Clock::time_point now);

 private:
  std::mutex mutex_;
  std::unordered_map<std::string, PendingAuthorization> pending_;  // by hash of the token
};

}  // namespace deputy::devidp
