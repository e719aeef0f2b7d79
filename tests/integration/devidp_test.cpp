// The development identity provider over real TLS on loopback, driven by deputy's own HTTP client trusting
// the generated CA: discovery (with MSAL's double slash), the key set, client credentials and On-Behalf-Of,
// Entra's errors on the wire, and a client that does not trust the CA; the dev Graph on its own listener
// (On-Behalf-Of through the real token endpoint, then Graph with the result, its request log, a stop and a
// restart on the same port), and the admin hooks (stats, key rotation).
#include "deputy/auth/jwk.hpp"
#include "deputy/devidp/idp_server.hpp"
#include "deputy/devidp/form.hpp"
#include "deputy/devidp/request_log.hpp"
#include "deputy/net/http_client.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/json.hpp>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <thread>

namespace deputy::testing {
namespace {

namespace asio = boost::asio;
namespace json = boost::json;
namespace fs = std::filesystem;
using Result = std::expected<net::ClientResponse, net::ClientError>;

std::string_view str(const json::value& value) {
  return value.is_string() ? std::string_view(value.get_string()) : std::string_view();
}

constexpr std::string_view kTenant = "b22dd19b-fad0-4513-a43e-46a8cb3ca698";
constexpr std::string_view kServerId = "d894da85-e1f8-4202-b8d8-bbfc24cbe604";
constexpr std::string_view kClientId = "37d1e7dc-e348-4df1-80dc-69156bdc1273";

/// One provider per test suite: key generation is the slow part.
class DevIdp : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    state_ = fs::temp_directory_path() / ("deputy-devidp-" + std::to_string(::getpid()));
    fs::remove_all(state_);
    server_ = new devidp::IdpServer({.state_dir = state_, .port = 0});
    if (auto listening = server_->listen(); !listening) FAIL() << listening.error();
    thread_ = new std::thread([] { server_->run(); });
  }
  static void TearDownTestSuite() {
    server_->stop();
    thread_->join();
    delete thread_;
    delete server_;
    fs::remove_all(state_);
  }

  static Result send(net::HttpClient& client, net::ClientRequest request) {
    asio::io_context context;
    std::optional<Result> result;
    asio::co_spawn(
        context,
        [&client, &result, request = std::move(request)]() mutable -> asio::awaitable<void> {
          result = co_await client.send(std::move(request));
        },
        asio::detached);
    context.run_for(std::chrono::seconds(20));
    if (!result) return std::unexpected(net::ClientError::timeout);
    return std::move(*result);
  }
  static net::ClientOptions trusting() {
    net::ClientOptions options;
    options.extra_ca_file = (state_ / "ca.pem").string();
    options.proxy = net::ProxySettings{};
    return options;
  }
  static std::string url(std::string_view path) { return server_->base_url() + std::string(path); }
  static Result post_form(net::HttpClient& client, std::string_view path, const std::vector<std::pair<std::string, std::string>>& fields) {
    net::ClientRequest request;
    request.method = boost::beast::http::verb::post;
    request.url = url(path);
    for (const auto& [name, value] : fields) {
      request.body += (request.body.empty() ? "" : "&") + devidp::form_encode(name) + "=" + devidp::form_encode(value);
    }
    request.headers.push_back({"Content-Type", "application/x-www-form-urlencoded"});
    request.headers.push_back({"client-request-id", "0f8fad5b-d9cb-469f-a165-70867728950e"});
    return send(client, std::move(request));
  }

  static Result get(net::HttpClient& client, std::string url, std::string_view token = {},
                    std::vector<net::ClientHeader> headers = {}) {
    net::ClientRequest request;
    request.url = std::move(url);
    request.headers = std::move(headers);
    if (!token.empty()) request.headers.push_back({"Authorization", "Bearer " + std::string(token)});
    return send(client, std::move(request));
  }
  /// alice's (or another user's) Graph token, by On-Behalf-Of through the real token endpoint.
  static std::string obo_graph_token(net::HttpClient& client, std::string_view user) {
    auto assertion = server_->provider().mint_user_token(user);
    EXPECT_TRUE(assertion);
    auto obo = post_form(client, "/" + std::string(kTenant) + "/oauth2/v2.0/token",
                         {{"grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"},
                          {"client_id", std::string(kServerId)},
                          {"client_secret", "dev-server-secret-not-for-production"},
                          {"assertion", assertion ? *assertion : std::string()},
                          {"scope", "https://graph.microsoft.com/.default"},
                          {"requested_token_use", "on_behalf_of"}});
    EXPECT_TRUE(obo && obo->status == 200U) << (obo ? obo->body : net::to_string(obo.error()));
    if (!obo || obo->status != 200U) return {};
    return std::string(json::parse(obo->body).at("access_token").as_string());
  }

