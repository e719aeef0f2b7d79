#pragma once
// The issuer's signing keys, fetched and kept: a TTL with refresh in the background (the old set serves
// while the new one comes), one refetch when a token names a kid we do not know (single-flight and
// rate-limited), and the last good set kept through a failed fetch.

#include "deputy/auth/jwk.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/asio/experimental/concurrent_channel.hpp>

#include <chrono>
#include <expected>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace deputy::auth {

/// Brings the JWKS document: over HTTP from jwks_uri or through OIDC discovery in production, from
/// memory in tests. Tests never reach the network.
class KeyFetcher {
 public:
  virtual ~KeyFetcher() = default;
  /// The JWKS document, or why it could not be had.
  virtual boost::asio::awaitable<std::expected<std::string, std::string>> fetch() = 0;
};

class JwksCache {
 public:
  using Clock = std::chrono::steady_clock;
  using Now = std::function<Clock::time_point()>;

  JwksCache(std::shared_ptr<KeyFetcher> fetcher, std::chrono::seconds refresh, std::chrono::seconds unknown_kid_refetch,
            Now now = Clock::now);

  /// The keys: the cached set (starting a refresh in the background when it is due), or the first fetch
  /// when there is none. Null when no set could ever be fetched.
  boost::asio::awaitable<std::shared_ptr<const KeySet>> keys();
  /// A token named a kid the set lacks: fetch again, unless a fetch happened within the rate limit; all
  /// callers at the same moment share one fetch.
  boost::asio::awaitable<std::shared_ptr<const KeySet>> refetch_for_unknown_kid();

  /// Called with the kids that left the set when a new set replaces the old (so verified tokens signed by
  /// them can be forgotten).
  void on_keys_removed(std::function<void(const std::vector<std::string>&)> listener);

  [[nodiscard]] std::uint64_t fetches() const;

 private:
  using Waiter = boost::asio::experimental::concurrent_channel<void(boost::system::error_code)>;
  /// Joins the fetch that runs, or starts one, and waits for it.
  boost::asio::awaitable<void> fetch_once();
  boost::asio::awaitable<void> run_fetch();

  std::shared_ptr<KeyFetcher> fetcher_;
  const std::chrono::seconds refresh_;
  const std::chrono::seconds unknown_kid_refetch_;
  const Now now_;

  mutable std::mutex mutex_;
  std::shared_ptr<const KeySet> keys_;
  Clock::time_point fetched_at_{};         // last successful fetch
  Clock::time_point attempted_at_{};       // last attempt, successful or not
  bool attempted_ = false;
  bool in_flight_ = false;
  std::vector<std::shared_ptr<Waiter>> waiters_;
  std::uint64_t fetches_ = 0;
  std::function<void(const std::vector<std::string>&)> on_removed_;
};

}  // namespace deputy::auth
