// The caching decorator: hits, misses, the expiry margin on an injected clock, disabled caching, the claims
// bypass, the bound, one user's token never served for another, and single-flight: 100 concurrent callers on
// four threads (each with its own io_context) cost one exchange, and all of them get its result, failures
// included.
#include "deputy/obo/caching_exchanger.hpp"

#include "obo_test_support.hpp"

#include <gtest/gtest.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/concurrent_channel.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <atomic>
#include <thread>

namespace deputy::obo::testing {
namespace {

using std::chrono::minutes;
using Gate = asio::experimental::concurrent_channel<void(boost::system::error_code)>;

/// An exchanger that counts its calls and answers token-<n> (valid an hour), or a failure; optionally it
/// waits at a gate the test opens.
class CountingExchanger : public TokenExchanger {
 public:
  asio::awaitable<std::expected<DownstreamToken, Failure>> exchange(ExchangeRequest request) override {
    const int n = ++calls;
    last_claims = request.claims;
    last_subject = std::string(request.subject_token);
    if (gated) {
      auto gate = std::make_shared<Gate>(co_await asio::this_coro::executor, 1);
      {
        const std::lock_guard lock(mutex_);
        gate_ = gate;
      }
      gate_ready = true;
      co_await gate->async_receive(asio::as_tuple(asio::use_awaitable));
    }
    if (fail) {
      co_return std::unexpected(Failure{.error = Error::interaction_required, .claims = R"({"c":1})"});
    }
    co_return DownstreamToken{.access_token = "token-" + std::to_string(n) + "-for-" + last_subject,
                              .expires_at = now + minutes(60)};
  }
  void open_gate() {
    const std::lock_guard lock(mutex_);
    // Opened from the gate's own executor, which then drops our reference (a channel must die on its side
    // while its io_context exists), holding work on it until the post has returned (see
    // caching_exchanger.cpp).
    if (!gate_) return;
    const asio::any_io_executor tracked =
        asio::prefer(gate_->get_executor(), asio::execution::outstanding_work.tracked);
    asio::post(tracked, [gate = std::move(gate_)] { (void)gate->try_send(boost::system::error_code()); });
  }

  std::atomic<int> calls{0};
  std::atomic<bool> gated{false};
  std::atomic<bool> gate_ready{false};
  bool fail = false;
  Clock::time_point now = kNow;
  std::string last_claims;
  std::string last_subject;

 private:
  std::mutex mutex_;
  std::shared_ptr<Gate> gate_;
};

class Caching : public ::testing::Test {
 protected:
  void SetUp() override { inner_ = std::make_shared<CountingExchanger>(); }
  CachingExchanger make(CacheOptions options = {}) {
    options.now = [this] { return now_; };
    return CachingExchanger(inner_, std::string(kClientId), std::move(options));
  }
  static std::expected<DownstreamToken, Failure> get(TokenExchanger& exchanger,
                                                     std::string_view token = "alice-token",
                                                     std::string_view key = "oid:t/alice",
                                                     std::string claims = {}) {
    return run(exchanger.exchange({.subject_token = token,
                                   .subject_key = key,
                                   .scopes = {std::string(kGraph)},
                                   .claims = std::move(claims)}));
  }

