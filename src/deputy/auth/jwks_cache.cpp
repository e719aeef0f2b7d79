#include "deputy/auth/jwks_cache.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <spdlog/spdlog.h>

#include <set>

namespace deputy::auth {

namespace asio = boost::asio;

JwksCache::JwksCache(std::shared_ptr<KeyFetcher> fetcher, std::chrono::seconds refresh,
                     std::chrono::seconds unknown_kid_refetch, Now now)
    : fetcher_(std::move(fetcher)), refresh_(refresh), unknown_kid_refetch_(unknown_kid_refetch), now_(std::move(now)) {}

void JwksCache::on_keys_removed(std::function<void(const std::vector<std::string>&)> listener) {
  std::lock_guard lock(mutex_);
  on_removed_ = std::move(listener);
}

std::uint64_t JwksCache::fetches() const {
  std::lock_guard lock(mutex_);
  return fetches_;
}

asio::awaitable<void> JwksCache::run_fetch() {
  auto document = co_await fetcher_->fetch();
  std::shared_ptr<const KeySet> fetched;
  if (document) {
    auto parsed = parse_jwks(*document);
    if (parsed && !parsed->empty()) {
      fetched = std::make_shared<const KeySet>(std::move(*parsed));
    } else {
      spdlog::warn("the issuer's key set could not be used: {}",
                   parsed ? std::string_view("no usable signing key") : to_string(parsed.error()));
    }
  } else {
    spdlog::warn("the issuer's key set could not be fetched: {}", document.error());
  }
  std::vector<std::shared_ptr<Waiter>> waiters;
  std::vector<std::string> removed;
  std::function<void(const std::vector<std::string>&)> on_removed;
  {
    std::lock_guard lock(mutex_);
    in_flight_ = false;
    waiters.swap(waiters_);
    if (fetched) {
      // A failed fetch keeps the last good set: an outage of the identity provider must not lock out
      // users whose tokens were signed by keys we already have.
      if (keys_) {
        std::set<std::string> now_present;
        for (const auto& key : fetched->keys()) {
          if (key.kid) now_present.insert(*key.kid);
        }
        for (const auto& key : keys_->keys()) {
          if (key.kid && !now_present.contains(*key.kid)) removed.push_back(*key.kid);
        }
      }
      keys_ = std::move(fetched);
      fetched_at_ = now_();
      on_removed = on_removed_;
    }
  }
  if (!removed.empty() && on_removed) on_removed(removed);
  for (auto& waiter : waiters) waiter->try_send(boost::system::error_code{});
}

asio::awaitable<void> JwksCache::fetch_once() {
  // Single flight: the first caller fetches; everyone who arrives meanwhile waits for that same fetch.
  auto waiter = std::make_shared<Waiter>(co_await asio::this_coro::executor, 1);
  bool start = false;
  {
    std::lock_guard lock(mutex_);
    waiters_.push_back(waiter);
    if (!in_flight_) {
      in_flight_ = true;
      start = true;
      attempted_ = true;
      attempted_at_ = now_();
      ++fetches_;
    }
  }
  if (start) asio::co_spawn(co_await asio::this_coro::executor, run_fetch(), asio::detached);
  co_await waiter->async_receive(asio::as_tuple(asio::use_awaitable));
}

asio::awaitable<std::shared_ptr<const KeySet>> JwksCache::keys() {
  std::shared_ptr<const KeySet> current;
  {
    std::lock_guard lock(mutex_);
    if (keys_) {
      // Due once the set is older than the refresh interval; after a failed attempt, not again before the
      // refetch interval: an outage of the identity provider must not turn every request into a fetch.
      if (in_flight_ || now_() - fetched_at_ < refresh_ || now_() - attempted_at_ < unknown_kid_refetch_) {
        co_return keys_;
      }
      in_flight_ = true;
      attempted_ = true;
      attempted_at_ = now_();
      ++fetches_;
      current = keys_;
    }
  }
  if (current) {
    // Due for a refresh: the current set answers this request, the new one arrives for later ones.
    asio::co_spawn(co_await asio::this_coro::executor, run_fetch(), asio::detached);
    co_return current;
  }
  co_await fetch_once();
  std::lock_guard lock(mutex_);
  co_return keys_;
}

asio::awaitable<std::shared_ptr<const KeySet>> JwksCache::refetch_for_unknown_kid() {
  {
    std::lock_guard lock(mutex_);
    // At most one refetch per interval: tokens with invented kids must not turn into a stream of
    // requests to the identity provider. A fetch already running is joined, not repeated.
    if (!in_flight_ && attempted_ && now_() - attempted_at_ < unknown_kid_refetch_) co_return keys_;
  }
  co_await fetch_once();
  std::lock_guard lock(mutex_);
  co_return keys_;
}

}  // namespace deputy::auth
