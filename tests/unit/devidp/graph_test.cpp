// The dev Graph without sockets: each endpoint's answer as Graph shapes it, every way past the token check
// tried (none, forged, foreign key, expired, another audience, another tenant, a missing permission), the
// user's own access to sites enforced, and the request log that tests read.
#include "devidp_fixture.hpp"

#include "deputy/auth/jws.hpp"
#include "deputy/devidp/graph.hpp"

#include <gtest/gtest.h>

namespace deputy::devidp::testing {
namespace {

namespace http = boost::beast::http;

constexpr std::string_view kSitePath = "/v1.0/sites/deputydev.sharepoint.com:/sites/test-site";
constexpr std::string_view kAliceOid = "b4822fd4-5a21-4902-90ad-7430c1db4dd9";
const std::string kV1Issuer = "https://sts.windows.net/" + std::string(kTenantId) + "/";

std::string sign_with(const json::object& claims, const SigningKey& key) {
  json::object header{{"typ", "JWT"}, {"kid", key.kid}, {"x5t", key.kid}};
  auto token = auth::sign(header, claims, key.private_key.get(), auth::Alg::kRs256);
  EXPECT_TRUE(token);
  return token ? *token : std::string();
}

class Graph : public ::testing::Test {
 protected:
  TestProvider idp;
  DevGraph graph{idp.provider()};