  static fs::path state_;
  static devidp::IdpServer* server_;
  static std::thread* thread_;
};

fs::path DevIdp::state_;
devidp::IdpServer* DevIdp::server_ = nullptr;
std::thread* DevIdp::thread_ = nullptr;

TEST_F(DevIdp, DiscoveryOverTlsWithTheGeneratedCaAndMsalsDoubleSlash) {
  net::HttpClient client(trusting());
  net::ClientRequest request;
  request.url = url("/" + std::string(kTenant) + "//v2.0/.well-known/openid-configuration");
  auto response = send(client, request);
  ASSERT_TRUE(response) << net::to_string(response.error());
  EXPECT_EQ(response->status, 200U);
  const auto config = json::parse(response->body).as_object();
  EXPECT_EQ(str(config.at("issuer")), server_->base_url() + "/" + std::string(kTenant) + "/v2.0");
  EXPECT_TRUE(config.at("token_endpoint").as_string().starts_with("https://127.0.0.1:"));
  EXPECT_EQ(response->header("Cache-Control"), "no-store, no-cache");

  // The advertised jwks_uri serves a set deputy's own JWKS parser takes whole.
  request.url = std::string(config.at("jwks_uri").as_string());
  auto keys = send(client, request);
  ASSERT_TRUE(keys);
  auto set = auth::parse_jwks(keys->body);
  ASSERT_TRUE(set);
  EXPECT_EQ(set->size(), 2U);
  EXPECT_TRUE(set->skipped().empty());
}

TEST_F(DevIdp, ClientCredentialsThenOnBehalfOfOverTheWire) {
  net::HttpClient client(trusting());
  const std::string token_path = "/" + std::string(kTenant) + "/oauth2/v2.0/token";
  auto app = post_form(client, token_path,
                       {{"grant_type", "client_credentials"},
                        {"client_id", std::string(kClientId)},
                        {"client_secret", "dev-client-secret-not-for-production"},
                        {"scope", "api://" + std::string(kServerId) + "/.default"}});
  ASSERT_TRUE(app);
  EXPECT_EQ(app->status, 200U) << app->body;

  auto alice = server_->provider().mint_user_token("alice");
  ASSERT_TRUE(alice);
  auto obo = post_form(client, token_path,
                       {{"grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"},
                        {"client_id", std::string(kServerId)},
                        {"client_secret", "dev-server-secret-not-for-production"},
                        {"assertion", *alice},
                        {"scope", "https://graph.microsoft.com/.default"},
                        {"requested_token_use", "on_behalf_of"}});
  ASSERT_TRUE(obo);
  ASSERT_EQ(obo->status, 200U) << obo->body;
  const auto body = json::parse(obo->body).as_object();
  EXPECT_EQ(body.at("token_type"), "Bearer");
  EXPECT_EQ(body.at("scope"), "https://graph.microsoft.com/Sites.Read.All https://graph.microsoft.com/User.Read");
}

TEST_F(DevIdp, ErrorsComeBackEntraShapedWithTheCorrelationId) {
  net::HttpClient client(trusting());
  auto wrong = post_form(client, "/" + std::string(kTenant) + "/oauth2/v2.0/token",
                         {{"grant_type", "client_credentials"},
                          {"client_id", std::string(kServerId)},
                          {"client_secret", "wrong"},
                          {"scope", "https://graph.microsoft.com/.default"}});
  ASSERT_TRUE(wrong);
  EXPECT_EQ(wrong->status, 401U);
  auto body = json::parse(wrong->body).as_object();
  EXPECT_EQ(body.at("error"), "invalid_client");
  EXPECT_EQ(body.at("error_codes"), json::array({7000215}));
  EXPECT_EQ(body.at("correlation_id"), "0f8fad5b-d9cb-469f-a165-70867728950e");

  auto tenant = post_form(client, "/contoso.example/oauth2/v2.0/token", {{"grant_type", "client_credentials"}});
  ASSERT_TRUE(tenant);
  EXPECT_EQ(tenant->status, 400U);
  EXPECT_EQ(json::parse(tenant->body).at("error_codes"), json::array({90002}));
}

