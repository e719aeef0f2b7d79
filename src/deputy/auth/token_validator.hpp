#pragma once
// Tier 1's gate: a bearer token becomes a Principal, or an Error. Signature (jws.hpp) against the
// issuer's keys (jwks_cache.hpp), claims (claims.hpp), and a cache of verified tokens in front of it all:
// a token seen before costs a hash lookup, not an RSA verification.

#include "deputy/auth/bearer.hpp"
#include "deputy/auth/claims.hpp"
#include "deputy/auth/jwks_cache.hpp"
#include "deputy/auth/jws.hpp"
#include "deputy/auth/validator_options.hpp"

#include <array>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <unordered_map>

namespace deputy::auth {

/// Tokens verified before, by token. Entries expire with their token, are rechecked for exp and nbf on
/// every hit, and go when the key that signed them leaves the key set. Bounded; sharded for threads.
class VerifiedTokenCache {
 public:
  using Clock = std::chrono::system_clock;
  explicit VerifiedTokenCache(std::size_t capacity);

  [[nodiscard]] std::shared_ptr<const Principal> find(std::string_view token, Clock::time_point now) const;
  void insert(std::shared_ptr<const Principal> principal, std::string kid, Clock::time_point not_before,
              Clock::time_point now);
  void forget_kids(const std::vector<std::string>& kids);
  [[nodiscard]] std::size_t size() const;

 private:
  static constexpr std::size_t kShards = 16;  // contention across server threads stays low
  struct Entry {
    std::shared_ptr<const Principal> principal;
    std::string kid;
    Clock::time_point not_before;
  };
  struct Shard {
    mutable std::mutex mutex;
    std::unordered_multimap<std::size_t, Entry> entries;  // by hash of the token; the token itself decides
  };
  Shard& shard_for(std::size_t hash) const { return shards_[hash % kShards]; }

  std::size_t per_shard_;
  mutable std::array<Shard, kShards> shards_;
};

class TokenValidator final : public Authenticator {
 public:
  using Clock = std::chrono::system_clock;
  using Now = std::function<Clock::time_point()>;

  TokenValidator(const ValidatorOptions& options, std::shared_ptr<KeyFetcher> fetcher, Now now = Clock::now,
                 JwksCache::Now steady_now = JwksCache::Clock::now);

  boost::asio::awaitable<std::expected<std::shared_ptr<const Principal>, Error>> authenticate(
      std::string_view token) override;

  [[nodiscard]] JwksCache& keys() { return jwks_; }
  [[nodiscard]] const VerifiedTokenCache& cache() const { return cache_; }

  /// The verification alone, on a key set at hand: for benchmarks and tests.
  [[nodiscard]] std::expected<std::shared_ptr<const Principal>, Error> verify(std::string_view token,
                                                                              const KeySet& keys) const;

 private:
  [[nodiscard]] std::expected<Jws, Error> parse(std::string_view token) const;
  [[nodiscard]] std::expected<std::shared_ptr<const Principal>, Error> check(const Jws& jws, const Jwk& key,
                                                                             std::string_view token) const;

  JwsPolicy policy_;
  std::string required_type_;
  ClaimsPolicy claims_;
  Now now_;
  JwksCache jwks_;
  mutable VerifiedTokenCache cache_;  // a cache: filling it changes no answer
};

}  // namespace deputy::auth
