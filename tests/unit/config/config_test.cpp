#include "deputy/config/config.hpp"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

namespace deputy::config {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view kTenant = "11111111-2222-3333-4444-555555555555";
constexpr std::string_view kClient = "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee";

Environment env(std::map<std::string, std::string> values) {
  return [values = std::move(values)](std::string_view name) -> std::optional<std::string> {
    if (auto it = values.find(std::string(name)); it != values.end()) return it->second;
    return std::nullopt;
  };
}

class YamlFile {
 public:
  explicit YamlFile(std::string_view text) : path_(fs::temp_directory_path() / ("deputy-config-test-" + std::to_string(::getpid()) + ".yaml")) {
    std::ofstream(path_) << text;
  }
  ~YamlFile() { fs::remove(path_); }
  [[nodiscard]] std::string path() const { return path_.string(); }

 private:
  fs::path path_;
};

TEST(Config, DefaultsWithoutAFile) {
  auto config = load("", env({}));
  EXPECT_FALSE(config.auth.enabled);
  EXPECT_EQ(config.server.http.port, 8400);
  EXPECT_TRUE(config.server.public_url.empty());  // derived from the bound address at start
}

TEST(Config, TheSeedsEnvironmentNamesWork) {
  auto config = load("", env({{"AUTH_ENABLED", "true"},
                              {"MIDDLEWARE_ENABLED", "true"},
                              {"TENANT_ID", std::string(kTenant)},
                              {"CLIENT_ID", std::string(kClient)}}));
  ASSERT_TRUE(config.auth.enabled);
  const auto& v = config.auth.validator;
  EXPECT_EQ(v.issuers, std::vector<std::string>{"https://login.microsoftonline.com/" + std::string(kTenant) + "/v2.0"});
  EXPECT_EQ(v.audiences, (std::vector<std::string>{std::string(kClient), "api://" + std::string(kClient)}));
  EXPECT_EQ(v.jwks_uri, "https://login.microsoftonline.com/" + std::string(kTenant) + "/discovery/v2.0/keys");
  EXPECT_EQ(v.required_scopes, std::vector<std::string>{"access_as_user"});
  // The policy is on with the seed's roles.
  ASSERT_TRUE(config.authz.enabled);
  ASSERT_EQ(config.authz.grants.size(), 3U);
  EXPECT_TRUE(config.authz.grants[0].everything);
}

TEST(Config, EmptyVariablesCountAsUnset) {
  YamlFile file(fmt::format("auth:\n  enabled: true\n  tenant_id: {}\n  client_id: {}\n", kTenant, kClient));
  auto config = load(file.path(), env({{"AUTH_ENABLED", ""}, {"MIDDLEWARE_ENABLED", " "}, {"CLIENT_ID", ""}}));
  EXPECT_TRUE(config.auth.enabled);  // a template's empty AUTH_ENABLED= does not switch authentication off
  EXPECT_EQ(config.auth.client_id, kClient);
}

TEST(Config, IssuerFromTheEnvironmentReplacesTheDefault) {
  auto config = load("", env({{"AUTH_ENABLED", "1"},
                              {"TENANT_ID", std::string(kTenant)},
                              {"CLIENT_ID", std::string(kClient)},
                              {"ISSUER", "https://sts.windows.net/" + std::string(kTenant) + "/"}}));
  EXPECT_EQ(config.auth.validator.issuers.size(), 1U);
  EXPECT_TRUE(config.auth.validator.issuers[0].starts_with("https://sts.windows.net/"));
}

TEST(Config, BothTokenVersionsWhenAsked) {
  YamlFile file(fmt::format("auth:\n  enabled: true\n  tenant_id: {}\n  client_id: {}\n  accepted_versions: [\"1.0\", \"2.0\"]\n",
                            kTenant, kClient));
  auto config = load(file.path(), env({}));
  EXPECT_EQ(config.auth.validator.issuers.size(), 2U);
}

TEST(Config, RolesFromTheFile) {
  YamlFile file(
      "authz:\n  enabled: true\n  roles:\n    Admin: '*'\n    Reader: [tag:read, lookup]\n");
  auto config = load(file.path(), env({}));
  ASSERT_EQ(config.authz.grants.size(), 2U);
  const auto& reader = config.authz.grants[1].role == "Reader" ? config.authz.grants[1] : config.authz.grants[0];
  EXPECT_EQ(reader.tags, std::vector<std::string>{"read"});
  EXPECT_EQ(reader.tools, std::vector<std::string>{"lookup"});
}

struct Refused {
  const char* name;
  std::string yaml;
  std::map<std::string, std::string> environment;
  const char* mentions;
};

class RefusedConfig : public ::testing::TestWithParam<Refused> {};

TEST_P(RefusedConfig, NamesTheKeyAndTheReason) {
  YamlFile file(GetParam().yaml);
  try {
    (void)load(file.path(), env(GetParam().environment));
    FAIL() << "accepted: " << GetParam().name;
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find(GetParam().mentions), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find(file.path()), std::string::npos) << e.what();
  }
}

