// Tier 2 end to end, in one process: the development identity provider and dev Graph on loopback TLS, and the
// deputy service configured by `deputy dev`'s dev_config() in front of them, driven over raw HTTP with tokens
// the provider issues. What the seed promises (alice granted, bob denied), what it could not do (carol's MFA
// challenge as HTTP 401, dave's missing consent as something to act on), and what must never happen (the
// user's own token reaching Graph, one user's exchanged token serving another, a burst of calls hammering the
// identity provider).
#include "deputy/auth/base64url.hpp"
#include "deputy/devidp/idp_server.hpp"
#include "deputy/devidp/request_log.hpp"
#include "deputy/service.hpp"
#include "test_server.hpp"

#include <boost/json.hpp>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <future>
#include <sstream>
#include <thread>

namespace deputy::testing {
namespace {

namespace fs = std::filesystem;
using devidp::GrantType;

/// One running deputy service (with its own audit file) in front of a provider.
class RunningService {
 public:
  RunningService(config::Config config) : service_(config) {
    std::promise<std::string> listening;
    auto url = listening.get_future();
    RunOptions options;
    options.http.host = "127.0.0.1";
    options.http.port = 0;
    options.on_listening = [&listening](const std::string& address) { listening.set_value(address); };
    thread_ = std::thread([this, options] { service_.run(options); });
    const std::string address = url.get();
    port_ = static_cast<std::uint16_t>(std::stoi(address.substr(address.rfind(':') + 1)));
  }
  ~RunningService() {
    service_.stop();
    thread_.join();
  }
  [[nodiscard]] std::uint16_t port() const { return port_; }

 private:
  Service service_;
  std::thread thread_;
  std::uint16_t port_ = 0;
};

class Tier2 : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    state_ = fs::temp_directory_path() / ("deputy-tier2-" + std::to_string(::getpid()));
    fs::remove_all(state_);
    idp_ = new devidp::IdpServer({.state_dir = state_, .port = 0});
    if (auto listening = idp_->listen(); !listening) FAIL() << listening.error();
    idp_thread_ = new std::thread([] { idp_->run(); });
    auto config = dev_config(*idp_);
    config.audit.file = (state_ / "audit.log").string();
    config.audit.fsync = "none";
    service_ = new RunningService(config);
  }
  static void TearDownTestSuite() {
    delete service_;
    idp_->stop();
    idp_thread_->join();
    delete idp_thread_;
    delete idp_;
    fs::remove_all(state_);
  }

  static std::string token(std::string_view user, bool mfa = false) {
    auto minted = idp_->provider().mint_user_token(user, {.mfa = mfa});
    EXPECT_TRUE(minted.has_value()) << user;
    return minted ? *minted : std::string();
  }
  static std::string bearer(std::string_view token) { return "Authorization: Bearer " + std::string(token) + "\r\n"; }

  /// initialize + initialized with `token`; the session id.
  static std::string open(std::uint16_t port, std::string_view token) {
    auto response = post(port,
                         R"({"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-06-18",)"
                         R"("capabilities":{},"clientInfo":{"name":"tier2","version":"1"}}})",
                         {}, bearer(token));
    EXPECT_EQ(response.result(), http::status::ok) << response.body();
    std::string id(response["Mcp-Session-Id"]);
    post(port, R"({"jsonrpc":"2.0","method":"notifications/initialized"})", id, bearer(token));
    return id;
  }
  static http::response<http::string_body> call(std::uint16_t port, std::string_view token, std::string_view session,
                                                std::string_view tool, const json::object& arguments = {}) {
    const json::object request{{"jsonrpc", "2.0"},
                               {"id", 7},
                               {"method", "tools/call"},
                               {"params", {{"name", tool}, {"arguments", arguments}}}};
    return post(port, json::serialize(request), session, bearer(token));
  }
  /// The tool result of a 200 answer.
  static json::object result_of(const http::response<http::string_body>& response) {
    EXPECT_EQ(response.result(), http::status::ok) << response.body();
    auto message = json::parse(response.body()).as_object();
    EXPECT_TRUE(message.contains("result")) << response.body();
    return message.contains("result") ? message.at("result").as_object() : json::object();
  }
  static std::string text_of(const json::object& result) {
    const auto& content = result.at("content").as_array();
    return content.empty() ? std::string() : std::string(content.at(0).at("text").as_string());
  }
  static bool is_error(const json::object& result) {
    return result.contains("isError") && result.at("isError").as_bool();
  }
  static std::uint64_t exchanges(std::string_view user) {
    return idp_->provider().stats().snapshot().count(GrantType::kOnBehalfOf, "server", user);
  }
  static std::string site_call(std::string_view user, std::string_view site, bool mfa = false) {
    const auto alice = token(user, mfa);
    const auto session = open(service_->port(), alice);
    return text_of(result_of(call(service_->port(), alice, session, "check_sharepoint_site_access",
                                  {{"site_name", site}})));
  }