TEST_F(DevIdp, AClientThatDoesNotTrustTheCaIsRefusedTheHandshake) {
  net::ClientOptions options;
  options.proxy = net::ProxySettings{};
  net::HttpClient client(options);
  net::ClientRequest request;
  request.url = url("/" + std::string(kTenant) + "/discovery/v2.0/keys");
  auto response = send(client, request);
  ASSERT_FALSE(response);
  EXPECT_EQ(response.error(), net::ClientError::tls_failed);
}

TEST_F(DevIdp, TheBoundUrlIsRecordedForMintToken) {
  EXPECT_EQ(devidp::recorded_base_url(state_), server_->base_url());
  EXPECT_NE(server_->describe().find("REQUESTS_CA_BUNDLE=" + (state_ / "ca.pem").string()), std::string::npos);
  EXPECT_EQ(server_->describe().find("dev-server-secret"), std::string::npos);
  EXPECT_EQ(server_->describe().find("dev-password"), std::string::npos);
}

constexpr std::string_view kSitePath = "/v1.0/sites/deputydev.sharepoint.com:/sites/test-site";

TEST_F(DevIdp, OnBehalfOfThenGraphEnforcesEachUsersOwnAccessAndLogsTheTokens) {
  net::HttpClient client(trusting());
  ASSERT_FALSE(server_->graph_url().empty());
  EXPECT_TRUE(server_->graph_url().starts_with("https://127.0.0.1:"));
  EXPECT_NE(server_->graph_url(), server_->base_url());
  ASSERT_NE(server_->graph(), nullptr);
  auto cleared = send(client, {.method = boost::beast::http::verb::delete_, .url = server_->graph_url() + "/_dev/requests"});
  ASSERT_TRUE(cleared);
  EXPECT_EQ(cleared->status, 204U);

  const auto alice = obo_graph_token(client, "alice");
  const auto bob = obo_graph_token(client, "bob");
  auto site = get(client, server_->graph_url() + std::string(kSitePath), alice);
  ASSERT_TRUE(site) << net::to_string(site.error());
  ASSERT_EQ(site->status, 200U) << site->body;
  EXPECT_EQ(json::parse(site->body).at("displayName"), "Test Site");
  auto me = get(client, server_->graph_url() + "/v1.0/me", alice);
  ASSERT_TRUE(me);
  EXPECT_EQ(json::parse(me->body).at("userPrincipalName"), "alice@deputy-dev.test");

  auto denied = get(client, server_->graph_url() + std::string(kSitePath), bob);
  ASSERT_TRUE(denied);
  EXPECT_EQ(denied->status, 403U);
  EXPECT_EQ(json::parse(denied->body).at("error").at("code"), "accessDenied");

  // alice's own MCP token, passed through by mistake instead of exchanged: refused with a challenge.
  const auto mcp_token = server_->provider().mint_user_token("alice");
  ASSERT_TRUE(mcp_token);
  auto wrong = get(client, server_->graph_url() + std::string(kSitePath), *mcp_token);
  ASSERT_TRUE(wrong);
  EXPECT_EQ(wrong->status, 401U);
  ASSERT_TRUE(wrong->header("WWW-Authenticate"));
  EXPECT_TRUE(wrong->header("WWW-Authenticate")->starts_with("Bearer "));

  // The log over HTTP: four requests, each token by its hash and claims.
  auto log = get(client, server_->graph_url() + "/_dev/requests");
  ASSERT_TRUE(log);
  ASSERT_EQ(log->status, 200U);
  EXPECT_EQ(log->body.find(alice), std::string::npos);
  const auto requests = json::parse(log->body).at("requests").as_array();
  ASSERT_EQ(requests.size(), 4U) << log->body;
  EXPECT_EQ(requests[0].at("status"), 200);
  EXPECT_EQ(str(requests[0].at("token").at("sha256")), devidp::sha256_hex(alice));
  EXPECT_EQ(requests[0].at("token").at("aud"), "https://graph.microsoft.com");
  EXPECT_EQ(str(requests[0].at("token").at("appid")), kServerId);
  EXPECT_EQ(requests[2].at("status"), 403);
  EXPECT_EQ(str(requests[2].at("token").at("sha256")), devidp::sha256_hex(bob));
  EXPECT_EQ(requests[3].at("status"), 401);
  EXPECT_EQ(requests[3].at("reason"), "wrong_audience");
  EXPECT_EQ(str(requests[3].at("token").at("aud")), kServerId);
  // The same, in-process.
  const auto entries = server_->graph()->log().entries();
  ASSERT_EQ(entries.size(), 4U);
  EXPECT_EQ(entries[1].path, "/v1.0/me");

  // A web page's request (Origin) does not reach the hooks.
  auto from_page = get(client, server_->graph_url() + "/_dev/requests", {}, {{"Origin", "https://evil.example"}});
  ASSERT_TRUE(from_page);
  EXPECT_EQ(from_page->status, 404U);
}

