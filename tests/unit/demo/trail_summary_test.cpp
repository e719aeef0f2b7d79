// The audit trail as `deputy demo` shows it, and the search for tokens in it.
#include "deputy/demo/trail_summary.hpp"

#include <gtest/gtest.h>

namespace deputy::demo {
namespace {

constexpr std::string_view kTrail =
    R"({"time":"2026-11-27T09:03:47.350Z","event":"tools_listed","request_id":"2","session":"s","oid":"o","tid":"t","upn":"alice@deputy-dev.test","client":"c","count":3})"
    "\n"
    R"({"time":"2026-11-27T09:03:47.351Z","event":"tool_denied","request_id":"3","session":"s","oid":"o","tid":"t","upn":"bob@deputy-dev.test","client":"c","tool":"test_write_tool","reason":"required_role_missing"})"
    "\n"
    "not a record\n"
    R"({"time":"2026-11-27T09:03:47.352Z","event":"token_exchanged","request_id":"4","session":"s","oid":"o","tid":"t","upn":"alice@deputy-dev.test","client":"c","cache":"miss","scope":"https://graph.microsoft.com/.default","audience":"g","uti":"u","outcome":"ok"})"
    "\n"
    R"({"time":"2026-11-27T09:03:47.354Z","event":"downstream_call","request_id":"4","session":"s","oid":"o","tid":"t","upn":"alice@deputy-dev.test","client":"c","method":"GET","host":"h","path_template":"/v1.0/me","status":200,"ms":2})"
    "\n"
    R"({"time":"2026-11-27T09:03:47.355Z","event":"tool_result","request_id":"4","session":"s","oid":"o","tid":"t","upn":"alice@deputy-dev.test","client":"c","tool":"whoami","is_error":true,"ms":3})"
    "\n"
    R"({"time":"2026-11-27T09:03:47.356Z","event":"authn_failed","request_id":"","session":"","reason":"expired"})"
    "\n";

TEST(TrailSummary, ReadsEveryRecordAndSkipsOtherLines) {
  const auto rows = read_trail(kTrail);
  ASSERT_EQ(rows.size(), 6U);
  EXPECT_EQ(rows[0].time, "09:03:47.350");
  EXPECT_EQ(rows[0].detail, "3 tools");
  EXPECT_EQ(rows[1].user, "bob@deputy-dev.test");
  EXPECT_EQ(rows[1].detail, "test_write_tool (required_role_missing)");
  EXPECT_EQ(rows[2].detail, "https://graph.microsoft.com/.default → ok (cache miss)");
  EXPECT_EQ(rows[3].detail, "GET /v1.0/me → 200");
  EXPECT_EQ(rows[4].detail, "whoami error");
  EXPECT_EQ(rows[5].user, "-");
  EXPECT_EQ(rows[5].detail, "expired");
}

TEST(TrailSummary, FormatsAnAlignedTable) {
  const auto table = format_trail(read_trail(kTrail));
  EXPECT_TRUE(
      table.starts_with("time          event            user                   tool / scope / status\n"))
      << table;
  EXPECT_NE(
      table.find(
          "09:03:47.351  tool_denied      bob@deputy-dev.test    test_write_tool (required_role_missing)\n"),
      std::string::npos)
      << table;
  EXPECT_NE(table.find("09:03:47.356  authn_failed     -                      expired\n"), std::string::npos)
      << table;
}

TEST(TrailSummary, CountsByEvent) {
  const auto counts = count_events(read_trail(kTrail));
  EXPECT_EQ(counts.size(), 6U);
  EXPECT_EQ(counts.at("tool_denied"), 1U);
  EXPECT_TRUE(count_events({}).empty());
}

TEST(TrailSummary, FindsATokenWholeOrByItsSignature) {
  const std::string token = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhIn0.c2lnbmF0dXJl";
  EXPECT_EQ(secrets_found(kTrail, {token, "", "refresh-token-value"}), 0U);
  EXPECT_EQ(secrets_found(std::string(kTrail) + token, {token}), 1U);
  // A record that kept only the signature still leaks the token.
  EXPECT_EQ(secrets_found("...\"x\":\"c2lnbmF0dXJl\"", {token}), 1U);
  EXPECT_EQ(secrets_found("has refresh-token-value in it", {token, "refresh-token-value"}), 1U);
}

}  // namespace
}  // namespace deputy::demo
