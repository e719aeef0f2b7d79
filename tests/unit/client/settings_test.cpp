// The client's settings: the seed's names, the development defaults, and what a sign-in refuses.
#include "deputy/client/settings.hpp"

#include <gtest/gtest.h>

#include <map>

namespace deputy::client {
namespace {

config::Environment environment(std::map<std::string, std::string, std::less<>> values) {
  return [values = std::move(values)](std::string_view name) -> std::optional<std::string> {
    auto it = values.find(name);
    if (it == values.end()) return std::nullopt;
    return it->second;
  };
}

TEST(Settings, DefaultsPointAtDeputyDev) {
  auto settings = load_settings(environment({{"HOME", "/home/u"}}));
  EXPECT_EQ(settings.authority, "https://127.0.0.1:8443");
  EXPECT_EQ(settings.tenant_id, "b22dd19b-fad0-4513-a43e-46a8cb3ca698");
  EXPECT_EQ(settings.client_id, "37d1e7dc-e348-4df1-80dc-69156bdc1273");
  EXPECT_EQ(settings.client_secret, "dev-client-secret-not-for-production");
  EXPECT_EQ(settings.scope, "api://d894da85-e1f8-4202-b8d8-bbfc24cbe604/access_as_user");
  EXPECT_EQ(settings.redirect_uri, "http://localhost:8100/auth/callback");
  EXPECT_EQ(settings.mcp_url, "http://127.0.0.1:8400/mcp");
  EXPECT_EQ(settings.cache_path, "/home/u/.cache/deputy/msal_cache.json");
  EXPECT_TRUE(settings.auth_enabled);
  EXPECT_EQ(
      settings.discovery_url(),
      "https://127.0.0.1:8443/b22dd19b-fad0-4513-a43e-46a8cb3ca698/v2.0/.well-known/openid-configuration");
  EXPECT_TRUE(check_for_sign_in(settings));
}

TEST(Settings, TheSeedsNamesAreRead) {
  auto settings = load_settings(environment({{"AUTHORITY", "https://login.microsoftonline.com/"},
                                             {"TENANT_ID", " contoso.onmicrosoft.com "},
                                             {"CLIENT_ID", "my-client"},
                                             {"API_A_SCOPE", "api://my-server/access_as_user"},
                                             {"REDIRECT_URI", "http://localhost:9000/cb"},
                                             {"MCP_URL", "https://mcp.example/mcp"},
                                             {"MSAL_CACHE_PATH", "/tmp/c.json"},
                                             {"AUTH_ENABLED", "False"},
                                             {"DEPUTY_CA_FILE", "/etc/ca.pem"},
                                             {"XDG_CACHE_HOME", "/x"}}));
  EXPECT_EQ(settings.authority, "https://login.microsoftonline.com");
  EXPECT_EQ(settings.tenant_id, "contoso.onmicrosoft.com");
  EXPECT_EQ(settings.client_id, "my-client");
  EXPECT_TRUE(settings.client_secret.empty());  // the development secret never goes with another client
  EXPECT_EQ(settings.scope, "api://my-server/access_as_user");
  EXPECT_EQ(settings.redirect_uri, "http://localhost:9000/cb");
  EXPECT_EQ(settings.mcp_url, "https://mcp.example/mcp");
  EXPECT_EQ(settings.cache_path, "/tmp/c.json");
  EXPECT_FALSE(settings.auth_enabled);
  EXPECT_EQ(settings.ca_file, "/etc/ca.pem");
  EXPECT_EQ(default_cache_path(environment({{"XDG_CACHE_HOME", "/x"}})), "/x/deputy/msal_cache.json");
}

TEST(Settings, AuthEnabledMustBeABoolean) {
  EXPECT_THROW((void)load_settings(environment({{"AUTH_ENABLED", "maybe"}})), config::ConfigError);
}

TEST(Settings, ASignInRefusesPlainHttpAuthoritiesElsewhereAndRedirectsOffThisMachine) {
  auto settings = load_settings(environment({}));
  auto refused = [&](auto change) {
    Settings s = settings;
    change(s);
    auto checked = check_for_sign_in(s);
    return !checked && checked.error().code == ErrorCode::kConfig;
  };
  EXPECT_TRUE(refused([](Settings& s) { s.authority = "http://login.example.com"; }));
  EXPECT_FALSE(refused([](Settings& s) { s.authority = "http://127.0.0.1:8443"; }));
  EXPECT_TRUE(refused([](Settings& s) { s.redirect_uri = "https://app.example.com/cb"; }));
  EXPECT_TRUE(
      refused([](Settings& s) { s.redirect_uri = "http://localhost/cb"; }));  // the listener needs a port
  EXPECT_TRUE(refused([](Settings& s) { s.authority = "http://127.0.0.1.evil.example"; }));
  EXPECT_TRUE(refused([](Settings& s) { s.redirect_uri = "http://localhost:8100.evil.example/cb"; }));
  EXPECT_TRUE(refused([](Settings& s) { s.tenant_id.clear(); }));
  EXPECT_TRUE(refused([](Settings& s) { s.client_id.clear(); }));
  EXPECT_TRUE(refused([](Settings& s) { s.scope.clear(); }));
}

}  // namespace
}  // namespace deputy::client