  std::shared_ptr<CountingExchanger> inner_;
  Clock::time_point now_ = kNow;
};

TEST_F(Caching, AMissExchangesAndAHitDoesNot) {
  auto caching = make();
  auto first = get(caching);
  ASSERT_TRUE(first);
  EXPECT_FALSE(first->from_cache);
  auto second = get(caching);
  ASSERT_TRUE(second);
  EXPECT_TRUE(second->from_cache);
  EXPECT_EQ(second->access_token, first->access_token);
  EXPECT_EQ(inner_->calls, 1);
  EXPECT_EQ(caching.cached(), 1U);
}

TEST_F(Caching, ExpiryMarginOnTheInjectedClock) {
  auto caching = make({.margin = minutes(5)});
  ASSERT_TRUE(get(caching));
  now_ = kNow + minutes(54);
  EXPECT_TRUE(get(caching)->from_cache);
  now_ = kNow + minutes(55);  // the token expires at kNow + 60 min: within the margin now
  inner_->now = now_;
  auto renewed = get(caching);
  ASSERT_TRUE(renewed);
  EXPECT_FALSE(renewed->from_cache);
  EXPECT_EQ(inner_->calls, 2);
}

TEST_F(Caching, DisabledExchangesEveryTime) {
  auto caching = make({.enabled = false});
  EXPECT_FALSE(get(caching)->from_cache);
  EXPECT_FALSE(get(caching)->from_cache);
  EXPECT_EQ(inner_->calls, 2);
  EXPECT_EQ(caching.cached(), 0U);
}

TEST_F(Caching, ClaimsBypassTheCacheAndReplaceTheEntry) {
  auto caching = make();
  auto plain = get(caching);
  ASSERT_TRUE(plain);
  auto with_mfa =
      get(caching, "alice-token", "oid:t/alice", R"({"access_token":{"acrs":{"values":["c1"]}}})");
  ASSERT_TRUE(with_mfa);
  EXPECT_FALSE(with_mfa->from_cache);
  EXPECT_EQ(inner_->calls, 2);
  EXPECT_EQ(inner_->last_claims, R"({"access_token":{"acrs":{"values":["c1"]}}})");
  auto after = get(caching);
  ASSERT_TRUE(after);
  EXPECT_TRUE(after->from_cache);
  EXPECT_EQ(after->access_token, with_mfa->access_token);  // the fresh token replaced the old one
  EXPECT_EQ(inner_->calls, 2);
}

TEST_F(Caching, FailuresAreNotCached) {
  inner_->fail = true;
  auto caching = make();
  auto failed = get(caching);
  ASSERT_FALSE(failed);
  EXPECT_EQ(failed.error().error, Error::interaction_required);
  EXPECT_FALSE(get(caching));
  EXPECT_EQ(inner_->calls, 2);
  EXPECT_EQ(caching.cached(), 0U);
}

TEST_F(Caching, BoundedInEntries) {
  auto caching = make({.max_entries = 2});
  for (int i = 0; i < 5; ++i) {
    const std::string user = "user-token-" + std::to_string(i);
    ASSERT_TRUE(get(caching, user, "oid:t/" + user));
  }
  EXPECT_EQ(caching.cached(), 2U);
}

TEST_F(Caching, OneUsersTokenIsNeverServedForAnother) {
  auto caching = make();
  auto alice = get(caching, "alice-token", "oid:t/alice");
  auto bob = get(caching, "bob-token", "oid:t/bob");
  ASSERT_TRUE(alice && bob);
  EXPECT_NE(alice->access_token, bob->access_token);
  EXPECT_FALSE(bob->from_cache);
  // Even alice's token presented under another identity key (a bug upstream) is a separate entry.
  auto mixed = get(caching, "alice-token", "oid:t/bob");
  ASSERT_TRUE(mixed);
  EXPECT_FALSE(mixed->from_cache);
  EXPECT_EQ(inner_->calls, 3);
  EXPECT_EQ(get(caching, "bob-token", "oid:t/bob")->access_token, bob->access_token);
}

/// `callers` concurrent calls for one key, spread over `threads` threads each running its own io_context; the
/// exchange is held at the gate until every caller is waiting on it.
std::vector<std::expected<DownstreamToken, Failure>> concurrent_calls(CachingExchanger& caching,
                                                                      CountingExchanger& inner, int threads,
                                                                      int callers) {
  inner.gated = true;
  std::vector<std::expected<DownstreamToken, Failure>> results;
  std::mutex mutex;
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, per_thread = callers / threads] {
      asio::io_context context;
      for (int i = 0; i < per_thread; ++i) {
        asio::co_spawn(
            context,
            [&]() -> asio::awaitable<void> {
              ExchangeRequest request{.subject_token = "alice-token",
                                      .subject_key = "oid:t/alice",
                                      .scopes = {std::string(kGraph)}};
              auto result = co_await caching.exchange(std::move(request));
              const std::lock_guard lock(mutex);
              results.push_back(std::move(result));
            },
            asio::detached);
      }
      context.run_for(std::chrono::seconds(20));
    });
  }
  // Bounded: every caller registers within moments; the loop gives up after 20 s rather than hang.
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while ((!inner.gate_ready || caching.waiting() + 1 < static_cast<std::size_t>(callers)) &&
         std::chrono::steady_clock::now() < give_up) {
    std::this_thread::yield();
  }
  EXPECT_EQ(caching.waiting() + 1, static_cast<std::size_t>(callers));
  inner.open_gate();
  for (auto& worker : workers) worker.join();
  return results;
}

