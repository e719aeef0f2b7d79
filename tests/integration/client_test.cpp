// The command-line client end to end on loopback: sign-in against the development identity provider over TLS
// (the form posted over HTTP as a browser would, with and without the loopback listener), the token cache on
// disk, silent renewal with the refresh token, logout; then the MCP client against an in-process server (no
// auth, stand-in tokens, and the provider's real tokens checked by the real validator), with renewal on
// invalid_token and the claims step-up on insufficient_claims.
#include "deputy/auth/base64url.hpp"
#include "deputy/auth/http_key_fetcher.hpp"
#include "deputy/auth/token_validator.hpp"
#include "deputy/client/form_sign_in.hpp"
#include "deputy/client/login.hpp"
#include "deputy/client/mcp_client.hpp"
#include "deputy/devidp/directory_yaml.hpp"
#include "deputy/devidp/idp_server.hpp"
#include "http_client_peers.hpp"
#include "test_server.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>
#include <boost/json.hpp>

#include <atomic>
#include <fstream>

namespace deputy::testing {
namespace {

namespace fs = std::filesystem;
using client::ErrorCode;

/// A bound on every io_context run here: a bug fails the test instead of hanging it.
constexpr std::chrono::seconds kTestBound{30};

template <typename T>
T run(asio::awaitable<T> task) {
  asio::io_context context;
  std::optional<T> result;
  asio::co_spawn(
      context, [&]() -> asio::awaitable<void> { result.emplace(co_await std::move(task)); }, asio::detached);
  context.run_for(kTestBound);
  if (!result) throw std::runtime_error("the task did not finish within the test bound");
  return std::move(*result);
}

/// A free loopback port, for a second redirect URI registered on the client app (the listener binds it
/// later).
std::uint16_t free_port() {
  asio::io_context context;
  tcp::acceptor acceptor(context, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  return acceptor.local_endpoint().port();
}

/// The development provider over TLS with the built-in directory, plus a redirect URI on a port of our own.
class ClientSignIn : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = fs::temp_directory_path() / ("deputy-client-" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    listener_port_ = free_port();
    std::string yaml(devidp::default_directory_yaml());
    const std::string registered = "redirect_uris: [http://localhost:8100/auth/callback]";
    const auto at = yaml.find(registered);
    ASSERT_NE(at, std::string::npos);
    yaml.replace(at, registered.size(),
                 "redirect_uris: [http://localhost:8100/auth/callback, " + listener_redirect() + "]");
    std::ofstream(dir_ / "directory.yaml") << yaml;
    server_ = new devidp::IdpServer(
        {.directory_file = (dir_ / "directory.yaml").string(), .state_dir = dir_ / "state", .port = 0});
    if (auto listening = server_->listen(); !listening) FAIL() << listening.error();
    thread_ = new std::thread([] { server_->run(); });
  }
  static void TearDownTestSuite() {
    server_->stop();
    thread_->join();
    delete thread_;
    delete server_;
    fs::remove_all(dir_);
  }
  void SetUp() override { cache_path_ = dir_ / ("cache-" + std::to_string(++counter_)) / "msal_cache.json"; }

  static std::string listener_redirect() {
    return "http://localhost:" + std::to_string(listener_port_) + "/auth/callback";
  }
  static net::ClientOptions trusting() {
    net::ClientOptions options;
    options.extra_ca_file = (dir_ / "state" / "ca.pem").string();
    options.proxy = net::ProxySettings{};
    return options;
  }
  client::Settings settings() const {
    auto settings = client::load_settings([](std::string_view) { return std::optional<std::string>(); });
    settings.authority = server_->base_url();
    settings.ca_file = (dir_ / "state" / "ca.pem").string();
    settings.cache_path = cache_path_;
    return settings;
  }
  static client::LoginOptions alice() {
    return {.username = "alice@deputy-dev.test", .password = "dev-password-alice"};
  }

  static fs::path dir_;
  static std::uint16_t listener_port_;
  static devidp::IdpServer* server_;
  static std::thread* thread_;
  static int counter_;
  fs::path cache_path_;
};

fs::path ClientSignIn::dir_;
std::uint16_t ClientSignIn::listener_port_ = 0;
devidp::IdpServer* ClientSignIn::server_ = nullptr;
std::thread* ClientSignIn::thread_ = nullptr;
int ClientSignIn::counter_ = 0;

TEST_F(ClientSignIn, AlicesPasswordSignInIsCachedOwnerOnly) {
  net::HttpClient http(trusting());
  client::TokenCache cache(cache_path_);
  client::TokenSource tokens(settings(), http, cache);
  auto account = run(tokens.login(alice()));
  ASSERT_TRUE(account) << account.error().message;
  EXPECT_EQ(account->username, "alice@deputy-dev.test");
  EXPECT_EQ(account->name, "Alice Adams");
  EXPECT_EQ(account->home_account_id,
            "b4822fd4-5a21-4902-90ad-7430c1db4dd9.b22dd19b-fad0-4513-a43e-46a8cb3ca698");

  struct stat info {};
  ASSERT_EQ(::stat(cache_path_.c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0600U);

  // Another process (a new cache object) finds the account and its token without asking the provider.
  client::TokenCache reread(cache_path_);
  ASSERT_TRUE(reread.load());
  client::TokenSource later(settings(), http, reread);
  auto status = later.status();
  ASSERT_TRUE(status);
  EXPECT_EQ(status->account.username, "alice@deputy-dev.test");
  EXPECT_TRUE(status->has_refresh_token);
  EXPECT_GT(status->access_token_expires_on, client::Clock::now() + std::chrono::minutes(50));
  auto token = run(later.access_token());
  ASSERT_TRUE(token);
  auto claims = client::read_id_token(*token);  // an access token is a JWT too: read its claims
  ASSERT_TRUE(claims);
  EXPECT_EQ(claims->audiences, std::vector<std::string>{"d894da85-e1f8-4202-b8d8-bbfc24cbe604"});
}

TEST_F(ClientSignIn, TheRefreshTokenRenewsAnAccessTokenNearItsExpiry) {
  net::HttpClient http(trusting());
  client::TokenCache cache(cache_path_);
  auto offset = std::make_shared<std::atomic<int>>(0);  // minutes the client's clock is ahead
  client::LoginEnvironment environment{
      .now = [offset] { return client::Clock::now() + std::chrono::minutes(offset->load()); }};
  client::TokenSource tokens(settings(), http, cache, environment);
  ASSERT_TRUE(run(tokens.login(alice())));
  const auto first = run(tokens.access_token());
  ASSERT_TRUE(first);
  const auto first_refresh = cache.refresh_token(tokens.status()->account, settings().client_id);

  offset->store(30);  // half-way: the cached token is still good
  EXPECT_EQ(run(tokens.access_token()).value_or(""), *first);

  offset->store(56);  // within five minutes of expiry: renewed silently
  const auto second = run(tokens.access_token());
  ASSERT_TRUE(second) << second.error().message;
  EXPECT_NE(*second, *first);
  EXPECT_NE(cache.refresh_token(tokens.status()->account, settings().client_id), first_refresh);  // rotated
  EXPECT_GT(tokens.status()->access_token_expires_on, client::Clock::now() + std::chrono::minutes(56 + 50));

  // Saved: a new process sees the renewed token.
  client::TokenCache reread(cache_path_);
  ASSERT_TRUE(reread.load());
  EXPECT_EQ(reread.access_token(tokens.status()->account, settings().client_id, settings().scope)->secret,
            *second);
}

TEST_F(ClientSignIn, ASpentRefreshTokenMeansSignInAgain) {
  net::HttpClient http(trusting());
  client::TokenCache cache(cache_path_);
  client::TokenSource tokens(settings(), http, cache);
  ASSERT_TRUE(run(tokens.login(alice())));
  const auto account = tokens.status()->account;
  const auto spent = *cache.refresh_token(account, settings().client_id);
  ASSERT_TRUE(run(tokens.renew()));
  // Put the spent one back, as a stale copy of the cache would: the provider refuses it.
  cache.store({.account = account, .client_id = settings().client_id, .refresh_token = spent},
              client::Clock::now());
  auto renewed = run(tokens.renew());
  ASSERT_FALSE(renewed);
  EXPECT_EQ(renewed.error().code, ErrorCode::kInteractionRequired);
  EXPECT_NE(renewed.error().message.find("deputy login"), std::string::npos) << renewed.error().message;
  EXPECT_EQ(renewed.error().message.find(spent), std::string::npos);  // never the token itself
}

TEST_F(ClientSignIn, LogoutRemovesTheAccount) {
  net::HttpClient http(trusting());
  client::TokenCache cache(cache_path_);
  client::TokenSource tokens(settings(), http, cache);
  ASSERT_TRUE(run(tokens.login(alice())));
  const auto refresh = *cache.refresh_token(tokens.status()->account, settings().client_id);
  auto removed = tokens.logout();
  ASSERT_TRUE(removed);
  ASSERT_TRUE(*removed);
  EXPECT_EQ((*removed)->username, "alice@deputy-dev.test");
  EXPECT_FALSE(tokens.status());
  auto token = run(tokens.access_token());
  ASSERT_FALSE(token);
  EXPECT_EQ(token.error().code, ErrorCode::kNotSignedIn);
  std::ifstream file(cache_path_);
  std::stringstream text;
  text << file.rdbuf();
  EXPECT_EQ(text.str().find(refresh), std::string::npos);
  auto again = tokens.logout();
  ASSERT_TRUE(again);
  EXPECT_FALSE(*again);
}

TEST_F(ClientSignIn, AWrongPasswordIsAClearErrorAndCachesNothing) {
  net::HttpClient http(trusting());
  client::TokenCache cache(cache_path_);
  client::TokenSource tokens(settings(), http, cache);
  auto account = run(tokens.login({.username = "alice@deputy-dev.test", .password = "dev-password-bob"}));
  ASSERT_FALSE(account);
  EXPECT_EQ(account.error().code, ErrorCode::kSignInRefused);
  EXPECT_EQ(account.error().message, "Your account or password is incorrect. (AADSTS50126)");
  EXPECT_FALSE(fs::exists(cache_path_));
  auto nobody = run(tokens.login({.username = "mallory@deputy-dev.test", .password = "x"}));
  ASSERT_FALSE(nobody);
  EXPECT_EQ(nobody.error().code, ErrorCode::kSignInRefused);
}

TEST_F(ClientSignIn, AnUntrustedProviderIsRefusedTheHandshake) {
  net::ClientOptions options;
  options.proxy = net::ProxySettings{};
  net::HttpClient http(options);
  client::TokenCache cache(cache_path_);
  client::TokenSource tokens(settings(), http, cache);
  auto account = run(tokens.login(alice()));
  ASSERT_FALSE(account);
  EXPECT_EQ(account.error().code, ErrorCode::kNetwork);
  EXPECT_NE(account.error().message.find("tls_failed"), std::string::npos) << account.error().message;
}

TEST_F(ClientSignIn, TheBrowserPathThroughTheLoopbackListener) {
  auto with_listener = settings();
  with_listener.redirect_uri = listener_redirect();
  net::HttpClient http(trusting());
  client::TokenCache cache(cache_path_);
  client::TokenSource tokens(with_listener, http, cache);
  std::thread browser;
  std::string seen_url;
  std::optional<std::expected<client::RedirectResult, client::Error>> browser_result;
  // A step-up sign-in: the claims of the server's challenge travel in the authorize request.
  auto options = client::LoginOptions{.claims = R"({"access_token":{"amr":{"values":["mfa"]}}})",
                                      .callback_timeout = std::chrono::seconds(20)};
  options.say = [](std::string_view) {};
  // The "browser": first a forged callback (refused, the wait goes on), then the real sign-in, which delivers
  // the provider's redirect to the listener.
  options.open_browser = [&](const std::string& url) {
    seen_url = url;
    browser = std::thread([url, &browser_result] {
      const auto forged = [] {
        try {
          RawClient raw(listener_port_);
          raw.send("GET /auth/callback?code=stolen&state=guess HTTP/1.1\r\nHost: localhost\r\n\r\n");
          auto response = raw.read();
          return response ? response->result_int() : 0U;
        } catch (const std::exception&) {
          return 0U;
        }
      }();
      EXPECT_EQ(forged, 400U);
      net::HttpClient own(trusting());
      browser_result = run(client::sign_in_with_form(own, {.authorize_url = url,
                                                           .redirect_uri = listener_redirect(),
                                                           .username = "bob@deputy-dev.test",
                                                           .password = "dev-password-bob",
                                                           // The claims ask for MFA: the provider's MFA page.
                                                           .otp = "000000",
                                                           .deliver_redirect = true}));
    });
    return true;
  };
  auto account = run(tokens.login(options));
  browser.join();
  ASSERT_TRUE(account) << account.error().message;
  EXPECT_EQ(account->username, "bob@deputy-dev.test");
  ASSERT_TRUE(browser_result && *browser_result);
  EXPECT_NE(seen_url.find("prompt=select_account"), std::string::npos);
  EXPECT_NE(seen_url.find("code_challenge_method=S256"), std::string::npos);
  EXPECT_NE(seen_url.find("claims=%7B%22access_token%22%3A%7B%22amr%22"), std::string::npos) << seen_url;
}

TEST_F(ClientSignIn, NobodyComingBackEndsWithAClearMessage) {
  auto with_listener = settings();
  with_listener.redirect_uri = listener_redirect();
  net::HttpClient http(trusting());
  client::TokenCache cache(cache_path_);
  client::TokenSource tokens(with_listener, http, cache);
  std::string said;
  client::LoginOptions options{.callback_timeout = std::chrono::milliseconds(100)};
  options.open_browser = [](const std::string&) { return false; };
  options.say = [&said](std::string_view text) { said = std::string(text); };
  auto account = run(tokens.login(options));
  ASSERT_FALSE(account);
  EXPECT_EQ(account.error().code, ErrorCode::kCallbackTimeout);
  EXPECT_NE(account.error().message.find("no sign-in came back to " + listener_redirect()), std::string::npos)
      << account.error().message;
  EXPECT_TRUE(said.starts_with("Open this URL in a browser to sign in:\n" + server_->base_url())) << said;
}

TEST_F(ClientSignIn, TheListenersPortInUseIsAClearError) {
  asio::io_context context;
  tcp::acceptor busy(context, tcp::endpoint(asio::ip::make_address("127.0.0.1"), listener_port_));
  auto with_listener = settings();
  with_listener.redirect_uri = listener_redirect();
  net::HttpClient http(trusting());
  client::TokenCache cache(cache_path_);
  client::TokenSource tokens(with_listener, http, cache);
  auto account = run(tokens.login({}));
  ASSERT_FALSE(account);
  EXPECT_EQ(account.error().code, ErrorCode::kListener);
}

TEST_F(ClientSignIn, TheDeviceCodeFlowNeedsAProviderThatServesIt) {
  net::HttpClient http(trusting());
  client::TokenCache cache(cache_path_);
  client::TokenSource tokens(settings(), http, cache);
  auto account = run(tokens.login({.device_code = true}));
  ASSERT_FALSE(account);
  EXPECT_EQ(account.error().code, ErrorCode::kUnsupported);
  // The development provider's discovery names the endpoint, which it does not serve (yet).
  EXPECT_NE(account.error().message.find("does not serve it"), std::string::npos) << account.error().message;
}

// --- The MCP client

/// Stand-in tokens: a user name is a valid token (alice), anything else fails as named.
class NamedTokens final : public auth::Authenticator {
 public:
  asio::awaitable<std::expected<std::shared_ptr<const auth::Principal>, auth::Error>> authenticate(
      std::string_view token) override {
    if (token == "expired") co_return std::unexpected(auth::Error::kExpired);
    if (token != "alice") co_return std::unexpected(auth::Error::kBadSignature);
    auto principal = std::make_shared<auth::Principal>();
    principal->tenant_id = "tenant";
    principal->object_id = "alice";
    principal->username = "alice@example.com";
    principal->roles = {"Task.All"};
    principal->scopes = {"access_as_user"};
    co_return principal;
  }
};

transport::StreamableHttpOptions with(std::shared_ptr<auth::Authenticator> authenticator) {
  transport::StreamableHttpOptions options;
  options.authenticator = std::move(authenticator);
  options.resource_metadata = {.resource = "http://127.0.0.1/mcp",
                               .authorization_servers = {"https://idp/t/v2.0"},
                               .resource_name = "test"};
  return options;
}

void more_tools(mcp::Registry& registry) {
  registry.add_tool({.name = "fails", .description = "always an error result"},
                    [](const json::object&, mcp::RequestContext&) -> asio::awaitable<mcp::ToolResult> {
                      co_return mcp::ToolResult::error("it went wrong");
                    });
  for (int i = 0; i < 120; ++i) {  // past one tools/list page (100)
    registry.add_tool({.name = "filler_" + std::to_string(i), .description = "pages"},
                      [](const json::object&, mcp::RequestContext&) -> asio::awaitable<mcp::ToolResult> {
                        co_return mcp::ToolResult::text("");
                      });
  }
}

client::TokenFunction fixed(std::string token, int* calls = nullptr) {
  return [token, calls]() -> asio::awaitable<std::expected<std::string, client::Error>> {
    if (calls != nullptr) ++*calls;
    co_return token;
  };
}

std::string first_text(const json::object& result) {
  return std::string(result.at("content").at(0).at("text").as_string());
}

TEST(McpClient, ListsEveryPageCallsAndClosesItsSession) {
  TestServer server({}, {}, {}, more_tools);
  net::HttpClient http;
  client::McpClient mcp(http, server.url());
  auto outcome =
      run([&]() -> asio::awaitable<std::expected<std::pair<std::size_t, json::object>, client::Error>> {
        auto initialized = co_await mcp.initialize();
        if (!initialized) co_return std::unexpected(initialized.error());
        auto tools = co_await mcp.list_tools();
        if (!tools) co_return std::unexpected(tools.error());
        json::object arguments{{"message", "hello"}};
        auto called = co_await mcp.call_tool("echo", std::move(arguments));
        if (!called) co_return std::unexpected(called.error());
        co_return std::pair{tools->size(), *called};
      }());
  ASSERT_TRUE(outcome) << outcome.error().message;
  EXPECT_EQ(outcome->first, 2U + 1U + 120U);  // echo, sleep, fails, fillers
  EXPECT_EQ(first_text(outcome->second), "hello");
  EXPECT_FALSE(mcp.session_id().empty());
  EXPECT_EQ(server.transport().session_count(), 1U);
  run([&]() -> asio::awaitable<bool> {
    co_await mcp.close();
    co_return true;
  }());
  EXPECT_EQ(server.transport().session_count(), 0U);
}

TEST(McpClient, AnErrorResultIsAResultAndAnUnknownToolAJsonRpcError) {
  TestServer server({}, {}, {}, more_tools);
  net::HttpClient http;
  client::McpClient mcp(http, server.url());
  auto results = run([&]() -> asio::awaitable<std::pair<std::expected<json::object, client::Error>,
                                                        std::expected<json::object, client::Error>>> {
    (void)co_await mcp.initialize();
    auto failed = co_await mcp.call_tool("fails", {});
    auto unknown = co_await mcp.call_tool("nope", {});
    co_return std::pair{failed, unknown};
  }());
  ASSERT_TRUE(results.first);
  EXPECT_EQ(results.first->at("isError"), true);
  ASSERT_FALSE(results.second);
  EXPECT_EQ(results.second.error().code, ErrorCode::kMcp);
}

TEST(McpClient, ASessionTheServerForgotIsOpenedAgainOnce) {
  TestServer server;
  net::HttpClient http;
  client::McpClient mcp(http, server.url());
  ASSERT_TRUE(run(mcp.initialize()));
  const std::string first = mcp.session_id();
  server.transport().close_sessions();  // as a restarted server would have
  auto called = run([&]() -> asio::awaitable<std::expected<json::object, client::Error>> {
    json::object arguments{{"message", "again"}};
    co_return co_await mcp.call_tool("echo", std::move(arguments));
  }());
  ASSERT_TRUE(called) << called.error().message;
  EXPECT_EQ(first_text(*called), "again");
  EXPECT_NE(mcp.session_id(), first);
}

TEST(McpClient, NoTokenGoesToAPlainHttpServerElsewhere) {
  net::HttpClient http;
  int asked = 0;
  client::McpClient mcp(http, "http://mcp.example.com/mcp", {.current = fixed("alice", &asked)});
  auto initialized = run(mcp.initialize());
  ASSERT_FALSE(initialized);
  EXPECT_EQ(initialized.error().code, ErrorCode::kConfig);
  EXPECT_EQ(asked, 0);
}

TEST(McpClient, AnAnswerToAnotherRequestIsNotTakenForOurs) {
  ScriptedOrigin origin([](const SeenRequest&) {
    Reply reply;
    reply.headers.emplace_back("Content-Type", "text/event-stream");
    reply.body = "data: {\"jsonrpc\":\"2.0\",\"id\":999,\"result\":{}}\n\n";
    return reply;
  });
  net::ClientOptions options;
  options.proxy = net::ProxySettings{};
  net::HttpClient http(options);
  client::McpClient mcp(http, "http://127.0.0.1:" + std::to_string(origin.port()) + "/mcp");
  auto initialized = run(mcp.initialize());
  ASSERT_FALSE(initialized);
  EXPECT_EQ(initialized.error().code, ErrorCode::kMcp);
  EXPECT_NE(initialized.error().message.find("sent no answer"), std::string::npos)
      << initialized.error().message;
}

TEST(McpClient, AnExpiredTokenIsRenewedOnceAndTheRequestRetried) {
  TestServer server({}, with(std::make_shared<NamedTokens>()));
  net::HttpClient http;
  int renewals = 0;
  client::McpClient mcp(http, server.url(),
                        {.current = fixed("expired"), .renew = fixed("alice", &renewals)});
  auto called = run([&]() -> asio::awaitable<std::expected<json::object, client::Error>> {
    auto initialized = co_await mcp.initialize();
    if (!initialized) co_return std::unexpected(initialized.error());
    json::object arguments{{"message", "renewed"}};
    co_return co_await mcp.call_tool("echo", std::move(arguments));
  }());
  ASSERT_TRUE(called) << called.error().message;
  EXPECT_EQ(first_text(*called), "renewed");
  EXPECT_EQ(renewals, 1);
}

TEST(McpClient, ATokenRefusedAfterRenewalIsNotRetriedForever) {
  TestServer server({}, with(std::make_shared<NamedTokens>()));
  net::HttpClient http;
  int renewals = 0;
  client::McpClient mcp(http, server.url(),
                        {.current = fixed("mallory"), .renew = fixed("mallory", &renewals)});
  auto initialized = run(mcp.initialize());
  ASSERT_FALSE(initialized);
  EXPECT_EQ(initialized.error().code, ErrorCode::kUnauthorized);
  EXPECT_EQ(renewals, 1);
  EXPECT_EQ(initialized.error().message.find("mallory"), std::string::npos);
}

TEST(McpClient, AClaimsChallengeSignsInAgainWithTheClaimsAndRetries) {
  // {"access_token":{"acrs":{"essential":true,"value":"c1"}}}, as a server relays Entra's AADSTS50076
  // challenge; the answer after the step-up comes as an SSE stream with a progress notification first.
  constexpr std::string_view kClaims =
      "eyJhY2Nlc3NfdG9rZW4iOnsiYWNycyI6eyJlc3NlbnRpYWwiOnRydWUsInZhbHVlIjoiYzEifX19";
  ScriptedOrigin origin([&](const SeenRequest& seen) {
    Reply reply;
    const auto body = json::parse(seen.body).as_object();
    const std::string method(body.at("method").as_string());
    if (method == "notifications/initialized") {
      reply.status = http::status::accepted;
      return reply;
    }
    const auto id = body.at("id");
    reply.headers.emplace_back("Content-Type", "application/json");
    if (method == "initialize") {
      reply.headers.emplace_back("Mcp-Session-Id", "s-1");
      reply.body = json::serialize(
          json::object{{"jsonrpc", "2.0"},
                       {"id", id},
                       {"result", {{"protocolVersion", "2025-06-18"}, {"capabilities", json::object()}}}});
      return reply;
    }
    const std::string authorization(seen.headers[http::field::authorization]);
    if (authorization != "Bearer stepped-up") {
      reply.status = http::status::unauthorized;
      reply.headers.emplace_back("WWW-Authenticate", R"(Bearer error="insufficient_claims", claims=")" +
                                                         std::string(kClaims) + R"(")");
      reply.body = "{}";
      return reply;
    }
    reply.headers[0].second = "text/event-stream";
    reply.body = "event: message\ndata: " +
                 json::serialize(json::object{{"jsonrpc", "2.0"},
                                              {"method", "notifications/progress"},
                                              {"params", {{"progressToken", 1}, {"progress", 1}}}}) +
                 "\n\nevent: message\ndata: " +
                 json::serialize(json::object{
                     {"jsonrpc", "2.0"},
                     {"id", id},
                     {"result", {{"content", json::array{{{"type", "text"}, {"text", "sites"}}}}}}}) +
                 "\n\n";
    return reply;
  });
  net::ClientOptions options;
  options.proxy = net::ProxySettings{};
  net::HttpClient http(options);
  std::vector<std::string> step_ups;
  client::Credentials credentials{.current = fixed("first")};
  credentials.step_up =
      [&step_ups](std::string claims) -> asio::awaitable<std::expected<std::string, client::Error>> {
    step_ups.push_back(std::move(claims));
    co_return std::string("stepped-up");
  };
  client::McpClient mcp(http, "http://127.0.0.1:" + std::to_string(origin.port()) + "/mcp", credentials);
  auto called = run([&]() -> asio::awaitable<std::expected<json::object, client::Error>> {
    auto initialized = co_await mcp.initialize();
    if (!initialized) co_return std::unexpected(initialized.error());
    co_return co_await mcp.call_tool("check_sharepoint_site_access", {});
  }());
  ASSERT_TRUE(called) << called.error().message;
  EXPECT_EQ(first_text(*called), "sites");
  ASSERT_EQ(step_ups.size(), 1U);
  EXPECT_EQ(step_ups[0], R"({"access_token":{"acrs":{"essential":true,"value":"c1"}}})");
  const auto seen = origin.requests();
  ASSERT_EQ(seen.size(), 4U);  // initialize, initialized, the refused call, the retried call
  EXPECT_EQ(seen[3].headers["Mcp-Session-Id"], "s-1");
  EXPECT_EQ(seen[3].headers["MCP-Protocol-Version"], "2025-06-18");
}

TEST_F(ClientSignIn, TheProvidersTokenIsAcceptedByTheRealValidator) {
  // Sign in as alice, then call a server that validates tokens against the provider's keys (Tier 1 as
  // `deputy serve` configures it for the development provider).
  net::HttpClient http(trusting());
  client::TokenCache cache(cache_path_);
  client::TokenSource tokens(settings(), http, cache);
  ASSERT_TRUE(run(tokens.login(alice())));

  net::HttpClient keys_http(trusting());
  const std::string tenant = "b22dd19b-fad0-4513-a43e-46a8cb3ca698";
  auth::ValidatorOptions validator;
  validator.issuers = {server_->provider().issuer().issuer_v2()};
  validator.tenant_id = tenant;
  validator.audiences = {"d894da85-e1f8-4202-b8d8-bbfc24cbe604",
                         "api://d894da85-e1f8-4202-b8d8-bbfc24cbe604"};
  validator.required_scopes = {"access_as_user"};
  validator.jwks_uri = server_->base_url() + "/" + tenant + "/discovery/v2.0/keys";
  auto authenticator = std::make_shared<auth::TokenValidator>(
      validator, std::make_shared<auth::HttpKeyFetcher>(keys_http, validator.jwks_uri, ""));
  TestServer mcp_server({}, with(authenticator));

  client::McpClient mcp(http, mcp_server.url(),
                        {.current = [&tokens] { return tokens.access_token(); },
                         .renew = [&tokens] { return tokens.renew(); }});
  auto called = run([&]() -> asio::awaitable<std::expected<json::object, client::Error>> {
    auto initialized = co_await mcp.initialize();
    if (!initialized) co_return std::unexpected(initialized.error());
    json::object arguments{{"message", "from alice"}};
    co_return co_await mcp.call_tool("echo", std::move(arguments));
  }());
  ASSERT_TRUE(called) << called.error().message;
  EXPECT_EQ(first_text(*called), "from alice");
}

// --- A provider that misbehaves: every check of the sign-in, tried from the other side.

namespace hostile {

constexpr std::string_view kTenant = "tenant";
constexpr std::string_view kClient = "client-id";

std::string query_value(std::string_view target, std::string_view name) {
  const auto question = target.find('?');
  if (question == std::string_view::npos) return {};
  auto fields = client::parse_query(target.substr(question + 1));
  if (!fields) return {};
  for (const auto& [key, value] : *fields) {
    if (key == name) return value;
  }
  return {};
}

std::string unsigned_jwt(const json::object& claims) {
  return auth::base64url_encode(R"({"alg":"RS256"})") + "." +
         auth::base64url_encode(json::serialize(claims)) + ".c2ln";
}

/// What the provider does wrong.
struct Misbehaviour {
  std::string authorize_location;  // "": a redirect with the request's state and a code
  std::string login_page;          // non-empty: answer the authorize GET with this page instead
  std::string id_token_nonce;      // "": the request's nonce
  std::string id_token_audience = std::string(kClient);
  std::string token_endpoint;  // "": this origin's
};

class HostileProvider {
 public:
  explicit HostileProvider(Misbehaviour misbehaviour)
      : misbehaviour_(std::move(misbehaviour)),
        origin_([this](const SeenRequest& seen) { return answer(seen); }) {}

