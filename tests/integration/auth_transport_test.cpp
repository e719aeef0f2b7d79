// Authentication and Tier-1 authorization on the wire, with a stand-in validator (the real token
// validation has its own tests): who gets 401, 403 or 503 with which challenge, whose session is whose,
// who sees and calls what.
#include "test_server.hpp"

#include <gtest/gtest.h>

#include <set>

namespace deputy::testing {
namespace {

namespace asio = boost::asio;

/// Tokens are user names: alice (Task.All), bob (Task.Read), carol (Task.Write); a few names stand for
/// failures.
class NamedTokens final : public auth::Authenticator {
 public:
  asio::awaitable<std::expected<std::shared_ptr<const auth::Principal>, auth::Error>> authenticate(
      std::string_view token) override {
    if (token == "noscope") co_return std::unexpected(auth::Error::kInsufficientScope);
    if (token == "expired") co_return std::unexpected(auth::Error::kExpired);
    if (token == "nokeys") co_return std::unexpected(auth::Error::kKeysUnavailable);
    std::string role;
    if (token == "alice") role = "Task.All";
    if (token == "bob") role = "Task.Read";
    if (token == "carol") role = "Task.Write";
    if (role.empty()) co_return std::unexpected(auth::Error::kBadSignature);
    auto principal = std::make_shared<auth::Principal>();
    principal->tenant_id = "tenant";
    principal->object_id = std::string(token);
    principal->username = std::string(token) + "@example.com";
    principal->roles = {role};
    principal->scopes = {"access_as_user"};
    co_return principal;
  }
};

transport::StreamableHttpOptions with_auth() {
  transport::StreamableHttpOptions options;
  options.authenticator = std::make_shared<NamedTokens>();
  options.resource_metadata = {.resource = "http://127.0.0.1:8400/mcp",
                               .authorization_servers = {"https://login.example.com/tenant/v2.0"},
                               .scopes_supported = {"api://server/access_as_user"},
                               .resource_name = "test"};
  options.challenge_scope = "api://server/access_as_user";
  return options;
}

/// The seed's roles: Task.All everything, Task.Write write and read, Task.Read read.
mcp::DispatcherOptions seed_policy(bool explain = false) {
  mcp::DispatcherOptions options;
  options.policy = authz::Policy({.enabled = true,
                                  .grants = {{.role = "Task.All", .everything = true},
                                             {.role = "Task.Write", .tags = {"write", "read"}},
                                             {.role = "Task.Read", .tags = {"read"}}},
                                  .explain_denials = explain});
  return options;
}

void seed_tools(mcp::Registry& registry) {
  auto text = [](std::string reply) {
    return [reply](const json::object&, mcp::RequestContext& context) -> asio::awaitable<mcp::ToolResult> {
      co_return mcp::ToolResult::text(reply + " for " + context.principal()->username);
    };
  };
  registry.add_tool({.name = "read_thing", .description = "reads", .tags = {"read"}}, text("read"));
  registry.add_tool({.name = "write_thing", .description = "writes", .tags = {"write"}}, text("written"));
  // Required in code, whatever the policy says (the seed's test_write_tool).
  registry.add_tool({.name = "guarded_write", .description = "needs Task.All or Task.Write", .tags = {"read"},
                     .required_roles = {"Task.All", "Task.Write"}},
                    text("guarded"));
}

std::string bearer(std::string_view token) { return "Authorization: Bearer " + std::string(token) + "\r\n"; }

constexpr std::string_view kInitialize =
    R"({"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"1"}}})";

std::string session_for(const TestServer& server, std::string_view token) {
  auto response = post(server.port(), kInitialize, {}, bearer(token));
  EXPECT_EQ(response.result(), http::status::ok) << response.body();
  return std::string(response["Mcp-Session-Id"]);
}

std::vector<std::string> tool_names(const TestServer& server, std::string_view token) {
  auto session = session_for(server, token);
  auto list = post(server.port(), R"({"jsonrpc":"2.0","id":1,"method":"tools/list"})", session, bearer(token));
  std::vector<std::string> names;
  const auto body = json::parse(list.body());
  for (const auto& tool : body.at("result").at("tools").as_array()) {
    names.emplace_back(tool.at("name").as_string());
  }
  return names;
}

json::value call(const TestServer& server, std::string_view token, std::string_view tool) {
  auto session = session_for(server, token);
  auto response = post(server.port(),
                       R"({"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":")" + std::string(tool) +
                           R"("}})",
                       session, bearer(token));
  return json::parse(response.body());
}

