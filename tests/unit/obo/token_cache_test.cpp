// The token cache alone: keys that keep users, scopes and clients apart, the expiry margin, and the bound.
#include "deputy/obo/token_cache.hpp"

#include <gtest/gtest.h>

namespace deputy::obo {
namespace {

using std::chrono::minutes;
using std::chrono::seconds;
constexpr Clock::time_point kNow{seconds(1'800'000'000)};

DownstreamToken token(std::string value, Clock::time_point expires_at) {
  return DownstreamToken{.access_token = std::move(value), .expires_at = expires_at};
}

TEST(CacheKey, SeparatesUsersTokensClientsAndScopesButNotScopeOrder) {
  const auto key = cache_key("token-a", "oid:t/alice", "client", {"s1", "s2"});
  EXPECT_EQ(key.size(), 32U);  // a SHA-256: the token itself is not in the key
  EXPECT_EQ(key, cache_key("token-a", "oid:t/alice", "client", {"s2", "s1", "s1"}));
  EXPECT_NE(key, cache_key("token-b", "oid:t/alice", "client", {"s1", "s2"}));
  EXPECT_NE(key, cache_key("token-a", "oid:t/bob", "client", {"s1", "s2"}));
  EXPECT_NE(key, cache_key("token-a", "oid:t/alice", "other", {"s1", "s2"}));
  EXPECT_NE(key, cache_key("token-a", "oid:t/alice", "client", {"s1"}));
  // Length prefixes: moving a boundary between fields gives another key.
  EXPECT_NE(cache_key("ab", "c", "client", {}), cache_key("a", "bc", "client", {}));
  EXPECT_NE(cache_key("t", "k", "client", {"a b"}), cache_key("t", "k", "client", {"a", "b"}));
}

TEST(TokenCache, ServesUntilTheMarginBeforeExpiry) {
  TokenCache cache(10, minutes(5));
  cache.store("k", token("t", kNow + minutes(60)), kNow);
  ASSERT_TRUE(cache.find("k", kNow));
  EXPECT_EQ(cache.find("k", kNow)->access_token, "t");
  EXPECT_TRUE(cache.find("k", kNow + minutes(55) - seconds(1)));
  EXPECT_FALSE(cache.find("k", kNow + minutes(55)));  // within the margin: gone
  EXPECT_EQ(cache.size(), 0U);
}

TEST(TokenCache, ATokenAlreadyWithinTheMarginIsNotKept) {
  TokenCache cache(10, minutes(5));
  cache.store("k", token("short", kNow + minutes(4)), kNow);
  EXPECT_EQ(cache.size(), 0U);
}

TEST(TokenCache, StoreReplaces) {
  TokenCache cache;
  cache.store("k", token("old", kNow + minutes(60)), kNow);
  cache.store("k", token("new", kNow + minutes(30)), kNow);
  EXPECT_EQ(cache.size(), 1U);
  EXPECT_EQ(cache.find("k", kNow)->access_token, "new");
  cache.erase("k");
  EXPECT_FALSE(cache.find("k", kNow));
}

TEST(TokenCache, BoundedEvictingExpiredThenSoonestExpiring) {
  TokenCache cache(3, minutes(5));
  cache.store("a", token("a", kNow + minutes(60)), kNow);
  cache.store("b", token("b", kNow + minutes(20)), kNow);
  cache.store("c", token("c", kNow + minutes(90)), kNow);
  cache.store("d", token("d", kNow + minutes(120)), kNow);  // full: b, the soonest to expire, goes
  EXPECT_EQ(cache.size(), 3U);
  EXPECT_FALSE(cache.find("b", kNow));
  EXPECT_TRUE(cache.find("a", kNow));
  // Later, a is past its margin: it goes first, and nothing usable is evicted.
  const auto later = kNow + minutes(56);
  cache.store("e", token("e", later + minutes(60)), later);
  EXPECT_TRUE(cache.find("c", later));
  EXPECT_TRUE(cache.find("d", later));
  EXPECT_FALSE(cache.find("a", kNow));  // gone for good
  EXPECT_TRUE(cache.find("e", later));
  EXPECT_LE(cache.size(), 3U);
}

}  // namespace
}  // namespace deputy::obo
