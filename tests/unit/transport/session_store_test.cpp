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
  auto created = store.create(now);
  ASSERT_TRUE(created);
  auto entry = *created;
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
  auto refused = store.create(now);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error(), SessionStore::Refusal::kFull);
}

TEST(SessionStore, OneUserCannotFillTheTable) {
  // One valid token opening sessions in a loop: its owner hits its own limit, everyone else is still served.
  SessionStore store(100, std::chrono::minutes(1), 3);
  const auto now = Clock::now();
  std::vector<std::shared_ptr<SessionStore::Entry>> mallory;
  for (int i = 0; i < 3; ++i) mallory.push_back(*store.create(now, "oid:t/mallory"));
  auto refused = store.create(now, "oid:t/mallory");
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error(), SessionStore::Refusal::kOwnerFull);
  EXPECT_TRUE(store.create(now, "oid:t/alice"));
  EXPECT_TRUE(store.create(now));  // anonymous (no authentication): only the store's limit
  // Ending one of them (DELETE or expiry) gives the owner room again.
  EXPECT_TRUE(store.remove(mallory.front()->session.id()));
  EXPECT_TRUE(store.create(now, "oid:t/mallory"));
  EXPECT_EQ(store.expire(now + std::chrono::minutes(2)), 5U);
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(store.create(now + std::chrono::minutes(2), "oid:t/mallory"));
}

TEST(SessionStore, IdleSessionsExpireAndUseKeepsThemAlive) {
  SessionStore store(10, std::chrono::minutes(1));
  const auto start = Clock::now();
  auto idle = *store.create(start);
  auto busy = *store.create(start);
  EXPECT_TRUE(store.find(busy->session.id(), start + std::chrono::seconds(50)));
  EXPECT_EQ(store.expire(start + std::chrono::seconds(70)), 1U);
  EXPECT_FALSE(store.find(idle->session.id(), start + std::chrono::seconds(70)));
  EXPECT_TRUE(store.find(busy->session.id(), start + std::chrono::seconds(70)));
}

}  // namespace
}  // namespace deputy::transport