struct Refusal {
  const char* name;
  std::string headers;
  std::string target;
  http::status status;
  const char* error;  // error= in the challenge, "" for none
};

class RefusalTest : public ::testing::TestWithParam<Refusal> {};

TEST_P(RefusalTest, IsAnsweredWithItsChallenge) {
  TestServer server({}, with_auth());
  RawClient client(server.port());
  const auto& refusal = GetParam();
  client.send("POST " + refusal.target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
              "Accept: application/json, text/event-stream\r\n" + refusal.headers +
              "Content-Length: " + std::to_string(kInitialize.size()) + "\r\n\r\n" + std::string(kInitialize));
  auto response = client.read();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->result(), refusal.status) << refusal.name;
  const std::string challenge(response->at(http::field::www_authenticate));
  EXPECT_TRUE(challenge.starts_with("Bearer")) << challenge;
  EXPECT_NE(challenge.find(R"(resource_metadata="http://127.0.0.1:8400/.well-known/oauth-protected-resource/mcp")"),
            std::string::npos)
      << challenge;
  if (*refusal.error != '\0') {
    EXPECT_NE(challenge.find(std::string("error=\"") + refusal.error + "\""), std::string::npos) << challenge;
  } else {
    EXPECT_EQ(challenge.find("error="), std::string::npos) << challenge;
  }
}

TEST(Authentication, InvalidTokensAreAnsweredAlikeWhateverFailed) {
  // Which check failed is for our logs and counters; the caller learns nothing it could use to probe.
  TestServer server({}, with_auth());
  std::set<std::string> answers;
  for (const char* token : {"mallory", "expired", "a\"b"}) {
    auto response = post(server.port(), kInitialize, {}, bearer(token));
    answers.insert(std::string(response.at(http::field::www_authenticate)) + "|" + response.body());
  }
  EXPECT_EQ(answers.size(), 1U);
}

