// The browser sign-in sessions: accounts, expiry, id rotation and the bounds.
#include "devidp_fixture.hpp"

#include "deputy/devidp/sign_in_sessions.hpp"

#include <gtest/gtest.h>

namespace deputy::devidp::testing {
namespace {

Random counting() {
  return [counter = std::make_shared<std::uint32_t>(0)](std::span<unsigned char> out) {
    ++*counter;
    for (std::size_t i = 0; i < out.size(); ++i)
      out[i] = static_cast<unsigned char>((*counter >> (8 * (i % 4))) + i);
  };
}

TEST(SignInSessions, AccountsMostRecentFirstAndTheIdRotates) {
  SignInSessions sessions;
  const auto random = counting();
  const auto first =
      sessions.sign_in("", {.user_oid = "a", .authenticated_at = kStart, .amr = {"pwd"}}, random, kStart);
  const auto second =
      sessions.sign_in(first, {.user_oid = "b", .authenticated_at = kStart, .amr = {"pwd"}}, random, kStart);
  EXPECT_NE(first, second);
  EXPECT_TRUE(sessions.accounts(first, kStart).empty());  // the old id is gone
  const auto accounts = sessions.accounts(second, kStart);
  ASSERT_EQ(accounts.size(), 2U);
  EXPECT_EQ(accounts[0].user_oid, "b");
  EXPECT_EQ(accounts[1].user_oid, "a");
  // Signing in again replaces the account (now with MFA) rather than adding one.
  const auto third = sessions.sign_in(
      second, {.user_oid = "a", .authenticated_at = kStart, .amr = {"pwd", "mfa"}}, random, kStart);
  const auto after = sessions.accounts(third, kStart);
  ASSERT_EQ(after.size(), 2U);
  EXPECT_EQ(after[0].amr, (std::vector<std::string>{"pwd", "mfa"}));
  EXPECT_TRUE(sessions.accounts("", kStart).empty());
  EXPECT_TRUE(sessions.accounts("unknown", kStart).empty());
}

TEST(SignInSessions, EachAccountExpiresEightHoursAfterItsSignIn) {
  SignInSessions sessions;
  const auto random = counting();
  auto id = sessions.sign_in("", {.user_oid = "a", .authenticated_at = kStart}, random, kStart);
  const auto later = kStart + std::chrono::hours(4);
  id = sessions.sign_in(id, {.user_oid = "b", .authenticated_at = later}, random, later);
  EXPECT_EQ(sessions.accounts(id, kStart + kSessionLifetime - std::chrono::seconds(1)).size(), 2U);
  const auto only_b = sessions.accounts(id, kStart + kSessionLifetime);
  ASSERT_EQ(only_b.size(), 1U);
  EXPECT_EQ(only_b[0].user_oid, "b");
  EXPECT_TRUE(sessions.accounts(id, later + kSessionLifetime).empty());
}

TEST(SignInSessions, Bounded) {
  SignInSessions sessions;
  const auto random = counting();
  std::string id;
  for (std::size_t i = 0; i < kMaxSessionAccounts + 3; ++i) {
    id = sessions.sign_in(id, {.user_oid = std::to_string(i), .authenticated_at = kStart}, random, kStart);
  }
  EXPECT_EQ(sessions.accounts(id, kStart).size(), kMaxSessionAccounts);
  // Past kMaxSessions the session nearest its end goes first.
  const auto oldest = sessions.sign_in(
      "", {.user_oid = "old", .authenticated_at = kStart - std::chrono::hours(1)}, random, kStart);
  for (std::size_t i = 0; i < kMaxSessions; ++i) {
    (void)sessions.sign_in("", {.user_oid = "u", .authenticated_at = kStart}, random, kStart);
  }
  EXPECT_TRUE(sessions.accounts(oldest, kStart).empty());
}

}  // namespace
}  // namespace deputy::devidp::testing
