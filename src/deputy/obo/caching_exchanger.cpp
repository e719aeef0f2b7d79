#include "deputy/obo/caching_exchanger.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/experimental/concurrent_channel.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <mutex>
#include <unordered_map>

namespace deputy::obo {

namespace asio = boost::asio;

namespace {

using Result = std::expected<DownstreamToken, Failure>;
using SharedResult = std::shared_ptr<const Result>;
/// Thread-safe: the exchange finishes on one thread and sends to waiters on others; each waiter's completion
/// runs on the waiter's own executor.
using Channel = asio::experimental::concurrent_channel<void(boost::system::error_code, SharedResult)>;

/// One caller waiting for a flight: its channel, and the executor its coroutine runs on, tracking work: while
/// the flight holds it, the waiter's io_context cannot run out of work and be destroyed under a post to it.
struct Waiter {
  asio::any_io_executor executor;
  std::shared_ptr<Channel> channel;
};

struct Flight {
  std::vector<Waiter> waiters;  // guarded by State::mutex while the flight is in the map
};

}  // namespace

struct CachingExchanger::State {
  std::shared_ptr<TokenExchanger> inner;
  std::string client_id;
  CacheOptions options;
  TokenCache cache;
  std::mutex mutex;
  std::unordered_map<std::string, std::shared_ptr<Flight>> flights;  // key -> the exchange in progress

  State(std::shared_ptr<TokenExchanger> inner_exchanger, std::string id, CacheOptions cache_options)
      : inner(std::move(inner_exchanger)),
        client_id(std::move(id)),
        options(std::move(cache_options)),
        cache(options.max_entries, options.margin) {
    if (!options.now) options.now = Clock::now;
  }

