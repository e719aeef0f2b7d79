#pragma once
// Downstream tokens kept in memory between tool calls, as MSAL keeps OBO tokens: keyed by a hash of the
// user's token with the scopes, our client id and the user's identity, and served until shortly before they
// expire. Never written anywhere; bounded in entries. Synchronized: any thread may use it.

#include "deputy/obo/exchanger.hpp"

#include <chrono>
#include <cstddef>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace deputy::obo {

/// A token is served until this long before it expires: a tool call that takes it must still be able to
/// use it downstream, and Entra's clocks may be ahead of ours by a few minutes (MSAL refreshes five minutes
/// early).
inline constexpr std::chrono::seconds kDefaultExpiryMargin{300};
/// Entries kept: one per (user token, scope set) in use. Ten thousand tokens of ~3 KiB are ~30 MiB, which
/// bounds what a flood of distinct valid user tokens costs us; beyond it the soonest-expiring entries go.
inline constexpr std::size_t kDefaultMaxCacheEntries = 10'000;

/// The cache key: SHA-256 over the user's token, the user's identity key, our client id and the scopes sorted
/// and deduplicated, each length-prefixed (no two different inputs share a key by concatenation). The token
/// itself is not kept in the key.
[[nodiscard]] std::string cache_key(std::string_view subject_token, std::string_view subject_key,
                                    std::string_view client_id, std::vector<std::string> scopes);

class TokenCache {
 public:
  explicit TokenCache(std::size_t max_entries = kDefaultMaxCacheEntries,
                      std::chrono::seconds margin = kDefaultExpiryMargin);
  TokenCache(const TokenCache&) = delete;
  TokenCache& operator=(const TokenCache&) = delete;

  /// The token under `key` if it is still good `margin` past `now`; a stale entry is dropped.
  [[nodiscard]] std::optional<DownstreamToken> find(const std::string& key, Clock::time_point now);
  /// Keeps `token` under `key` (replacing what was there) unless it is already within the margin. When full,
  /// expired entries go first, then the soonest-expiring one.
  void store(const std::string& key, DownstreamToken token, Clock::time_point now);
  void erase(const std::string& key);
  void clear();
  [[nodiscard]] std::size_t size() const;

 private:
  void erase_locked(const std::string& key);

  std::size_t max_entries_;
  std::chrono::seconds margin_;
  mutable std::mutex mutex_;
  std::map<std::string, DownstreamToken, std::less<>> entries_;
  std::set<std::pair<Clock::time_point, std::string>> by_expiry_;  // (expires_at, key), soonest first
};

}  // namespace deputy::obo