  static inline fs::path state_;
  static inline devidp::IdpServer* idp_ = nullptr;
  static inline std::thread* idp_thread_ = nullptr;
  static inline RunningService* service_ = nullptr;
};

TEST_F(Tier2, AliceIsGrantedTheSite) {
  EXPECT_EQ(site_call("alice", "test-site"), "✅ Access granted to site: test-site");
}

TEST_F(Tier2, BobIsDeniedTheSite) {
  EXPECT_EQ(site_call("bob", "test-site"), "❌ Access denied to site: test-site");
}

TEST_F(Tier2, AnUnknownSiteIsDenied) {
  EXPECT_EQ(site_call("alice", "no-such-site"), "❌ Access denied to site: no-such-site");
}

TEST_F(Tier2, ASiteNameCannotLeaveItsPathSegment) {
  // A crafted name stays one segment of Graph's path: at worst an unknown site, never another endpoint.
  EXPECT_EQ(site_call("alice", "../../me"), "❌ Access denied to site: ../../me");
  EXPECT_EQ(site_call("alice", "test-site?x=1"), "❌ Access denied to site: test-site?x=1");
}

TEST_F(Tier2, CarolGetsTheClaimsChallengeAsHttp401) {
  const auto carol = token("carol");
  const auto session = open(service_->port(), carol);
  auto response = call(service_->port(), carol, session, "check_sharepoint_site_access", {{"site_name", "test-site"}});
  ASSERT_EQ(response.result(), http::status::unauthorized) << response.body();
  const std::string challenge(response[http::field::www_authenticate]);
  EXPECT_NE(challenge.find(R"(error="insufficient_claims")"), std::string::npos) << challenge;
  EXPECT_NE(challenge.find("resource_metadata="), std::string::npos) << challenge;
  const auto start = challenge.find("claims=\"") + 8;
  const std::string encoded = challenge.substr(start, challenge.find('"', start) - start);
  // base64 (standard alphabet) of the identity provider's claims JSON.
  std::string decoded;
  {
    std::string url = encoded;
    std::ranges::replace(url, '+', '-');
    std::ranges::replace(url, '/', '_');
    while (url.ends_with('=')) url.pop_back();
    auto bytes = auth::base64url_decode(url);
    ASSERT_TRUE(bytes.has_value()) << encoded;
    decoded = *bytes;
  }
  auto claims = json::parse(decoded);
  EXPECT_TRUE(claims.as_object().contains("access_token")) << decoded;
  // The body still says it to clients that only read JSON-RPC.
  auto message = json::parse(response.body()).as_object();
  EXPECT_TRUE(message.at("result").at("isError").as_bool());

  // After the step-up (a token whose sign-in used MFA) the same call goes through to Graph.
  const auto stepped_up = token("carol", true);
  const auto session2 = open(service_->port(), stepped_up);
  auto after = result_of(call(service_->port(), stepped_up, session2, "whoami"));
  EXPECT_FALSE(is_error(after)) << text_of(after);
  EXPECT_NE(text_of(after).find("Carol Clark"), std::string::npos) << text_of(after);
}

