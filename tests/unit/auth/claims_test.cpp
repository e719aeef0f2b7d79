#include "deputy/auth/claims.hpp"

#include <boost/json.hpp>
#include <gtest/gtest.h>

namespace deputy::auth {
namespace {

namespace json = boost::json;
using Clock = std::chrono::system_clock;

constexpr std::int64_t kNow = 1'800'000'000;
const Clock::time_point kNowPoint{std::chrono::seconds(kNow)};
constexpr const char* kTenant = "11111111-2222-3333-4444-555555555555";
constexpr const char* kOtherTenant = "99999999-2222-3333-4444-555555555555";

ValidatorOptions options() {
  ValidatorOptions o;
  o.issuers = {std::string("https://login.microsoftonline.com/") + kTenant + "/v2.0"};
  o.audiences = {"server-client-id", "api://server-client-id"};
  o.required_scopes = {"access_as_user"};
  o.accepted_versions = {"2.0"};
  return o;
}

/// A v2 Entra user token's claims.
json::object claims() {
  return {{"iss", std::string("https://login.microsoftonline.com/") + kTenant + "/v2.0"},
          {"aud", "server-client-id"},
          {"tid", kTenant},
          {"oid", "alice-oid"},
          {"sub", "alice-sub"},
          {"preferred_username", "alice@contoso.example"},
          {"name", "Alice"},
          {"azp", "client-app-id"},
          {"uti", "token-id"},
          {"ver", "2.0"},
          {"scp", "access_as_user User.Read"},
          {"roles", {"Task.All"}},
          {"iat", kNow - 60},
          {"nbf", kNow - 60},
          {"exp", kNow + 3600}};
}

TEST(Claims, ValidUserToken) {
  auto principal = ClaimsPolicy(options()).check(claims(), kNowPoint);
  ASSERT_TRUE(principal) << to_string(principal.error());
  EXPECT_EQ(principal->username, "alice@contoso.example");
  EXPECT_EQ(principal->client_id, "client-app-id");
  EXPECT_EQ(principal->roles, std::vector<std::string>{"Task.All"});
  EXPECT_EQ(principal->scopes, (std::vector<std::string>{"access_as_user", "User.Read"}));
  EXPECT_FALSE(principal->app_only);
  EXPECT_EQ(principal->key(), std::string("oid:") + kTenant + "/alice-oid");
}

struct Case {
  const char* name;
  std::function<void(json::object&)> change;
  std::function<void(ValidatorOptions&)> configure;
  std::optional<Error> expected;  // nullopt: accepted
};

class ClaimsCase : public ::testing::TestWithParam<Case> {};

TEST_P(ClaimsCase, Decides) {
  auto payload = claims();
  auto o = options();
  if (GetParam().change) GetParam().change(payload);
  if (GetParam().configure) GetParam().configure(o);
  auto result = ClaimsPolicy(o).check(payload, kNowPoint);
  if (GetParam().expected) {
    ASSERT_FALSE(result) << GetParam().name;
    EXPECT_EQ(result.error(), *GetParam().expected) << GetParam().name << ": " << to_string(result.error());
  } else {
    EXPECT_TRUE(result) << GetParam().name << ": " << to_string(result.error());
  }
}

INSTANTIATE_TEST_SUITE_P(
    FromTheAttackersSide, ClaimsCase,
    ::testing::Values(
        Case{"wrong_issuer", [](auto& c) { c["iss"] = "https://evil.example/v2.0"; }, {}, Error::kWrongIssuer},
        Case{"issuer_of_another_tenant",
             [](auto& c) { c["iss"] = std::string("https://login.microsoftonline.com/") + kOtherTenant + "/v2.0"; }, {},
             Error::kWrongIssuer},
        Case{"no_issuer", [](auto& c) { c.erase("iss"); }, {}, Error::kWrongIssuer},
        Case{"wrong_audience", [](auto& c) { c["aud"] = "https://graph.microsoft.com"; }, {}, Error::kWrongAudience},
        Case{"no_audience", [](auto& c) { c.erase("aud"); }, {}, Error::kWrongAudience},
        Case{"audience_array_with_ours", [](auto& c) { c["aud"] = json::array{"x", "api://server-client-id"}; }, {},
             std::nullopt},
        Case{"audience_array_without_ours", [](auto& c) { c["aud"] = json::array{"x", "y"}; }, {}, Error::kWrongAudience},
        Case{"expired", [](auto& c) { c["exp"] = kNow - 61; }, {}, Error::kExpired},
        Case{"expired_within_leeway", [](auto& c) { c["exp"] = kNow - 59; }, {}, std::nullopt},
        Case{"not_yet_valid", [](auto& c) { c["nbf"] = kNow + 61; }, {}, Error::kNotYetValid},
        Case{"nbf_within_leeway", [](auto& c) { c["nbf"] = kNow + 59; }, {}, std::nullopt},
        Case{"no_exp", [](auto& c) { c.erase("exp"); }, {}, Error::kMissingExpiry},
        Case{"exp_as_string", [](auto& c) { c["exp"] = "1900000000"; }, {}, Error::kMissingExpiry},
        Case{"exp_huge", [](auto& c) { c["exp"] = 1e300; }, {}, Error::kMissingExpiry},
        Case{"exp_fractional", [](auto& c) { c["exp"] = kNow + 10.5; }, {}, std::nullopt},
        Case{"v1_when_only_v2", [](auto& c) { c["ver"] = "1.0"; }, {}, Error::kVersionNotAllowed},
        Case{"app_only_idtyp", [](auto& c) { c["idtyp"] = "app"; }, {}, Error::kAppOnlyNotAllowed},
        Case{"app_only_no_scp", [](auto& c) { c.erase("scp"); }, {}, Error::kAppOnlyNotAllowed},
        Case{"app_only_allowed", [](auto& c) { c.erase("scp"); }, [](auto& o) { o.allow_app_only = true; }, std::nullopt},
        Case{"missing_scope", [](auto& c) { c["scp"] = "User.Read"; }, {}, Error::kInsufficientScope},
        Case{"scope_as_prefix_only", [](auto& c) { c["scp"] = "access_as_user_x"; }, {}, Error::kInsufficientScope},
        Case{"no_subject", [](auto& c) { c.erase("sub"); c.erase("oid"); }, {}, Error::kMalformed},
        Case{"multi_tenant_allowed",
             [](auto& c) {
               c["iss"] = std::string("https://login.microsoftonline.com/") + kOtherTenant + "/v2.0";
               c["tid"] = kOtherTenant;
             },
             [](auto& o) {
               o.issuers = {"https://login.microsoftonline.com/{tenantid}/v2.0"};
               o.tenant_allowlist = {kTenant, kOtherTenant};
             },
             std::nullopt},
        Case{"multi_tenant_outside_allowlist",
             [](auto& c) {
               c["iss"] = std::string("https://login.microsoftonline.com/") + kOtherTenant + "/v2.0";
               c["tid"] = kOtherTenant;
             },
             [](auto& o) {
               o.issuers = {"https://login.microsoftonline.com/{tenantid}/v2.0"};
               o.tenant_allowlist = {kTenant};
             },
             Error::kTenantNotAllowed},
        Case{"multi_tenant_tid_and_iss_disagree",
             [](auto& c) { c["iss"] = std::string("https://login.microsoftonline.com/") + kOtherTenant + "/v2.0"; },
             [](auto& o) {
               o.issuers = {"https://login.microsoftonline.com/{tenantid}/v2.0"};
               o.tenant_allowlist = {kTenant, kOtherTenant};
             },
             Error::kWrongIssuer},
        Case{"tid_of_another_tenant_under_our_issuer", [](auto& c) { c["tid"] = kOtherTenant; },
             [](auto& o) { o.tenant_id = kTenant; }, Error::kTenantNotAllowed},
        Case{"v1_token_accepted_when_configured",
             [](auto& c) {
               c["iss"] = std::string("https://sts.windows.net/") + kTenant + "/";
               c["ver"] = "1.0";
               c.erase("azp");
               c["appid"] = "client-app-id";
             },
             [](auto& o) {
               o.issuers.push_back(std::string("https://sts.windows.net/") + kTenant + "/");
               o.accepted_versions = {"1.0", "2.0"};
             },
             std::nullopt}),
    [](const auto& info) { return std::string(info.param.name); });

}  // namespace
}  // namespace deputy::auth
