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
        Refused{"role_of_maps", "authz:\n  roles:\n    Admin: [{a: b}]\n", {}, "authz.roles.Admin"},
        Refused{"exchange_protocol", "exchange:\n  protocol: saml\n", {}, "exchange.protocol"},
        Refused{"two_credentials", "exchange:\n  certificate_file: a.pem\n  private_key_file: a.key\n",
                {{"OBO_CLIENT_SECRET", "s"}}, "one credential"},
        Refused{"certificate_without_key", "exchange:\n  certificate_file: a.pem\n", {}, "private_key_file"},
        Refused{"rfc8693_without_endpoint", "exchange:\n  protocol: rfc8693\n", {{"OBO_CLIENT_SECRET", "s"}},
                "exchange.token_endpoint"},
        Refused{"graph_host_with_path", "graph:\n  sharepoint_host: contoso.sharepoint.com/sites\n", {},
                "graph.sharepoint_host"},
        Refused{"tool_without_url", "tools:\n  - name: t\n", {}, "tools[0].url"},
        Refused{"tool_bad_name", "tools:\n  - name: 'a b'\n    url: https://api.test/x\n", {}, "tools[0].name"},
        Refused{"tool_host_placeholder", "tools:\n  - name: t\n    url: https://{host}/x\n", {}, "tools[0].url"},
        Refused{"tool_twice", "tools:\n  - {name: t, url: 'https://api.test/a'}\n  - {name: t, url: 'https://api.test/b'}\n",
                {}, "tools[1].name"},
        Refused{"tool_method", "tools:\n  - {name: t, url: 'https://api.test/a', method: TRACE}\n", {}, "tools[0].method"},
        Refused{"tool_body_in_string", "tools:\n  - name: t\n    url: https://api.test/a\n    body: '{\"a\": \"{x}\"}'\n", {},
                "tools[0].body"},
        Refused{"tool_status", "tools:\n  - name: t\n    url: https://api.test/a\n    result: {messages: {abc: x}}\n", {},
                "tools[0].result.messages"},
        Refused{"tool_select", "tools:\n  - name: t\n    url: https://api.test/a\n    result: {select: name}\n", {},
                "tools[0].result.select"},
        Refused{"audit_fsync", "audit:\n  fsync: sometimes\n", {}, "audit.fsync"},
        Refused{"tool_cleartext_token", "tools:\n  - {name: t, url: 'http://api.test/a', scopes: [x/.default]}\n", {},
                "tools[0].url"},
        Refused{"graph_cleartext", "graph:\n  base_url: http://graph.example.test\n", {}, "graph.base_url"},
        Refused{"sharepoint_host_from_env", "", {{"SHAREPOINT_HOST", "a/b"}}, "graph.sharepoint_host"},
        Refused{"tool_authorization_header",
                "tools:\n  - name: t\n    url: https://api.test/a\n    headers: {Authorization: Basic eA==}\n", {},
                "tools[0].headers.Authorization"}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(Config, TheSeedsOboVariablesAndTheExchangeDefaults) {
  const auto config = load("", env({{"AUTH_ENABLED", "true"},
                                    {"TENANT_ID", std::string(kTenant)},
                                    {"CLIENT_ID", std::string(kClient)},
                                    {"OBO_CLIENT_ID", "obo-client"},
                                    {"OBO_CLIENT_SECRET", "s3cret"}}));
  EXPECT_EQ(config.exchange.client_id, "obo-client");
  EXPECT_EQ(config.exchange.client_secret, "s3cret");
  EXPECT_EQ(config.exchange.token_endpoint,
            fmt::format("https://login.microsoftonline.com/{}/oauth2/v2.0/token", kTenant));
  EXPECT_TRUE(config.exchange.configured());
  // The secret's value never shows in the effective settings.
  EXPECT_EQ(describe(config).find("s3cret"), std::string::npos);
  EXPECT_NE(describe(config).find("OBO_CLIENT_SECRET (redacted)"), std::string::npos);
}

TEST(Config, ASecretFromTheVariableTheFileNames) {
  YamlFile file("exchange:\n  client_secret_env: MY_SECRET\n");
  const auto config = load(file.path(), env({{"MY_SECRET", "x"}, {"OBO_CLIENT_SECRET", "ignored"}}));
  EXPECT_EQ(config.exchange.client_secret, "x");
}

TEST(Config, DeclaredToolsWithTypedSchemas) {
  YamlFile file(R"(tools:
  - name: work_item
    description: A work item
    method: get
    url: https://dev.azure.com/org/p/_apis/wit/workitems/{id}?api-version=7.1
    input_schema:
      type: object
      properties:
        id: {type: integer, minimum: 1}
        label: {type: string, default: "007"}
        strict: {type: boolean, default: true}
      required: [id]
    headers: {Accept-Language: en}
    scopes: [499b84ac-1321-427f-aa17-267ca6975798/.default]
    required_roles: [Task.Read]
    result:
      select: /fields
      messages: {404: "No work item {id}"}
)");
  const auto config = load(file.path(), env({}));
  ASSERT_EQ(config.tools.size(), 1U);
  const auto& tool = config.tools.front();
  EXPECT_EQ(tool.method, "GET");
  const auto& properties = tool.input_schema.at("properties").as_object();
  EXPECT_EQ(properties.at("id").at("minimum").as_int64(), 1);
  EXPECT_EQ(properties.at("label").at("default").as_string(), "007");  // quoted: stays a string
  EXPECT_EQ(properties.at("strict").at("default").as_bool(), true);
  EXPECT_EQ(tool.status_messages.at(404), "No work item {id}");
  EXPECT_EQ(tool.headers.front().first, "Accept-Language");
  EXPECT_EQ(tool.select, "/fields");
}

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