TEST_F(Tier2, DaveIsToldConsentIsMissingAndWhereToGrantIt) {
  const auto dave = token("dave");
  const auto session = open(service_->port(), dave);
  auto result = result_of(call(service_->port(), dave, session, "whoami"));
  EXPECT_TRUE(is_error(result));
  const auto text = text_of(result);
  EXPECT_NE(text.find("Consent is missing"), std::string::npos) << text;
  EXPECT_NE(text.find("/v2.0/adminconsent?client_id="), std::string::npos) << text;
}

TEST_F(Tier2, WhoamiIsTheCallerAsGraphSeesThem) {
  const auto alice = token("alice");
  const auto session = open(service_->port(), alice);
  auto result = result_of(call(service_->port(), alice, session, "whoami"));
  EXPECT_FALSE(is_error(result));
  EXPECT_NE(text_of(result).find("Alice Adams"), std::string::npos) << text_of(result);
  EXPECT_EQ(result.at("structuredContent").at("userPrincipalName").as_string(), "alice@deputy-dev.test");
}

TEST_F(Tier2, HundredConcurrentFirstCallsCostOneExchange) {
  const auto alice = token("alice");  // a new token: nothing cached for it
  const auto session = open(service_->port(), alice);
  const auto before = exchanges("alice");
  constexpr int kCalls = 100;
  std::vector<std::future<std::string>> calls;
  calls.reserve(kCalls);
  for (int i = 0; i < kCalls; ++i) {
    calls.push_back(std::async(std::launch::async, [&] {
      return text_of(result_of(call(service_->port(), alice, session, "check_sharepoint_site_access",
                                    {{"site_name", "test-site"}})));
    }));
  }
  for (auto& answer : calls) EXPECT_EQ(answer.get(), "✅ Access granted to site: test-site");
  EXPECT_EQ(exchanges("alice") - before, 1U);
}

TEST_F(Tier2, OneUsersExchangedTokenNeverServesAnother) {
  // bob first, then alice, then bob again: each gets their own answer, and Graph sees each one's own oid.
  EXPECT_EQ(site_call("bob", "test-site"), "❌ Access denied to site: test-site");
  EXPECT_EQ(site_call("alice", "test-site"), "✅ Access granted to site: test-site");
  EXPECT_EQ(site_call("bob", "test-site"), "❌ Access denied to site: test-site");
  const auto& directory = idp_->provider().directory();
  for (const auto& entry : idp_->graph()->log().entries()) {
    if (!entry.token || !entry.path.ends_with("/sites/test-site")) continue;
    const auto* user = directory.find_user_by_oid(entry.token->oid);
    ASSERT_NE(user, nullptr);
    EXPECT_EQ(entry.status == 200, user->key == "alice") << user->key << " got " << entry.status;
  }
}

TEST_F(Tier2, TheUsersOwnTokenNeverReachesGraph) {
  std::vector<std::string> issued;
  for (const char* user : {"alice", "bob"}) {
    const auto mcp_token = token(user);
    issued.push_back(devidp::sha256_hex(mcp_token));
    const auto session = open(service_->port(), mcp_token);
    (void)call(service_->port(), mcp_token, session, "whoami");
    (void)call(service_->port(), mcp_token, session, "check_sharepoint_site_access", {{"site_name", "test-site"}});
  }
  const auto entries = idp_->graph()->log().entries();
  ASSERT_FALSE(entries.empty());
  for (const auto& entry : entries) {
    ASSERT_TRUE(entry.token.has_value()) << entry.path;
    for (const auto& hash : issued) EXPECT_NE(entry.token->sha256, hash) << "an MCP token reached Graph";
    EXPECT_TRUE(entry.token->verified);
    EXPECT_EQ(entry.token->aud, "https://graph.microsoft.com");
  }
}

TEST_F(Tier2, TheCacheOffMeansOneExchangePerCall) {
  auto config = dev_config(*idp_);
  config.exchange.cache = false;
  RunningService uncached(config);
  const auto alice = token("alice");
  const auto session = open(uncached.port(), alice);
  const auto before = exchanges("alice");
  for (int i = 0; i < 3; ++i) (void)call(uncached.port(), alice, session, "whoami");
  EXPECT_EQ(exchanges("alice") - before, 3U);
}