  /// Ends `flight` (once: a second call finds it gone) and hands `result` to everyone waiting on it.
  void publish(const std::string& key, const std::shared_ptr<Flight>& flight, const SharedResult& result) {
    std::vector<Waiter> waiters;
    {
      const std::lock_guard lock(mutex);
      const auto it = flights.find(key);
      if (it == flights.end() || it->second != flight) return;
      waiters = std::move(it->second->waiters);
      flights.erase(it);
    }
    // The message is sent from the waiter's own executor, and the reference to its channel goes with it: a
    // channel must be destroyed on its waiter's side while its io_context exists (its destructor locks a
    // mutex of that io_context). The tracked executor is released only after the post has returned: posting
    // unlocks the queue before it signals, and without our work the waiter's thread could finish and destroy
    // its io_context in between. The channel has room for one message, so try_send never blocks; a waiter
    // that has gone (cancelled) leaves the message unread until the channel dies.
    for (auto& waiter : waiters) {
      asio::post(waiter.executor, [channel = std::move(waiter.channel), result] {
        (void)channel->try_send(boost::system::error_code(), result);
      });
    }
    waiters.clear();
  }
};

namespace {

/// Publishes a failure if the flight's coroutine ends without publishing (its io_context was stopped and the
/// frame destroyed): waiters on other threads must not wait forever.
struct FlightGuard {
  std::shared_ptr<CachingExchanger::State> state;
  std::string key;
  std::shared_ptr<Flight> flight;
  bool done = false;
  ~FlightGuard() {
    if (done) return;
    auto failure = std::make_shared<const Result>(std::unexpected(
        Failure{.error = Error::unavailable, .description = "the token exchange was interrupted"}));
    state->publish(key, flight, failure);
  }
};

asio::awaitable<void> run_flight(std::shared_ptr<CachingExchanger::State> state, std::string key,
                                 std::shared_ptr<Flight> flight, std::string subject_token,
                                 std::string subject_key, std::vector<std::string> scopes) {
  FlightGuard guard{state, key, flight};
  ExchangeRequest request;
  request.subject_token = subject_token;
  request.subject_key = subject_key;
  request.scopes = std::move(scopes);
  auto result = co_await state->inner->exchange(std::move(request));
  if (result) state->cache.store(key, *result, state->options.now());
  auto shared = std::make_shared<const Result>(std::move(result));
  guard.done = true;
  state->publish(key, flight, shared);
}

}  // namespace

CachingExchanger::CachingExchanger(std::shared_ptr<TokenExchanger> inner, std::string client_id,
                                   CacheOptions options)
    : state_(std::make_shared<State>(std::move(inner), std::move(client_id), std::move(options))) {}

CachingExchanger::~CachingExchanger() = default;

std::size_t CachingExchanger::cached() const {
  return state_->cache.size();
}

std::size_t CachingExchanger::waiting() const {
  const std::lock_guard lock(state_->mutex);
  std::size_t count = 0;
  for (const auto& [key, flight] : state_->flights) count += flight->waiters.size() - 1;  // less the starter
  return count;
}

void CachingExchanger::clear() {
  state_->cache.clear();
}

asio::awaitable<Result> CachingExchanger::exchange(ExchangeRequest request) {
  const auto state = state_;  // the exchange may outlive *this only through its own shared state
  if (!state->options.enabled) {
    auto result = co_await state->inner->exchange(std::move(request));
    co_return result;
  }
  const std::string key =
      cache_key(request.subject_token, request.subject_key, state->client_id, request.scopes);

  if (!request.claims.empty()) {
    // A claims challenge asks for a token the cached one is not (e.g. with MFA): always exchange, then keep
    // it.
    auto result = co_await state->inner->exchange(std::move(request));
    if (result) state->cache.store(key, *result, state->options.now());
    co_return result;
  }

  auto executor = co_await asio::this_coro::executor;
  auto channel = std::make_shared<Channel>(executor, 1);
  const asio::any_io_executor tracked = asio::prefer(executor, asio::execution::outstanding_work.tracked);
  std::shared_ptr<Flight> started;
  {
    const std::lock_guard lock(state->mutex);
    // Looked up under the flights lock: a flight that just finished has stored its token before leaving the
    // map, so a caller finds either the flight or the token, never neither.
    if (auto hit = state->cache.find(key, state->options.now())) {
      hit->from_cache = true;
      co_return std::move(*hit);
    }
    if (const auto it = state->flights.find(key); it != state->flights.end()) {
      it->second->waiters.push_back(Waiter{tracked, channel});
    } else {
      started = std::make_shared<Flight>();
      started->waiters.push_back(Waiter{tracked, channel});
      state->flights.emplace(key, started);
    }
  }
  if (started) {
    // The flight owns copies of what it sends: the caller's views may die with the caller.
    auto flight = run_flight(state, key, started, std::string(request.subject_token),
                             std::string(request.subject_key), request.scopes);
    asio::co_spawn(executor, std::move(flight), [state, key, started](std::exception_ptr error) {
      if (!error) return;
      auto failure = std::make_shared<const Result>(std::unexpected(
          Failure{.error = Error::unavailable, .description = "the token exchange failed unexpectedly"}));
      state->publish(key, started, failure);
    });
  }
  auto [error, shared] = co_await channel->async_receive(asio::as_tuple(asio::use_awaitable));
  if (error || !shared) {
    co_return std::unexpected(Failure{.error = Error::unavailable,
                                      .scopes = request.scopes,
                                      .description = "the wait for the token exchange was cancelled"});
  }
  Result result = *shared;
  // Only the caller that started the exchange reports it as its own; the others were served by it.
  if (result && !started) result->from_cache = true;
  co_return result;
}

std::shared_ptr<TokenExchanger> make_cached_exchanger(ExchangeOptions options, Sender send,
                                                      CacheOptions cache) {
  std::string client_id = options.client_id;
  std::shared_ptr<TokenExchanger> inner = make_exchanger(std::move(options), std::move(send));
  return std::make_shared<CachingExchanger>(std::move(inner), std::move(client_id), std::move(cache));
}

}  // namespace deputy::obo