TEST_F(Caching, SingleFlightAcrossThreadsAndIoContexts) {
  auto caching = make();
  const auto results = concurrent_calls(caching, *inner_, 4, 100);
  ASSERT_EQ(results.size(), 100U);
  EXPECT_EQ(inner_->calls, 1);
  int exchanged = 0;
  for (const auto& result : results) {
    ASSERT_TRUE(result);
    EXPECT_EQ(result->access_token, "token-1-for-alice-token");
    if (!result->from_cache) ++exchanged;
  }
  EXPECT_EQ(exchanged, 1);  // the caller that started it
  EXPECT_EQ(caching.waiting(), 0U);
  inner_->gated = false;
  EXPECT_TRUE(get(caching)->from_cache);
  EXPECT_EQ(inner_->calls, 1);
}

TEST_F(Caching, AFailureReachesEveryWaiterOfItsFlightAndIsNotCached) {
  inner_->fail = true;
  auto caching = make();
  const auto results = concurrent_calls(caching, *inner_, 4, 100);
  ASSERT_EQ(results.size(), 100U);
  EXPECT_EQ(inner_->calls, 1);
  for (const auto& result : results) {
    ASSERT_FALSE(result);
    EXPECT_EQ(result.error().error, Error::interaction_required);
    EXPECT_EQ(result.error().claims, R"({"c":1})");
  }
  EXPECT_EQ(caching.cached(), 0U);
  inner_->gated = false;
  EXPECT_FALSE(get(caching));
  EXPECT_EQ(inner_->calls, 2);
}

TEST_F(Caching, TheCacheWorksOverTheRealExchanger) {
  FakeEndpoint endpoint;
  endpoint.push(answer(200, success_body("uti-a")));
  ExchangeOptions options{.token_endpoint = std::string(kEndpoint),
                          .client_id = std::string(kClientId),
                          .credential = ClientCredential::secret("s")};
  options.now = [] { return kNow; };
  std::shared_ptr<TokenExchanger> real = make_exchanger(std::move(options), endpoint.sender());
  CachingExchanger caching(real, std::string(kClientId), {.now = [] { return kNow; }});
  EXPECT_FALSE(get(caching)->from_cache);
  auto again = get(caching);
  ASSERT_TRUE(again);
  EXPECT_TRUE(again->from_cache);
  EXPECT_EQ(again->token_id, "uti-a");
  EXPECT_EQ(endpoint.calls(), 1U);
}

TEST_F(Caching, MakeCachedExchangerBuildsTheStack) {
  FakeEndpoint endpoint;
  endpoint.push(answer(200, success_body("uti-b")));
  ExchangeOptions options{.token_endpoint = std::string(kEndpoint),
                          .client_id = std::string(kClientId),
                          .credential = ClientCredential::secret("s")};
  options.now = [] { return kNow; };
  auto exchanger = make_cached_exchanger(std::move(options), endpoint.sender(), {.now = [] { return kNow; }});
  EXPECT_FALSE(get(*exchanger)->from_cache);
  EXPECT_TRUE(get(*exchanger)->from_cache);
  EXPECT_EQ(endpoint.calls(), 1U);
}

}  // namespace
}  // namespace deputy::obo::testing