TEST_F(DevIdp, TheGraphServerStopsAndStartsAgainOnTheSamePort) {
  net::HttpClient client(trusting());
  const auto alice = obo_graph_token(client, "alice");
  auto* graph = server_->graph_server();
  ASSERT_NE(graph, nullptr);
  const auto port = graph->port();
  const auto url = server_->graph_url();
  ASSERT_EQ(get(client, url + std::string(kSitePath), alice)->status, 200U);

  graph->stop();
  EXPECT_FALSE(graph->running());
  auto down = get(client, url + std::string(kSitePath), alice);
  ASSERT_FALSE(down);
  EXPECT_EQ(down.error(), net::ClientError::connect_failed);
  // The identity provider itself goes on serving.
  auto keys = get(client, server_->base_url() + "/" + std::string(kTenant) + "/discovery/v2.0/keys");
  ASSERT_TRUE(keys);
  EXPECT_EQ(keys->status, 200U);

  ASSERT_TRUE(graph->start());
  EXPECT_EQ(graph->port(), port);
  EXPECT_EQ(server_->graph_url(), url);
  auto up = get(client, url + std::string(kSitePath), alice);
  ASSERT_TRUE(up) << net::to_string(up.error());
  EXPECT_EQ(up->status, 200U);
}

TEST_F(DevIdp, StatsCountTheGrantsAndRotationChangesTheSignerOverTheWire) {
  net::HttpClient client(trusting());
  auto reset = send(client, {.method = boost::beast::http::verb::delete_, .url = url("/_dev/stats")});
  ASSERT_TRUE(reset);
  EXPECT_EQ(reset->status, 204U);
  (void)obo_graph_token(client, "alice");
  (void)obo_graph_token(client, "alice");
  auto stats = get(client, url("/_dev/stats"));
  ASSERT_TRUE(stats);
  ASSERT_EQ(stats->status, 200U);
  const auto body = json::parse(stats->body).as_object();
  EXPECT_EQ(body.at("issued").at("on_behalf_of"), 2);
  EXPECT_EQ(server_->provider().stats().snapshot().count(devidp::GrantType::kOnBehalfOf, "server", "alice"), 2U);

  const std::string before(body.at("signing_keys").at("active_kid").as_string());
  auto rotated = send(client, {.method = boost::beast::http::verb::post, .url = url("/_dev/keys/rotate")});
  ASSERT_TRUE(rotated);
  ASSERT_EQ(rotated->status, 200U) << rotated->body;
  const auto after = json::parse(rotated->body).as_object();
  EXPECT_NE(str(after.at("active_kid")), before);
  EXPECT_EQ(after.at("published_kids").as_array().at(1), before.c_str());
  auto keys = get(client, url("/" + std::string(kTenant) + "/discovery/v2.0/keys"));
  ASSERT_TRUE(keys);
  auto set = auth::parse_jwks(keys->body);
  ASSERT_TRUE(set);
  EXPECT_EQ(set->size(), 2U);
  EXPECT_TRUE(set->find(after.at("active_kid").as_string()));
  EXPECT_TRUE(set->find(before));
  // The Graph follows: a token of the new key is accepted.
  const auto alice = obo_graph_token(client, "alice");
  EXPECT_EQ(get(client, server_->graph_url() + std::string(kSitePath), alice)->status, 200U);
}

}  // namespace
}  // namespace deputy::testing
