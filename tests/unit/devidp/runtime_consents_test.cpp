// Consent given on the consent page: per client, resource and user; merged; bounded.
#include "deputy/devidp/runtime_consents.hpp"

#include <gtest/gtest.h>

namespace deputy::devidp {
namespace {

TEST(RuntimeConsents, GrantsAddUpPerClientResourceAndUser) {
  RuntimeConsents consents;
  consents.grant("client", "graph", "alice", {"User.Read"});
  consents.grant("client", "graph", "alice", {"Mail.Read", "User.Read"});
  EXPECT_EQ(consents.scopes("client", "graph", "alice"),
            (std::vector<std::string>{"User.Read", "Mail.Read"}));
  EXPECT_TRUE(consents.scopes("client", "graph", "bob").empty());
  EXPECT_TRUE(consents.scopes("server", "graph", "alice").empty());
  EXPECT_TRUE(consents.scopes("client", "server", "alice").empty());
}

TEST(RuntimeConsents, TheOldestIsForgottenPastTheBound) {
  RuntimeConsents consents;
  for (std::size_t i = 0; i <= kMaxRuntimeConsents; ++i) consents.grant("c", "r", std::to_string(i), {"s"});
  EXPECT_TRUE(consents.scopes("c", "r", "0").empty());
  EXPECT_EQ(consents.scopes("c", "r", "1"), std::vector<std::string>{"s"});
}

}  // namespace
}  // namespace deputy::devidp