INSTANTIATE_TEST_SUITE_P(
    Config, RefusedConfig,
    ::testing::Values(
        Refused{"unknown_key", "auth:\n  enabeld: true\n", {}, "auth.enabeld"},
        Refused{"bad_bool", "auth:\n  enabled: maybe\n", {}, "auth.enabled"},
        Refused{"no_client", "auth:\n  enabled: true\n", {{"TENANT_ID", std::string(kTenant)}}, "auth.client_id"},
        Refused{"multi_tenant_without_allowlist",
                fmt::format("auth:\n  enabled: true\n  tenant_id: organizations\n  client_id: {}\n", kClient), {},
                "auth.tenant_allowlist"},
        Refused{"hmac", fmt::format("auth:\n  enabled: true\n  tenant_id: {}\n  client_id: {}\n  algorithms: [HS256]\n",
                                    kTenant, kClient),
                {}, "auth.algorithms"},
        Refused{"none", fmt::format("auth:\n  enabled: true\n  tenant_id: {}\n  client_id: {}\n  algorithms: [none]\n",
                                    kTenant, kClient),
                {}, "auth.algorithms"},
        Refused{"oidc_without_audience", "auth:\n  enabled: true\n  provider: oidc\n  issuers: [https://idp]\n", {},
                "auth.audiences"},
        Refused{"tls_half", "server:\n  tls:\n    certificate: a.pem\n", {}, "server.tls"},
        Refused{"not_yaml", "auth: [unclosed\n", {}, "line"},
        Refused{"list_of_maps", "server:\n  allowed_origins: [{a: b}]\n", {}, "server.allowed_origins"},
        Refused{"role_of_maps", "authz:\n  roles:\n    Admin: [{a: b}]\n", {}, "authz.roles.Admin"}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(Dotenv, ParsesLikeTheSeedsDotenv) {
  auto values = parse_dotenv(
      "# comment\nTENANT_ID=abc\nexport CLIENT_ID = 'def'\nCLIENT_SECRET=\"s e c\"\nAUTH_ENABLED=true # inline\n\nBROKEN\n");
  EXPECT_EQ(values.at("TENANT_ID"), "abc");
  EXPECT_EQ(values.at("CLIENT_ID"), "def");
  EXPECT_EQ(values.at("CLIENT_SECRET"), "s e c");
  EXPECT_EQ(values.at("AUTH_ENABLED"), "true");
  EXPECT_FALSE(values.contains("BROKEN"));
}

TEST(Describe, ShowsTheEffectivePolicy) {
  auto config = load("", env({{"AUTH_ENABLED", "true"},
                              {"MIDDLEWARE_ENABLED", "true"},
                              {"TENANT_ID", std::string(kTenant)},
                              {"CLIENT_ID", std::string(kClient)}}));
  const auto text = describe(config);
  EXPECT_NE(text.find("role Task.Write: [tag:write, tag:read]"), std::string::npos) << text;
  EXPECT_NE(text.find("audiences: [" + std::string(kClient)), std::string::npos) << text;
}

}  // namespace
}  // namespace deputy::config
