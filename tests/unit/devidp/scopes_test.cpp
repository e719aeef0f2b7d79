// The scope parameter against the built-in directory.
#include "deputy/devidp/directory_yaml.hpp"
#include "deputy/devidp/scopes.hpp"

#include <gtest/gtest.h>

namespace deputy::devidp {
namespace {

const Directory& directory() {
  static const Directory d = default_directory();
  return d;
}

TEST(Scopes, ResolvesResourcesAndScopes) {
  struct Case {
    std::string_view scope;
    std::string_view resource;  // app key, empty for none
    bool default_scope;
    std::vector<std::string> scopes;
  };
  const std::vector<Case> cases = {
      {"https://graph.microsoft.com/.default", "graph", true, {}},
      {"https://graph.microsoft.com/.default offline_access openid profile", "graph", true, {}},
      {"https://graph.microsoft.com/user.read https://graph.microsoft.com/Sites.Read.All", "graph", false,
       {"User.Read", "Sites.Read.All"}},
      {"User.Read", "graph", false, {"User.Read"}},
      {"00000003-0000-0000-c000-000000000000/User.Read", "graph", false, {"User.Read"}},
      {"api://d894da85-e1f8-4202-b8d8-bbfc24cbe604/access_as_user", "server", false, {"access_as_user"}},
      {"API://D894DA85-E1F8-4202-B8D8-BBFC24CBE604/.default", "server", true, {}},
      {"d894da85-e1f8-4202-b8d8-bbfc24cbe604/.default", "server", true, {}},
      {"  openid   profile ", "", false, {}},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.scope);
    auto request = parse_scopes(directory(), c.scope);
    ASSERT_TRUE(request) << request.error().message;
    EXPECT_EQ(request->resource == nullptr ? "" : request->resource->key, c.resource);
    EXPECT_EQ(request->default_scope, c.default_scope);
    EXPECT_EQ(request->scopes, c.scopes);
  }
  auto oidc = parse_scopes(directory(), "openid profile email offline_access");
  ASSERT_TRUE(oidc);
  EXPECT_TRUE(oidc->openid && oidc->profile && oidc->email && oidc->offline_access);
}

TEST(Scopes, RefusesWhatEntraRefuses) {
  struct Case {
    std::string_view scope;
    IdpError error;
  };
  const std::vector<Case> cases = {
      {"api://unknown/.default", IdpError::kUnknownResource},
      {"https://graph.microsoft.com/Nope.Read", IdpError::kInvalidScope},
      {"https://graph.microsoft.com/User.Read api://d894da85-e1f8-4202-b8d8-bbfc24cbe604/access_as_user",
       IdpError::kMultipleResources},
      {"https://graph.microsoft.com/.default User.Read", IdpError::kInvalidScope},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.scope);
    auto request = parse_scopes(directory(), c.scope);
    ASSERT_FALSE(request);
    EXPECT_EQ(request.error().error, c.error);
  }
}

}  // namespace
}  // namespace deputy::devidp
