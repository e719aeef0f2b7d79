// The directory file: the built-in example as the seed describes it, and strict refusals naming the key.
#include "deputy/devidp/directory_yaml.hpp"

#include <gtest/gtest.h>


namespace deputy::devidp {
namespace {

TEST(DirectoryYaml, TheBuiltInDirectoryIsTheSeeds) {
  const auto directory = default_directory();
  EXPECT_EQ(directory.tenant.id, "b22dd19b-fad0-4513-a43e-46a8cb3ca698");
  EXPECT_EQ(directory.tenant.domain, "deputy-dev.test");

  const auto* server = directory.find_app("server");
  ASSERT_NE(server, nullptr);
  EXPECT_EQ(server->identifier_uris, std::vector<std::string>{"api://" + server->client_id});
  EXPECT_EQ(server->access_token_version, 2);
  ASSERT_NE(server->find_scope("access_as_user"), nullptr);
  for (const char* role : {"Task.All", "Task.Write", "Task.Read"}) EXPECT_NE(server->find_role(role), nullptr) << role;
  EXPECT_EQ(server->authorized_client_apps, std::vector<std::string>{"client"});
  EXPECT_EQ(server->secrets.size(), 1U);
  ASSERT_EQ(server->certificates.size(), 1U);
  EXPECT_EQ(server->certificates.front().source, "generated");
  ASSERT_EQ(server->required_permissions.size(), 1U);
  EXPECT_EQ(server->required_permissions.front().resource, "graph");
  EXPECT_EQ(server->required_permissions.front().delegated, (std::vector<std::string>{"Sites.Read.All", "User.Read"}));

  const auto* client = directory.find_app("client");
  ASSERT_NE(client, nullptr);
  EXPECT_EQ(client->redirect_uris, std::vector<std::string>{"http://localhost:8100/auth/callback"});
  const auto* graph = directory.find_resource("https://graph.microsoft.com/");
  ASSERT_NE(graph, nullptr);
  EXPECT_EQ(graph->access_token_version, 1);

  const auto* alice = directory.find_user("alice");
  const auto* bob = directory.find_user("BOB@deputy-dev.test");
  const auto* carol = directory.find_user("94ddda93-3740-43dc-900d-fc0ba6d2fd58");
  ASSERT_TRUE(alice && bob && carol);
  EXPECT_EQ(directory.user_roles(*alice, *server), std::vector<std::string>{"Task.All"});
  EXPECT_EQ(directory.user_roles(*bob, *server), std::vector<std::string>{"Task.Read"});
  EXPECT_EQ(directory.condition(*alice, *graph), nullptr);
  ASSERT_NE(directory.condition(*carol, *graph), nullptr);
  EXPECT_TRUE(directory.condition(*carol, *graph)->require_mfa);

  // Consent: the server may use Graph for alice, bob and carol, not dave; the client is pre-authorized for the
  // server's scopes.
  EXPECT_EQ(directory.consented_scopes(*server, *graph, *bob), (std::vector<std::string>{"Sites.Read.All", "User.Read"}));
  const auto* dave = directory.find_user("dave");
  ASSERT_NE(dave, nullptr);
  EXPECT_EQ(dave->upn, "dave@deputy-dev.test");
  EXPECT_EQ(directory.user_roles(*dave, *server), std::vector<std::string>{"Task.Read"});
  EXPECT_TRUE(directory.consented_scopes(*server, *graph, *dave).empty());
  EXPECT_EQ(directory.consented_scopes(*client, *server, *dave), std::vector<std::string>{"access_as_user"});
  EXPECT_EQ(directory.consented_scopes(*client, *server, *alice), std::vector<std::string>{"access_as_user"});
  EXPECT_TRUE(directory.consented_scopes(*client, *graph, *alice).empty());
  EXPECT_EQ(directory.application_roles(*client, *server), std::vector<std::string>{"Task.Read"});

  ASSERT_EQ(directory.sites.size(), 1U);
  EXPECT_EQ(directory.sites.front().path, "test-site");
  EXPECT_EQ(directory.sites.front().readers, std::vector<std::string>{"alice"});
  EXPECT_EQ(directory.sites.front().created, "2024-01-15T08:00:00Z");

  EXPECT_TRUE(directory.names_tenant("b22dd19b-fad0-4513-a43e-46a8cb3ca698"));
  EXPECT_TRUE(directory.names_tenant("Deputy-Dev.Test"));
  EXPECT_TRUE(directory.names_tenant("organizations"));
  EXPECT_FALSE(directory.names_tenant("consumers"));
  EXPECT_FALSE(directory.names_tenant("contoso.com"));
}

TEST(DirectoryYaml, PerUserConsentAppliesToThoseUsersOnly) {
  auto directory = parse_directory(R"(
tenant: {id: 11111111-2222-4333-8444-555555555555, domain: t.test}
applications:
  api: {client_id: 21111111-2222-4333-8444-555555555555, scopes: [read], secrets: [s]}
  app: {client_id: 31111111-2222-4333-8444-555555555555, secrets: [s]}
users:
  u1: {object_id: 41111111-2222-4333-8444-555555555555, upn: u1@t.test, password: p}
  u2: {object_id: 51111111-2222-4333-8444-555555555555, upn: u2@t.test, password: p, mfa_code: "424242"}
consents:
  - {client: app, resource: api, scopes: [read], principals: [u1]}
)",
                                   "test.yaml");
  // The MFA page's code: the user's own, else the documented default.
  EXPECT_EQ(directory.find_user("u1")->mfa_code, "000000");
  EXPECT_EQ(directory.find_user("u2")->mfa_code, "424242");
  const auto& app = *directory.find_app("app");
  const auto& api = *directory.find_app("api");
  EXPECT_EQ(api.identifier_uris, std::vector<std::string>{"api://21111111-2222-4333-8444-555555555555"});
  EXPECT_EQ(directory.consented_scopes(app, api, *directory.find_user("u1")), std::vector<std::string>{"read"});
  EXPECT_TRUE(directory.consented_scopes(app, api, *directory.find_user("u2")).empty());
  // Ids that are not given are derived, stably.
  EXPECT_TRUE(is_guid(api.scopes.front().id));
  EXPECT_EQ(api.scopes.front().id, parse_directory(R"(
tenant: {id: 11111111-2222-4333-8444-555555555555, domain: t.test}
applications:
  api: {client_id: 21111111-2222-4333-8444-555555555555, scopes: [read]}
)",
                                                   "again.yaml")
                                       .applications.front()
                                       .scopes.front()
                                       .id);
}