TEST_F(Tier2, ATokenNearExpiryIsExchangedAgain) {
  // Dev tokens live an hour (devidp::kAccessTokenLifetime); with that as the margin, every token is already
  // "near expiry" when it arrives.
  auto config = dev_config(*idp_);
  config.exchange.cache_margin = devidp::kAccessTokenLifetime;
  RunningService near_expiry(config);
  const auto alice = token("alice");
  const auto session = open(near_expiry.port(), alice);
  const auto before = exchanges("alice");
  (void)call(near_expiry.port(), alice, session, "whoami");
  (void)call(near_expiry.port(), alice, session, "whoami");
  EXPECT_EQ(exchanges("alice") - before, 2U);
}

TEST_F(Tier2, GraphDownIsAClearErrorAndTheNextCallWorksOnceItIsBack) {
  const auto alice = token("alice");
  const auto session = open(service_->port(), alice);
  auto* graph = idp_->graph_server();
  ASSERT_NE(graph, nullptr);
  graph->stop();
  auto down = result_of(call(service_->port(), alice, session, "whoami"));
  EXPECT_TRUE(is_error(down));
  EXPECT_NE(text_of(down).find("Microsoft Graph could not be reached"), std::string::npos) << text_of(down);
  // The server keeps serving: another tool of another user meanwhile.
  const auto bob = token("bob");
  const auto bob_session = open(service_->port(), bob);
  auto listed = post(service_->port(), R"({"jsonrpc":"2.0","id":3,"method":"tools/list"})", bob_session, bearer(bob));
  EXPECT_EQ(listed.result(), http::status::ok);
  ASSERT_TRUE(graph->start().has_value());
  auto back = result_of(call(service_->port(), alice, session, "whoami"));
  EXPECT_FALSE(is_error(back)) << text_of(back);
}

/// The audit file's records, parsed, and the file's text.
std::pair<std::vector<json::object>, std::string> read_audit(const fs::path& path) {
  std::ifstream file(path);
  std::stringstream text;
  text << file.rdbuf();
  std::vector<json::object> records;
  std::istringstream lines(text.str());
  std::string line;
  while (std::getline(lines, line)) records.push_back(json::parse(line).as_object());
  return {std::move(records), text.str()};
}

std::size_t count(const std::vector<json::object>& records, std::string_view event) {
  return static_cast<std::size_t>(std::ranges::count_if(records, [&](const json::object& record) {
    return record.at("event").as_string() == event;
  }));
}

TEST_F(Tier2, EveryDecisionLeavesExactlyOneRecordAndNoToken) {
  const auto path = state_ / "audit-exact.log";
  std::vector<std::string> tokens;
  constexpr int kConcurrent = 40;
  {
    auto config = dev_config(*idp_);
    config.audit.file = path.string();
    config.audit.fsync = "always";
    RunningService audited(config);
    const auto alice = token("alice");
    const auto bob = token("bob");
    const auto carol = token("carol");
    tokens = {alice, bob, carol};
    const auto alice_session = open(audited.port(), alice);
    const auto bob_session = open(audited.port(), bob);
    const auto carol_session = open(audited.port(), carol);
    (void)post(audited.port(), R"({"jsonrpc":"2.0","id":1,"method":"tools/list"})", alice_session, bearer(alice));
    (void)call(audited.port(), alice, alice_session, "check_sharepoint_site_access", {{"site_name", "test-site"}});
    (void)call(audited.port(), bob, bob_session, "test_write_tool");           // denied by role
    (void)call(audited.port(), carol, carol_session, "whoami");                // claims challenge
    (void)post(audited.port(), R"({"jsonrpc":"2.0","id":2,"method":"tools/list"})", {}, bearer("forged.token.x"));
    std::vector<std::future<void>> calls;
    for (int i = 0; i < kConcurrent; ++i) {
      calls.push_back(std::async(std::launch::async, [&] {
        (void)call(audited.port(), alice, alice_session, "whoami");
      }));
    }
    for (auto& call : calls) call.get();
  }  // stopped and drained: the trail is closed
  auto [records, text] = read_audit(path);
  EXPECT_EQ(count(records, "authn_failed"), 1U);
  EXPECT_EQ(count(records, "tools_listed"), 1U);
  EXPECT_EQ(count(records, "tool_denied"), 1U);
  EXPECT_EQ(count(records, "tool_called"), 2U + kConcurrent);
  EXPECT_EQ(count(records, "tool_result"), 2U + kConcurrent);
  EXPECT_EQ(count(records, "token_exchanged"), 2U + kConcurrent);  // hits and misses alike
  EXPECT_EQ(count(records, "downstream_call"), 1U + kConcurrent);  // carol's never went out
  for (const auto& token : tokens) EXPECT_EQ(text.find(token), std::string::npos) << "a token in the audit trail";
  // No JWT at all (a header always starts eyJ), not even an exchanged one.
  EXPECT_EQ(text.find("eyJ"), std::string::npos);
  for (const auto& record : records) {
    if (record.at("event").as_string() != "tool_denied") continue;
    EXPECT_EQ(record.at("upn").as_string(), "bob@deputy-dev.test");
  }
}

