#include "deputy/transport/session_store.hpp"

#include <gtest/gtest.h>

#include <set>

namespace deputy::transport {
namespace {

using Clock = SessionStore::Clock;

TEST(SessionId, HexOf128RandomBits) {
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    auto id = new_session_id();
    ASSERT_EQ(id.size(), 32U);
    ASSERT_EQ(id.find_first_not_of("0123456789abcdef"), std::string::npos);
    seen.insert(id);
  }
  EXPECT_EQ(seen.size(), 1000U);
}

TEST(SessionStore, CreateFindRemove) {
  SessionStore store;
  const auto now = Clock::now();
  auto entry = store.create(now);
  ASSERT_TRUE(entry);
  EXPECT_EQ(store.find(entry->session.id(), now), entry);
  EXPECT_FALSE(store.find("nope", now));
  EXPECT_TRUE(store.remove(entry->session.id()));
  EXPECT_FALSE(store.remove(entry->session.id()));
  EXPECT_FALSE(store.find(entry->session.id(), now));
}

TEST(SessionStore, FullStoreRefuses) {
  SessionStore store(2);
  const auto now = Clock::now();
  EXPECT_TRUE(store.create(now));
  EXPECT_TRUE(store.create(now));
  EXPECT_FALSE(store.create(now));
}

TEST(SessionStore, IdleSessionsExpireAndUseKeepsThemAlive) {
  SessionStore store(10, std::chrono::minutes(1));
  const auto start = Clock::now();
  auto idle = store.create(start);
  auto busy = store.create(start);
  EXPECT_TRUE(store.find(busy->session.id(), start + std::chrono::seconds(50)));
  EXPECT_EQ(store.expire(start + std::chrono::seconds(70)), 1U);
  EXPECT_FALSE(store.find(idle->session.id(), start + std::chrono::seconds(70)));
  EXPECT_TRUE(store.find(busy->session.id(), start + std::chrono::seconds(70)));
}

}  // namespace
}  // namespace deputy::transport
