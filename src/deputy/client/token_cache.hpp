#pragma once
// The token cache: one JSON file laid out as MSAL lays out its SerializableTokenCache (sections AccessToken,
// RefreshToken, IdToken, Account, AppMetadata; entries keyed "<home_account_id>-<environment>-<type>-<client
// id>-<realm>-<target>", lowercased), so that the file reads like the seed's .msal_token_cache.bin.
//
// The file holds refresh tokens, which are as good as a session: it is created 0600 in a 0700 directory and
// replaced atomically (a temporary file in the same directory, fsync, rename), so a crash or a second process
// never leaves a half-written or world-readable cache. Two processes saving at once: the last one wins, and
// the other's tokens are fetched again on its next use (no lock; a CLI's sign-ins do not race in practice).

#include "deputy/client/error.hpp"

#include <boost/json/object.hpp>

#include <chrono>
#include <expected>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace deputy::client {

using Clock = std::chrono::system_clock;

/// An access token this close to expiry is renewed before use: the request it goes with, its retries and the
/// server's own clock skew all fit in five minutes (MSAL's refresh_in margin is the same).
inline constexpr std::chrono::minutes kRenewBefore{5};

/// Whether a token expiring at `expires_on` should be renewed at `now`.
[[nodiscard]] bool needs_renewal(Clock::time_point expires_on, Clock::time_point now);

struct Account {
  std::string home_account_id;   // <oid>.<tid> (from client_info)
  std::string environment;       // the authority's host, lowercased (as MSAL: no port)
  std::string realm;             // tenant id
  std::string local_account_id;  // oid
  std::string username;          // preferred_username
  std::string name;
};

struct CachedAccessToken {
  std::string secret;
  std::string target;  // the scopes, space-separated
  Clock::time_point expires_on;
};

/// What one token response puts in the cache.
struct TokenSet {
  Account account;
  std::string client_id;
  std::string access_token;
  std::string target;
  Clock::time_point expires_on;
  std::string refresh_token;  // empty: keep the one cached
  std::string id_token;       // empty: keep the one cached
};

class TokenCache {
 public:
  explicit TokenCache(std::filesystem::path path) : path_(std::move(path)) {}

  /// Reads the file; a missing file is an empty cache, and so is one that does not parse (with a warning:
  /// starting fresh costs a sign-in, refusing to start costs the user a manual delete). kCache when it exists
  /// and cannot be read.
  [[nodiscard]] std::expected<void, Error> load();
  /// Writes the file atomically, mode 0600 (see the header comment).
  [[nodiscard]] std::expected<void, Error> save() const;

  void store(const TokenSet& tokens, Clock::time_point now);

  /// The accounts of `environment` that hold a token of `client_id` (any realm).
  [[nodiscard]] std::vector<Account> accounts(std::string_view environment, std::string_view client_id) const;
  /// The access token of `account` for `client_id` whose target holds every scope of `target`.
  [[nodiscard]] std::optional<CachedAccessToken> access_token(const Account& account,
                                                              std::string_view client_id,
                                                              std::string_view target) const;
  [[nodiscard]] std::optional<std::string> refresh_token(const Account& account,
                                                         std::string_view client_id) const;
  /// Removes the account and every token of it (all clients). Returns how many entries went.
  std::size_t remove_account(const Account& account);

  [[nodiscard]] const std::filesystem::path& path() const { return path_; }
  [[nodiscard]] const boost::json::object& document() const { return document_; }

 private:
  std::filesystem::path path_;
  boost::json::object document_;
};

}  // namespace deputy::client
