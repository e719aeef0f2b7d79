// Authorization requests waiting for the user: one-time tokens, expiry, the bound.
#include "devidp_fixture.hpp"

#include "deputy/devidp/pending_authorizations.hpp"

#include <gtest/gtest.h>

namespace deputy::devidp::testing {
namespace {

TEST(PendingAuthorizations, ATokenIsTakenOnceAndOnlyInTime) {
  PendingAuthorizations pending;
  std::uint32_t counter = 0;
  const Random random = [&](std::span<unsigned char> out) {
    ++counter;
    for (std::size_t i = 0; i < out.size(); ++i)
      out[i] = static_cast<unsigned char>((counter >> (8 * (i % 4))) + i);
  };
  const auto token =
      pending.put({.tenant = "t", .request = "a=1", .expires_at = kStart + kPendingLifetime}, random, kStart);
  EXPECT_EQ(token.size(), 43U);
  EXPECT_FALSE(pending.take("", kStart));
  EXPECT_FALSE(pending.take("other", kStart));
  const auto taken = pending.take(token, kStart);
  ASSERT_TRUE(taken);
  EXPECT_EQ(taken->request, "a=1");
  EXPECT_FALSE(pending.take(token, kStart));

  const auto late = pending.put({.expires_at = kStart + kPendingLifetime}, random, kStart);
  EXPECT_FALSE(pending.take(late, kStart + kPendingLifetime));

  // Bounded: the one nearest its end goes first.
  const auto first = pending.put({.expires_at = kStart + std::chrono::minutes(1)}, random, kStart);
  for (std::size_t i = 0; i < kMaxPendingAuthorizations; ++i) {
    (void)pending.put({.expires_at = kStart + kPendingLifetime}, random, kStart);
  }
  EXPECT_FALSE(pending.take(first, kStart));
}

}  // namespace
}  // namespace deputy::devidp::testing