  [[nodiscard]] std::string base() const { return "http://127.0.0.1:" + std::to_string(origin_.port()); }
  [[nodiscard]] std::vector<SeenRequest> requests() const { return origin_.requests(); }

 private:
  Reply answer(const SeenRequest& seen) {
    Reply reply;
    reply.headers.emplace_back("Content-Type", "application/json");
    const std::string path = seen.target.substr(0, seen.target.find('?'));
    const std::string prefix = "/" + std::string(kTenant);
    if (path == prefix + "/v2.0/.well-known/openid-configuration") {
      const std::string token = misbehaviour_.token_endpoint.empty() ? base() + prefix + "/oauth2/v2.0/token"
                                                                     : misbehaviour_.token_endpoint;
      reply.body =
          json::serialize(json::object{{"issuer", base() + prefix + "/v2.0"},
                                       {"authorization_endpoint", base() + prefix + "/oauth2/v2.0/authorize"},
                                       {"token_endpoint", token}});
      return reply;
    }
    if (path == prefix + "/oauth2/v2.0/authorize") {
      nonce_ = query_value(seen.target, "nonce");
      if (!misbehaviour_.login_page.empty()) {
        reply.headers[0].second = "text/html";
        reply.body = misbehaviour_.login_page;
        return reply;
      }
      reply.status = http::status::found;
      const std::string location = misbehaviour_.authorize_location.empty()
                                       ? query_value(seen.target, "redirect_uri") +
                                             "?code=c0de&state=" + query_value(seen.target, "state")
                                       : misbehaviour_.authorize_location;
      reply.headers.emplace_back("Location", location);
      return reply;
    }
    if (path == prefix + "/oauth2/v2.0/token") {
      const auto now = std::chrono::duration_cast<std::chrono::seconds>(
                           std::chrono::system_clock::now().time_since_epoch())
                           .count();
      json::object claims{
          {"iss", base() + prefix + "/v2.0"},
          {"aud", misbehaviour_.id_token_audience},
          {"nonce", misbehaviour_.id_token_nonce.empty() ? nonce_ : misbehaviour_.id_token_nonce},
          {"oid", "oid"},
          {"tid", "tid"},
          {"preferred_username", "someone@example.com"},
          {"exp", now + 3600}};
      reply.body = json::serialize(json::object{{"token_type", "Bearer"},
                                                {"access_token", "at"},
                                                {"expires_in", 3600},
                                                {"refresh_token", "rt"},
                                                {"id_token", unsigned_jwt(claims)}});
      return reply;
    }
    reply.status = http::status::not_found;
    return reply;
  }