TEST(DirectoryYaml, RefusalsNameTheFileAndTheKey) {
  const std::string tenant = "tenant: {id: 11111111-2222-4333-8444-555555555555, domain: t.test}\n";
  const std::string api = "applications:\n  api: {client_id: 21111111-2222-4333-8444-555555555555, scopes: [read], "
                          "app_roles: [{value: R}]}\n";
  struct Case {
    std::string_view name;
    std::string yaml;
    std::string_view message;
  };
  const std::vector<Case> cases = {
      {"not YAML", "tenant: [", "test.yaml: line"},
      {"empty", "", "test.yaml: is empty"},
      {"no tenant", "applications: {}\n", "test.yaml: tenant: must be set"},
      {"unknown top-level key", tenant + "tennant: x\n", "test.yaml: tennant: unknown key"},
      {"tenant id not a GUID", "tenant: {id: contoso, domain: t.test}\n", "tenant.id: must be a GUID"},
      {"unknown app key", tenant + "applications:\n  api: {client_id: 21111111-2222-4333-8444-555555555555, secret: x}\n",
       "applications.api.secret: unknown key"},
      {"client id missing", tenant + "applications:\n  api: {display_name: x}\n", "applications.api.client_id: must be set"},
      {"token version", tenant + "applications:\n  api: {client_id: 21111111-2222-4333-8444-555555555555, "
                                 "access_token_version: 3}\n",
       "applications.api.access_token_version: must be 1 or 2"},
      {"duplicate client id", tenant + api + "  app: {client_id: 21111111-2222-4333-8444-555555555555}\n",
       "applications.app.client_id: is used by another application"},
      {"unknown authorized app", tenant + "applications:\n  api: {client_id: 21111111-2222-4333-8444-555555555555, "
                                          "authorized_client_apps: [ghost]}\n",
       "'ghost' is not an application"},
      {"role of the wrong member type", tenant + api + "  app: {client_id: 31111111-2222-4333-8444-555555555555, "
                                                      "application_permissions: {api: [R]}}\n",
       "that applications may hold"},
      {"unknown required scope", tenant + api + "  app: {client_id: 31111111-2222-4333-8444-555555555555, "
                                               "required_permissions: {api: {delegated: [write]}}}\n",
       "'write' is not a scope of api"},
      {"user without password", tenant + "users:\n  u: {object_id: 41111111-2222-4333-8444-555555555555, upn: u@t.test}\n",
       "users.u.password: must be set"},
      {"upn without domain", tenant + "users:\n  u: {object_id: 41111111-2222-4333-8444-555555555555, upn: u, "
                                      "password: p}\n",
       "users.u.upn: must be name@domain"},
      {"duplicate upn", tenant + "users:\n  u: {object_id: 41111111-2222-4333-8444-555555555555, upn: u@t.test, "
                                 "password: p}\n  v: {object_id: 51111111-2222-4333-8444-555555555555, upn: U@T.test, "
                                 "password: p}\n",
       "users.v.upn: is used by another user"},
      {"unknown role", tenant + api + "users:\n  u: {object_id: 41111111-2222-4333-8444-555555555555, upn: u@t.test, "
                                      "password: p, roles: {api: [Admin]}}\n",
       "'Admin' is not an app role of api"},
      {"condition on an unknown app", tenant + "users:\n  u: {object_id: 41111111-2222-4333-8444-555555555555, "
                                               "upn: u@t.test, password: p, conditions: [{resource: graph}]}\n",
       "users.u.conditions: 'graph' is not an application"},
      {"require_mfa not a boolean", tenant + api + "users:\n  u: {object_id: 41111111-2222-4333-8444-555555555555, "
                                                   "upn: u@t.test, password: p, conditions: [{resource: api, "
                                                   "require_mfa: maybe}]}\n",
       "require_mfa: must be true or false"},
      {"consent for an unknown scope", tenant + api + "consents:\n  - {client: api, resource: api, scopes: [write]}\n",
       "consents[0].scopes: 'write' is not a scope of api"},
      {"consent for an unknown user", tenant + api + "consents:\n  - {client: api, resource: api, scopes: [read], "
                                                     "principals: [ghost]}\n",
       "consents[0].principals: 'ghost' is not a user"},
      {"site reader unknown", tenant + "graph:\n  sites:\n    - {hostname: h, path: p, readers: [ghost]}\n",
       "graph.sites[0].readers: 'ghost' is not a user"},
      {"scopes not a list", tenant + "applications:\n  api: {client_id: 21111111-2222-4333-8444-555555555555, "
                                     "scopes: {a: b}}\n",
       "applications.api.scopes: must be a list"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    try {
      (void)parse_directory(c.yaml, "test.yaml");
      ADD_FAILURE() << "accepted";
    } catch (const DirectoryError& e) {
      EXPECT_NE(std::string(e.what()).find(c.message), std::string::npos) << e.what();
    }
  }
}

TEST(DirectoryYaml, SecretsNeverAppearInErrors) {
  try {
    (void)parse_directory("tenant: {id: 11111111-2222-4333-8444-555555555555, domain: t.test}\n"
                          "applications:\n  api: {client_id: 21111111-2222-4333-8444-555555555555, "
                          "secrets: [very-secret-value], bogus: 1}\n",
                          "test.yaml");
    ADD_FAILURE() << "accepted";
  } catch (const DirectoryError& e) {
    EXPECT_EQ(std::string(e.what()).find("very-secret-value"), std::string::npos) << e.what();
  }
}

TEST(DirectoryYaml, MissingFileIsNamed) {
  try {
    (void)load_directory("/nonexistent/dev-directory.yaml");
    ADD_FAILURE() << "accepted";
  } catch (const DirectoryError& e) {
    EXPECT_EQ(std::string(e.what()), "/nonexistent/dev-directory.yaml: cannot be read");
  }
}

}  // namespace
}  // namespace deputy::devidp
