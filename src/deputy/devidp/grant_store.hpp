#pragma once
// What the provider remembers between requests: authorization codes (one-time, ten minutes) and refresh tokens
// (rotated: each use returns a new one and retires the old). In memory only, so a restart signs everyone out,
// as a dev provider may. Bounded; thread-safe. Codes and tokens are kept by their SHA-256, not as issued.

#include "deputy/devidp/token_issuer.hpp"

#include <chrono>
#include <cstdint>
#include <expected>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

namespace deputy::devidp {

/// RFC 6749 §4.1.2 recommends ten minutes at most; Entra's codes live about that long.
inline constexpr std::chrono::minutes kCodeLifetime{10};
/// Entra's refresh tokens live 90 days (24 hours for single-page apps).
inline constexpr std::chrono::hours kRefreshTokenLifetime{24 * 90};
/// Outstanding codes and refresh tokens at most: a few hundred bytes each; past the bound the oldest go.
inline constexpr std::size_t kMaxCodes = 10'000;
inline constexpr std::size_t kMaxRefreshTokens = 100'000;

/// 32 random bytes, base64url: unguessable, and URL- and cookie-safe (codes, refresh tokens, sign-in session ids,
/// CSRF tokens).
[[nodiscard]] std::string random_secret(const Random& random);
/// The SHA-256 of a secret, the key it is kept under: what the provider holds in memory cannot be replayed.
[[nodiscard]] std::string secret_hash(std::string_view secret);

/// What a code stands for, fixed when the user signed in at /authorize.
struct CodeGrant {
  std::string client_id;
  std::string redirect_uri;
  std::string user_oid;
  std::string scope;                  // the scope parameter of the authorization request
  std::string nonce;                  // for the id_token
  std::string code_challenge;         // PKCE (S256), empty when none was sent
  std::vector<std::string> amr;
  Clock::time_point expires_at;
};

/// What a refresh token stands for: a user's sign-in at a client, good for any resource the client may get.
struct RefreshGrant {
  std::string client_id;
  std::string user_oid;
  std::vector<std::string> amr;
  Clock::time_point expires_at;
};

enum class RedeemError : std::uint8_t {
  kUnknown,          // never issued here (or forgotten past the bound, or before a restart)
  kExpired,          // issued, but its life is over
  kAlreadyRedeemed,  // a code used before, or a refresh token already rotated away
  kWrongClient,      // issued to another client; left in place (presenting it does not burn it)
};

class GrantStore {
 public:
  [[nodiscard]] std::string issue_code(CodeGrant grant, const Random& random, Clock::time_point now);
  /// Takes the code out if it was issued to `client_id`: a second redemption is kAlreadyRedeemed.
  [[nodiscard]] std::expected<CodeGrant, RedeemError> redeem_code(std::string_view code, std::string_view client_id,
                                                                  Clock::time_point now);

  [[nodiscard]] std::string issue_refresh_token(RefreshGrant grant, const Random& random, Clock::time_point now);
  /// Takes the refresh token out if it was issued to `client_id` (rotation: the caller issues its successor).
  [[nodiscard]] std::expected<RefreshGrant, RedeemError> redeem_refresh_token(std::string_view token,
                                                                              std::string_view client_id,
                                                                              Clock::time_point now);
  /// Puts back a refresh token whose redemption produced no tokens (consent missing, a claims challenge): a
  /// refusal must not cost the client its sign-in.
  void restore_refresh_token(std::string_view token, RefreshGrant grant);

 private:
  template <typename Grant>
  struct Table {
    std::unordered_map<std::string, Grant> live;                      // by hash
    std::unordered_map<std::string, Clock::time_point> redeemed;      // hash → when it would have expired
  };
  template <typename Grant>
  static std::expected<Grant, RedeemError> redeem(Table<Grant>& table, std::string_view secret,
                                                  std::string_view client_id, Clock::time_point now);
  template <typename Grant>
  static void bound(Table<Grant>& table, std::size_t limit, Clock::time_point now);

  std::mutex mutex_;
  Table<CodeGrant> codes_;
  Table<RefreshGrant> refresh_tokens_;
};

}  // namespace deputy::devidp