  Misbehaviour misbehaviour_;
  std::string nonce_;  // touched only by the origin's one thread
  ScriptedOrigin origin_;
};

struct Outcome {
  std::expected<client::Account, client::Error> account;
  bool cache_written = false;
};

Outcome sign_in_at(const HostileProvider& provider) {
  const auto dir = fs::temp_directory_path() / ("deputy-hostile-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  client::Settings settings{.authority = provider.base(),
                            .tenant_id = std::string(kTenant),
                            .client_id = std::string(kClient),
                            .scope = "api://server/access_as_user",
                            .redirect_uri = "http://localhost:8100/auth/callback",
                            .cache_path = dir / "cache.json"};
  net::ClientOptions options;
  options.proxy = net::ProxySettings{};
  net::HttpClient http(options);
  client::TokenCache cache(settings.cache_path);
  client::TokenSource tokens(settings, http, cache);
  Outcome outcome{.account =
                      run(tokens.login({.username = "someone@example.com", .password = "secret-password"}))};
  outcome.cache_written = fs::exists(settings.cache_path);
  fs::remove_all(dir);
  return outcome;
}

bool token_endpoint_called(const HostileProvider& provider) {
  for (const auto& seen : provider.requests()) {
    if (seen.target.find("/oauth2/v2.0/token") != std::string::npos) return true;
  }
  return false;
}

TEST(HostileProvider, AWellBehavedOneSignsIn) {
  HostileProvider provider({});
  auto outcome = sign_in_at(provider);
  ASSERT_TRUE(outcome.account) << outcome.account.error().message;
  EXPECT_TRUE(outcome.cache_written);
}

TEST(HostileProvider, ARedirectWithAnotherStateIsRefusedBeforeTheCodeIsRedeemed) {
  HostileProvider provider(
      {.authorize_location = "http://localhost:8100/auth/callback?code=c0de&state=other"});
  auto outcome = sign_in_at(provider);
  ASSERT_FALSE(outcome.account);
  EXPECT_EQ(outcome.account.error().code, ErrorCode::kSignInRefused);
  EXPECT_FALSE(token_endpoint_called(provider));
  EXPECT_FALSE(outcome.cache_written);
}

TEST(HostileProvider, AnIdTokenWithAnotherNonceOrAudienceIsRefusedAndNothingCached) {
  for (const auto& misbehaviour :
       {Misbehaviour{.id_token_nonce = "replayed"}, Misbehaviour{.id_token_audience = "another-client"}}) {
    HostileProvider provider(misbehaviour);
    auto outcome = sign_in_at(provider);
    ASSERT_FALSE(outcome.account);
    EXPECT_EQ(outcome.account.error().code, ErrorCode::kBadTokenResponse);
    EXPECT_FALSE(outcome.cache_written);
  }
}

TEST(HostileProvider, ARedirectToAnotherSiteIsNotFollowed) {
  HostileProvider provider({.authorize_location = "http://127.0.0.2:1/collect?x=1"});
  auto outcome = sign_in_at(provider);
  ASSERT_FALSE(outcome.account);
  EXPECT_EQ(outcome.account.error().code, ErrorCode::kSignInRefused);
  EXPECT_NE(outcome.account.error().message.find("another site"), std::string::npos);
}

TEST(HostileProvider, APasswordIsNeverPostedToAnotherSite) {
  HostileProvider provider({.login_page = R"(<form method="post" action="http://127.0.0.2:1/steal">
      <input type="text" name="login"><input type="password" name="passwd"></form>)"});
  auto outcome = sign_in_at(provider);
  ASSERT_FALSE(outcome.account);
  EXPECT_EQ(outcome.account.error().code, ErrorCode::kSignInRefused);
  for (const auto& seen : provider.requests())
    EXPECT_EQ(seen.body.find("secret-password"), std::string::npos);
}

TEST(HostileProvider, APageAskingForMoreThanAPasswordEndsTheNonInteractiveSignIn) {
  HostileProvider provider({.login_page = R"(<p class="error">Approve the sign-in on your phone</p>
      <form method="post" action="/tenant/oauth2/v2.0/authorize"><input name="otc" type="tel"></form>)"});
  auto outcome = sign_in_at(provider);
  ASSERT_FALSE(outcome.account);
  EXPECT_EQ(outcome.account.error().code, ErrorCode::kUnsupported);
  EXPECT_NE(outcome.account.error().message.find("'otc'"), std::string::npos)
      << outcome.account.error().message;
}

TEST(HostileProvider, ATokenEndpointInTheClearElsewhereIsRefusedAtDiscovery) {
  HostileProvider provider({.token_endpoint = "http://login.example.com/tenant/oauth2/v2.0/token"});
  auto outcome = sign_in_at(provider);
  ASSERT_FALSE(outcome.account);
  EXPECT_EQ(outcome.account.error().code, ErrorCode::kDiscovery);
}

}  // namespace hostile

}  // namespace
}  // namespace deputy::testing
