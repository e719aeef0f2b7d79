// The development identity provider over real TLS on loopback, driven by deputy's own HTTP client trusting
// the generated CA: discovery (with MSAL's double slash), the key set, client credentials and On-Behalf-Of,
// Entra's errors on the wire, and a client that does not trust the CA.
#include "deputy/auth/jwk.hpp"
#include "deputy/devidp/idp_server.hpp"
#include "deputy/devidp/form.hpp"
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

}  // namespace
}  // namespace deputy::testing