  /// A user's Graph token as the On-Behalf-Of exchange of the server app issues it (v1, appid = server).
  std::string graph_token(std::string_view user,
                          std::vector<std::string> scopes = {"Sites.Read.All", "User.Read"}) {
    return idp.mint(user, {.client = "server", .resource = "graph", .scopes = std::move(scopes)});
  }
  /// The claims of alice's Graph token after `edit`, signed with the active key.
  std::string edited(const std::function<void(json::object&)>& edit) {
    auto claims = payload_of(graph_token("alice"));
    edit(claims);
    return sign_with(claims, idp.provider().keys().active());
  }
  HttpAnswer get(std::string_view target, std::string_view token) {
    const std::string authorization = token.empty() ? std::string() : "Bearer " + std::string(token);
    return graph.handle({.method = http::verb::get, .target = target, .authorization = authorization});
  }
  static json::object error_of(const HttpAnswer& answer) {
    return TestProvider::body(answer).at("error").as_object();
  }
  static std::string header(const HttpAnswer& answer, std::string_view name) {
    for (const auto& [key, value] : answer.headers) {
      if (key == name) return value;
    }
    return {};
  }
};

TEST_F(Graph, AReaderGetsTheSiteAsGraphShapesIt) {
  const auto answer = get(kSitePath, graph_token("alice"));
  ASSERT_EQ(answer.status, 200U) << answer.body;
  EXPECT_TRUE(answer.content_type.starts_with("application/json"));
  const auto site = TestProvider::body(answer);
  const auto& expected = idp.provider().directory().sites.front();
  EXPECT_EQ(str(site.at("id")), expected.id);
  EXPECT_TRUE(site.at("id").as_string().starts_with("deputydev.sharepoint.com,"));
  EXPECT_EQ(site.at("displayName"), "Test Site");
  EXPECT_EQ(site.at("name"), "test-site");
  EXPECT_EQ(site.at("webUrl"), "https://deputydev.sharepoint.com/sites/test-site");
  EXPECT_EQ(site.at("createdDateTime"), "2024-01-15T08:00:00Z");
  EXPECT_EQ(site.at("siteCollection").at("hostname"), "deputydev.sharepoint.com");
  EXPECT_EQ(site.at("@odata.context"), "https://graph.microsoft.com/v1.0/$metadata#sites/$entity");
  EXPECT_FALSE(header(answer, "request-id").empty());
}

TEST_F(Graph, TheSiteIsFoundByItsIdByAClosingColonAndInAnyCase) {
  const auto& site = idp.provider().directory().sites.front();
  const auto token = graph_token("alice");
  EXPECT_EQ(get("/v1.0/sites/" + site.id, token).status, 200U);
  EXPECT_EQ(get(std::string(kSitePath) + ":", token).status, 200U);
  EXPECT_EQ(get("/v1.0/sites/DeputyDev.SharePoint.com:/sites/Test-Site?$select=id", token).status, 200U);
  EXPECT_EQ(get("/v1.0/sites/deputydev.sharepoint.com%3A/sites/test-site", token).status, 200U);
}

TEST_F(Graph, AUserWhoIsNotAReaderIsDenied) {
  for (std::string_view user : {"bob", "carol", "dave"}) {
    SCOPED_TRACE(user);
    const auto answer = get(kSitePath, graph_token(user));
    EXPECT_EQ(answer.status, 403U);
    EXPECT_EQ(error_of(answer).at("code"), "accessDenied");
    EXPECT_TRUE(error_of(answer).at("innerError").as_object().contains("request-id"));
  }
}

TEST_F(Graph, AnUnknownSiteIsNotFound) {
  const auto token = graph_token("alice");
  for (std::string_view target :
       {"/v1.0/sites/deputydev.sharepoint.com:/sites/nope",
        "/v1.0/sites/contoso.sharepoint.com:/sites/test-site",
        "/v1.0/sites/deputydev.sharepoint.com:/teams/test-site", "/v1.0/sites/not-a-site-id"}) {
    SCOPED_TRACE(target);
    const auto answer = get(target, token);
    EXPECT_EQ(answer.status, 404U);
    EXPECT_EQ(error_of(answer).at("code"), "itemNotFound");
  }
}

TEST_F(Graph, MeIsTheTokensUser) {
  const auto answer = get("/v1.0/me", graph_token("alice", {"User.Read"}));
  ASSERT_EQ(answer.status, 200U) << answer.body;
  const auto me = TestProvider::body(answer);
  EXPECT_EQ(str(me.at("id")), kAliceOid);
  EXPECT_EQ(me.at("displayName"), "Alice Adams");
  EXPECT_EQ(me.at("givenName"), "Alice");
  EXPECT_EQ(me.at("surname"), "Adams");
  EXPECT_EQ(me.at("userPrincipalName"), "alice@deputy-dev.test");
  EXPECT_EQ(me.at("mail"), "alice@deputy-dev.test");
  EXPECT_TRUE(me.at("jobTitle").is_null());
}

TEST_F(Graph, MissingBadOrMisaddressedTokensAre401WithAChallenge) {
  const auto alice = graph_token("alice");
  const auto bob = graph_token("bob");
  // bob's claims under alice's signature.
  const auto forged = alice.substr(0, alice.find('.')) +
                      bob.substr(bob.find('.'), bob.rfind('.') - bob.find('.')) +
                      alice.substr(alice.rfind('.'));
  const auto foreign = [&] {
    SigningKey impostor{.kid = idp.provider().keys().active().kid, .private_key = test_keys().other_key};
    return sign_with(payload_of(alice), impostor);
  }();
  const auto expired = idp.mint("alice", {.client = "server",
                                          .resource = "graph",
                                          .scopes = {"Sites.Read.All"},
                                          .lifetime = std::chrono::seconds(600),
                                          .issued_before = std::chrono::hours(2)});
  struct Case {
    std::string name;
    std::string authorization;
    std::string reason;
    bool invalid_token;  // error="invalid_token" in the challenge (a token was presented)
  };
  const std::vector<Case> cases = {
      {"no token", "", "missing_token", false},
      {"Basic", "Basic YWxpY2U6cGFzc3dvcmQ=", "unsupported_scheme", false},
      {"not a JWT", "Bearer not.a.jwt", "malformed_token", true},
      {"payload swapped", "Bearer " + forged, "bad_signature", true},
      {"signed by a key nobody published", "Bearer " + foreign, "bad_signature", true},
      {"expired", "Bearer " + expired, "expired", true},
      // The user's own MCP token passed through by mistake: valid, ours, but addressed to the MCP server.
      {"an MCP-audience token", "Bearer " + idp.mint("alice"), "wrong_audience", true},
      {"a token for another resource by its client id",
       "Bearer " + edited([](json::object& c) { c["aud"] = std::string(kServerId); }), "wrong_audience",
       true},
      {"another tenant's issuer", "Bearer " + edited([](json::object& c) {
                                    c["iss"] =
                                        "https://sts.windows.net/72f988bf-86f1-41af-91ab-2d7cd011db47/";
                                  }),
       "wrong_issuer", true},
      {"our issuer, another tid",
       "Bearer " + edited([](json::object& c) { c["tid"] = "72f988bf-86f1-41af-91ab-2d7cd011db47"; }), "",
       true},
      {"not yet valid",
       "Bearer " + edited([&](json::object& c) { c["nbf"] = c.at("iat").as_int64() + 3600; }),
       "not_yet_valid", true},
      {"no exp", "Bearer " + edited([](json::object& c) { c.erase("exp"); }), "missing_exp", true},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    const auto answer = graph.handle({.target = kSitePath, .authorization = c.authorization});
    EXPECT_EQ(answer.status, 401U) << answer.body;
    EXPECT_EQ(error_of(answer).at("code"), "InvalidAuthenticationToken");
    const auto challenge = header(answer, "WWW-Authenticate");
    EXPECT_TRUE(challenge.starts_with("Bearer ")) << challenge;
    EXPECT_NE(challenge.find("client_id=\"00000003-0000-0000-c000-000000000000\""), std::string::npos);
    EXPECT_NE(challenge.find(std::string(kBaseUrl) + "/" + std::string(kTenantId) + "/oauth2/v2.0/authorize"),
              std::string::npos);
    EXPECT_EQ(challenge.find("error=\"invalid_token\"") != std::string::npos, c.invalid_token) << challenge;
    if (!c.reason.empty()) {
      EXPECT_EQ(graph.log().entries().back().reason, c.reason);
    }
    // Nothing of the token comes back.
    if (c.authorization.size() > 20) {
      EXPECT_EQ(answer.body.find(c.authorization.substr(c.authorization.size() - 20)), std::string::npos);
    }
  }
}

TEST_F(Graph, ATokenExpiresWithTheClockWithinTheLeeway) {
  const auto token = graph_token("alice");
  idp.advance(std::chrono::seconds(3600 + 30));
  EXPECT_EQ(get(kSitePath, token).status, 200U);
  idp.advance(std::chrono::seconds(60));
  EXPECT_EQ(get(kSitePath, token).status, 401U);
}

TEST_F(Graph, AV2TokenForGraphIsAcceptedToo) {
  const auto token = edited([](json::object& c) {
    c["iss"] = std::string(kBaseUrl) + "/" + std::string(kTenantId) + "/v2.0";
    c["aud"] = std::string(kGraphClientId);
    c["ver"] = "2.0";
  });
  EXPECT_EQ(get(kSitePath, token).status, 200U);
}

TEST_F(Graph, AMissingPermissionIs403) {
  const auto mail_only = graph_token("alice", {"Mail.Read"});
  auto answer = get(kSitePath, mail_only);
  EXPECT_EQ(answer.status, 403U);
  EXPECT_EQ(error_of(answer).at("code"), "Authorization_RequestDenied");
  EXPECT_EQ(graph.log().entries().back().reason, "missing_scope");
  answer = get("/v1.0/me", graph_token("alice", {"Sites.Read.All"}));
  EXPECT_EQ(answer.status, 403U);
  EXPECT_EQ(error_of(answer).at("code"), "Authorization_RequestDenied");
  // The permission of the token decides, not the user: alice reads the site with Sites.ReadWrite.All too.
  EXPECT_EQ(get(kSitePath, edited([](json::object& c) { c["scp"] = "Sites.ReadWrite.All"; })).status, 200U);
}

TEST_F(Graph, AppOnlyTokensReadSitesWithTheRoleAndNeverMe) {
  // The server app's own Graph token: the directory grants it no application permission on Graph.
  const auto issued = idp.provider().issuer().app_token(
      *idp.provider().directory().find_app("server"), *idp.provider().directory().find_app("graph"),
      ClientAuthMethod::kSecret, idp.now(), idp.provider().random());
  ASSERT_TRUE(issued);
  auto answer = get(kSitePath, issued->token);
  EXPECT_EQ(answer.status, 403U);
  EXPECT_EQ(error_of(answer).at("code"), "Authorization_RequestDenied");
  EXPECT_EQ(graph.log().entries().back().reason, "missing_role");

  // The same token with the Sites.Read.All application permission reads any site, reader list or not.
  auto claims = payload_of(issued->token);
  claims["roles"] = json::array{"Sites.Read.All"};
  const auto with_role = sign_with(claims, idp.provider().keys().active());
  EXPECT_EQ(get(kSitePath, with_role).status, 200U);
  // A delegated scope named like the role is not a role: an app-only token carries none.
  answer = get("/v1.0/me", with_role);
  EXPECT_EQ(answer.status, 400U);
  EXPECT_EQ(error_of(answer).at("code"), "BadRequest");
}

TEST_F(Graph, OnlyGetAndOnlyKnownPaths) {
  const auto token = graph_token("alice");
  const std::string authorization = "Bearer " + token;
  auto answer =
      graph.handle({.method = http::verb::post, .target = kSitePath, .authorization = authorization});
  EXPECT_EQ(answer.status, 405U);
  answer = get("/v1.0/users", token);
  EXPECT_EQ(answer.status, 400U);
  EXPECT_EQ(error_of(answer).at("code"), "BadRequest");
  EXPECT_EQ(get("/beta/me", token).status, 400U);
  // The token is checked before the path: an unknown path without a token is 401, as at Graph.
  EXPECT_EQ(get("/v1.0/users", "").status, 401U);
}

TEST_F(Graph, TheLogRecordsEachRequestWithTheTokensHashNeverTheToken) {
  const auto alice = graph_token("alice");
  const auto bob = graph_token("bob");
  ASSERT_EQ(get(std::string(kSitePath) + "?$select=id", alice).status, 200U);
  ASSERT_EQ(get(kSitePath, bob).status, 403U);
  ASSERT_EQ(get("/v1.0/me", "").status, 401U);

  const auto entries = graph.log().entries();
  ASSERT_EQ(entries.size(), 3U);
  EXPECT_EQ(entries[0].method, "GET");
  EXPECT_EQ(entries[0].path, kSitePath);  // the query is not kept
  EXPECT_EQ(entries[0].status, 200U);
  EXPECT_TRUE(entries[0].error.empty());
  ASSERT_TRUE(entries[0].token);
  const auto claims = payload_of(alice);
  EXPECT_EQ(entries[0].token->sha256, sha256_hex(alice));
  EXPECT_EQ(entries[0].token->sha256.size(), 64U);
  EXPECT_TRUE(entries[0].token->verified);
  EXPECT_EQ(entries[0].token->aud, "https://graph.microsoft.com");
  EXPECT_EQ(entries[0].token->appid, kServerId);
  EXPECT_EQ(entries[0].token->oid, kAliceOid);
  EXPECT_EQ(entries[0].token->uti, str(claims.at("uti")));
  EXPECT_EQ(entries[1].status, 403U);
  EXPECT_EQ(entries[1].error, "accessDenied");
  EXPECT_EQ(entries[1].reason, "not_a_reader");
  EXPECT_EQ(entries[2].status, 401U);
  EXPECT_FALSE(entries[2].token);
  EXPECT_LT(entries[0].sequence, entries[1].sequence);

  // Over HTTP, for an admin caller only; the JSON never holds a token.
  auto answer = graph.handle({.target = "/_dev/requests", .admin = true});
  ASSERT_EQ(answer.status, 200U);
  EXPECT_EQ(answer.body.find(alice.substr(alice.rfind('.') + 1)), std::string::npos);
  EXPECT_EQ(answer.body.find(bob.substr(bob.find('.') + 1, 40)), std::string::npos);
  const auto log = TestProvider::body(answer);
  ASSERT_EQ(log.at("requests").as_array().size(), 3U);
  const auto& first = log.at("requests").as_array()[0].as_object();
  EXPECT_EQ(first.at("status"), 200);
  EXPECT_EQ(str(first.at("token").at("sha256")), sha256_hex(alice));
  EXPECT_EQ(str(first.at("token").at("appid")), kServerId);
  EXPECT_EQ(log.at("dropped"), 0);

  EXPECT_EQ(graph.handle({.target = "/_dev/requests"}).status, 404U);
  EXPECT_EQ(graph.handle({.method = http::verb::delete_, .target = "/_dev/requests"}).status, 404U);
  EXPECT_EQ(graph.log().entries().size(), 3U);  // admin requests are not logged, refused or not
  EXPECT_EQ(graph.handle({.method = http::verb::delete_, .target = "/_dev/requests", .admin = true}).status,
            204U);
  EXPECT_TRUE(graph.log().entries().empty());
}

TEST_F(Graph, TheLogIsARing) {
  RequestLog log;
  for (std::size_t i = 0; i < kMaxLoggedRequests + 5; ++i) log.record({.method = "GET", .path = "/v1.0/me"});
  const auto entries = log.entries();
  EXPECT_EQ(entries.size(), kMaxLoggedRequests);
  EXPECT_EQ(entries.front().sequence, 6U);
  EXPECT_EQ(log.to_json().at("dropped"), 5);
  log.clear();
  log.record({});
  EXPECT_EQ(log.entries().front().sequence, kMaxLoggedRequests + 6);  // a clear does not reuse numbers
}

TEST_F(Graph, AfterTwoRotationsTokensOfTheRetiredKeyAreRefusedEvenOnceVerified) {
  const auto before = graph_token("alice");
  ASSERT_EQ(get(kSitePath, before).status, 200U);  // verified once: in the validator's cache
  ASSERT_TRUE(idp.provider().rotate_signing_key());
  EXPECT_EQ(get(kSitePath, before).status, 200U);  // the previous key stays published
  const auto after = graph_token("alice");
  EXPECT_NE(auth::parse_jws(after)->kid(), auth::parse_jws(before)->kid());
  EXPECT_EQ(get(kSitePath, after).status, 200U);
  ASSERT_TRUE(idp.provider().rotate_signing_key());
  EXPECT_EQ(get(kSitePath, before).status, 401U);
  EXPECT_EQ(graph.log().entries().back().reason, "unknown_kid");
  EXPECT_EQ(get(kSitePath, after).status, 200U);
}

}  // namespace
}  // namespace deputy::devidp::testing