TEST_F(Tier2, DeclaredHttpToolsCallTheApiOnBehalfOfTheUser) {
  auto config = dev_config(*idp_);
  const std::string graph = idp_->graph_url();
  config.tools.push_back({.name = "my_name",
                          .description = "My display name in Graph",
                          .url = graph + "/v1.0/me",
                          .scopes = {"https://graph.microsoft.com/User.Read"},
                          .tags = {"read"},
                          .select = "/displayName"});
  config.tools.push_back({.name = "site_title",
                          .description = "A SharePoint site's title",
                          .input_schema = json::parse(R"({"type":"object","properties":{"site":{"type":"string"}},
                                                          "required":["site"]})").as_object(),
                          .url = graph + "/v1.0/sites/deputydev.sharepoint.com:/sites/{site}",
                          .scopes = {"https://graph.microsoft.com/Sites.Read.All"},
                          .required_roles = {"Task.All"},
                          .tags = {"read"},
                          .select = "/displayName",
                          .status_messages = {{403, "No access to {site}"}, {404, "No site named {site}"}}});
  RunningService declared(config);
  const auto alice = token("alice");
  const auto session = open(declared.port(), alice);
  auto me = result_of(call(declared.port(), alice, session, "my_name"));
  EXPECT_FALSE(is_error(me));
  EXPECT_EQ(text_of(me), "Alice Adams");
  auto site = result_of(call(declared.port(), alice, session, "site_title", {{"site", "test-site"}}));
  EXPECT_EQ(text_of(site), "Test Site");
  auto missing = result_of(call(declared.port(), alice, session, "site_title", {{"site", "nope"}}));
  EXPECT_TRUE(is_error(missing));
  EXPECT_EQ(text_of(missing), "No site named nope");
  // An argument cannot take the call elsewhere on the host: it stays one path segment.
  auto escape = result_of(call(declared.port(), alice, session, "site_title", {{"site", "../../../me"}}));
  EXPECT_EQ(text_of(escape), "No site named ../../../me");
  // The tool's own role: bob (Task.Read) does not see site_title at all.
  const auto bob = token("bob");
  const auto bob_session = open(declared.port(), bob);
  auto denied = call(declared.port(), bob, bob_session, "site_title", {{"site", "test-site"}});
  EXPECT_NE(denied.body().find("Unknown tool: site_title"), std::string::npos) << denied.body();
}

TEST_F(Tier2, ADeclaredToolThatCannotBeRegisteredIsAConfigurationError) {
  // A built-in name taken, or a schema that does not compile: refused at start with the tool's name, not a crash.
  auto taken = dev_config(*idp_);
  taken.tools.push_back({.name = "whoami", .url = idp_->graph_url() + "/v1.0/me"});
  EXPECT_THROW(Service service(taken), config::ConfigError);
  auto bad_schema = dev_config(*idp_);
  bad_schema.tools.push_back({.name = "odd",
                              .input_schema = json::parse(R"({"type":"object","properties":{"a":{"type":7}}})").as_object(),
                              .url = idp_->graph_url() + "/v1.0/me"});
  EXPECT_THROW(Service service(bad_schema), config::ConfigError);
}

}  // namespace
}  // namespace deputy::testing
