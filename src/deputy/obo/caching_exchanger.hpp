#pragma once
// A TokenExchanger in front of another: answers from the token cache (token_cache.hpp) and runs at most one
// exchange per key at a time (single-flight). N tool calls of one user arriving together for one scope set
// cost one request to the identity provider, whose throttling (429) would otherwise hit the burst; every
// waiter gets that exchange's result, failures included, and failures are not cached (the next call tries
// again).
//
// Waiters may be on different io_contexts and threads: each waits on its own channel bound to its own
// executor, and the finished exchange posts the result to every channel. The exchange runs detached from the
// caller that started it, so that caller's cancellation does not strand the others. The rule this relies on
// (Asio's own): an io_context is not destroyed while a coroutine of it waits here; the flight holds work on
// each waiter's io_context until it has handed over the result, so its run() does not return before.
//
// With `claims` set (a claims challenge being satisfied), the cache and the flight are bypassed and the fresh
// token replaces the cached one. Disabled, every call exchanges (the seed's "exchange per tool execution").

#include "deputy/obo/exchanger.hpp"
#include "deputy/obo/token_cache.hpp"

#include <functional>
#include <memory>
#include <string>

namespace deputy::obo {

struct CacheOptions {
  bool enabled = true;
  std::size_t max_entries = kDefaultMaxCacheEntries;
  std::chrono::seconds margin = kDefaultExpiryMargin;
  std::function<Clock::time_point()> now = Clock::now;
};

class CachingExchanger final : public TokenExchanger {
 public:
  /// `client_id` is the one `inner` exchanges as (part of the cache key).
  CachingExchanger(std::shared_ptr<TokenExchanger> inner, std::string client_id, CacheOptions options = {});
  ~CachingExchanger() override;

  [[nodiscard]] boost::asio::awaitable<std::expected<DownstreamToken, Failure>> exchange(
      ExchangeRequest request) override;

  /// Entries in the cache (tests, metrics).
  [[nodiscard]] std::size_t cached() const;
  /// Callers waiting for an exchange another caller started, across keys (metrics, tests).
  [[nodiscard]] std::size_t waiting() const;
  /// Drops every cached token (e.g. after a credential rotation).
  void clear();

  struct State;

 private:
  std::shared_ptr<State> state_;
};

/// The usual stack: make_exchanger(options, send) behind a CachingExchanger for options.client_id. Throws as
/// make_exchanger does.
[[nodiscard]] std::shared_ptr<TokenExchanger> make_cached_exchanger(ExchangeOptions options, Sender send,
                                                                    CacheOptions cache = {});

}  // namespace deputy::obo