INSTANTIATE_TEST_SUITE_P(
    FromTheAttackersSide, RefusalTest,
    ::testing::Values(Refusal{"no_header", "", "/mcp", http::status::unauthorized, ""},
                      Refusal{"basic", "Authorization: Basic YWxpY2U6c2VjcmV0\r\n", "/mcp", http::status::unauthorized, ""},
                      Refusal{"empty_bearer", "Authorization: Bearer \r\n", "/mcp", http::status::unauthorized,
                              "invalid_token"},
                      Refusal{"bearer_only", "Authorization: Bearer\r\n", "/mcp", http::status::unauthorized,
                              "invalid_token"},
                      Refusal{"bad_characters", bearer("a\"b"), "/mcp", http::status::unauthorized, "invalid_token"},
                      Refusal{"forged", bearer("mallory"), "/mcp", http::status::unauthorized, "invalid_token"},
                      Refusal{"expired", bearer("expired"), "/mcp", http::status::unauthorized, "invalid_token"},
                      Refusal{"token_in_query", "", "/mcp?access_token=alice", http::status::unauthorized,
                              "invalid_request"},
                      Refusal{"query_beats_header", bearer("alice"), "/mcp?x=1&ACCESS_TOKEN=alice",
                              http::status::unauthorized, "invalid_request"},
                      Refusal{"missing_scope", bearer("noscope"), "/mcp", http::status::forbidden,
                              "insufficient_scope"},
                      Refusal{"keys_unavailable", bearer("nokeys"), "/mcp", http::status::service_unavailable,
                              ""}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(Authentication, TwoAuthorizationHeadersAreRefused) {
  // A proxy in front may read the other line: which user this is must not depend on who reads.
  TestServer server({}, with_auth());
  auto response = post(server.port(), kInitialize, {}, bearer("alice") + bearer("bob"));
  EXPECT_EQ(response.result(), http::status::bad_request);
  EXPECT_NE(std::string(response.at(http::field::www_authenticate)).find(R"(error="invalid_request")"),
            std::string::npos);
}

TEST(Authentication, MethodsNeverServedAre405BeforeAuthentication) {
  TestServer server({}, with_auth());
  RawClient client(server.port());
  client.send("OPTIONS /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nOrigin: http://localhost:3000\r\n\r\n");
  EXPECT_EQ(client.read()->result(), http::status::method_not_allowed);
}

TEST(Authentication, NoTokenBodyCarriesNoErrorCode) {
  TestServer server({}, with_auth());
  auto response = post(server.port(), kInitialize);
  EXPECT_EQ(response.result(), http::status::unauthorized);
  EXPECT_EQ(response.body().find("invalid_token"), std::string::npos) << response.body();
}

TEST(Authentication, SchemeIsCaseInsensitive) {
  TestServer server({}, with_auth());
  EXPECT_EQ(post(server.port(), kInitialize, {}, "Authorization: bEaReR alice\r\n").result(), http::status::ok);
}

TEST(Authentication, AnotherUsersTokenFindsNoSession) {
  TestServer server({}, with_auth());
  auto alice = session_for(server, "alice");
  constexpr std::string_view kList = R"({"jsonrpc":"2.0","id":1,"method":"tools/list"})";
  EXPECT_EQ(post(server.port(), kList, alice, bearer("alice")).result(), http::status::ok);
  EXPECT_EQ(post(server.port(), kList, alice, bearer("bob")).result(), http::status::not_found);
  // Nor can bob end alice's session.
  RawClient client(server.port());
  client.send("DELETE /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nMcp-Session-Id: " + alice + "\r\n" + bearer("bob") + "\r\n");
  EXPECT_EQ(client.read()->result(), http::status::not_found);
  EXPECT_EQ(post(server.port(), kList, alice, bearer("alice")).result(), http::status::ok);
}

TEST(Authentication, ProtectedResourceMetadataIsServedByTheServer) {
  // The route lives in deputy::Server; here the document itself.
  auto options = with_auth();
  auto document = options.resource_metadata.document();
  EXPECT_EQ(document.at("resource"), "http://127.0.0.1:8400/mcp");
  EXPECT_EQ(document.at("authorization_servers").at(0), "https://login.example.com/tenant/v2.0");
  EXPECT_EQ(document.at("bearer_methods_supported").at(0), "header");
  EXPECT_EQ(options.resource_metadata.url(), "http://127.0.0.1:8400/.well-known/oauth-protected-resource/mcp");
}

TEST(TierOne, EachUserListsWhatTheirRolesAllow) {
  TestServer server({}, with_auth(), seed_policy(), seed_tools);
  auto sorted = [](std::vector<std::string> names) {
    std::ranges::sort(names);
    return names;
  };
  // echo and sleep carry no tags: only Task.All (everything) sees them.
  EXPECT_EQ(sorted(tool_names(server, "alice")),
            (std::vector<std::string>{"echo", "guarded_write", "read_thing", "sleep", "write_thing"}));
  EXPECT_EQ(sorted(tool_names(server, "carol")),
            (std::vector<std::string>{"guarded_write", "read_thing", "write_thing"}));
  EXPECT_EQ(sorted(tool_names(server, "bob")), (std::vector<std::string>{"read_thing"}));
}

TEST(TierOne, CallingAHiddenToolLooksLikeCallingNoTool) {
  TestServer server({}, with_auth(), seed_policy(), seed_tools);
  EXPECT_EQ(call(server, "alice", "write_thing").at("result").at("content").at(0).at("text"),
            "written for alice@example.com");
  auto denied = call(server, "bob", "write_thing");
  auto missing = call(server, "bob", "no_such_tool");
  EXPECT_EQ(denied.at("error").at("code"), -32602);
  EXPECT_EQ(denied.at("error").at("message"), "Unknown tool: write_thing");
  EXPECT_EQ(missing.at("error").at("message"), "Unknown tool: no_such_tool");
  // The tool's own required roles hold even where the policy would let a tag through.
  EXPECT_EQ(call(server, "carol", "guarded_write").at("result").at("content").at(0).at("text"),
            "guarded for carol@example.com");
}

TEST(TierOne, ExplainingDenialsIsAChoice) {
  TestServer server({}, with_auth(), seed_policy(/*explain=*/true), seed_tools);
  auto denied = call(server, "bob", "write_thing");
  EXPECT_EQ(denied.at("result").at("isError"), true);
  EXPECT_NE(std::string(denied.at("result").at("content").at(0).at("text").as_string()).find("Access denied"),
            std::string::npos);
}

TEST(TierOne, RequiredRolesHoldWithThePolicyOff) {
  TestServer server({}, with_auth(), {}, seed_tools);
  EXPECT_EQ(call(server, "bob", "guarded_write").at("error").at("code"), -32602);
  EXPECT_EQ(call(server, "bob", "write_thing").at("result").at("content").at(0).at("text"),
            "written for bob@example.com");
}

}  // namespace
}  // namespace deputy::testing
