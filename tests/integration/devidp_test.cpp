// The development identity provider over real TLS on loopback, driven by deputy's own HTTP client trusting
// the generated CA: discovery (with MSAL's double slash), the key set, client credentials and On-Behalf-Of,
// Entra's errors on the wire, and a client that does not trust the CA; the dev Graph on its own listener
// (On-Behalf-Of through the real token endpoint, then Graph with the result, its request log, a stop and a
// restart on the same port), and the admin hooks (stats, key rotation).
#include "deputy/auth/jwk.hpp"
#include "deputy/net/percent_encoding.hpp"
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
#include <functional>
#include <map>
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
      request.body += (request.body.empty() ? "" : "&") + net::percent_encode(name) + "=" + net::percent_encode(value);
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
  EXPECT_EQ(body.at("scope"), "https://graph.microsoft.com/Sites.Read.All https://graph.microsoft.com/User.Read https://graph.microsoft.com/.default");
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

/// A browser over the wire: the cookies the provider sets are sent back; the pages' forms are posted with
/// their CSRF token.
class WireBrowser {
 public:
  using Fields = std::vector<std::pair<std::string, std::string>>;
  explicit WireBrowser(std::function<Result(net::ClientRequest)> send) : send_(std::move(send)) {}

  Result get(const std::string& url) {
    net::ClientRequest request;
    request.url = url;
    return exchange(std::move(request));
  }
  Result submit(const std::string& page, const std::string& action, Fields fields) {
    fields.emplace_back("csrf", input(page, "csrf"));
    net::ClientRequest request;
    request.method = boost::beast::http::verb::post;
    request.url = action;
    request.body = encode(fields);
    request.headers.push_back({"Content-Type", "application/x-www-form-urlencoded"});
    return exchange(std::move(request));
  }
  static std::string input(const std::string& page, std::string_view name) {
    const std::string marker = "name=\"" + std::string(name) + "\" value=\"";
    const auto at = page.find(marker);
    if (at == std::string::npos) return {};
    const auto start = at + marker.size();
    return page.substr(start, page.find('"', start) - start);
  }
  static std::string encode(const Fields& fields) {
    std::string out;
    for (const auto& [name, value] : fields) {
      out += (out.empty() ? "" : "&") + net::percent_encode(name) + "=" + net::percent_encode(value);
    }
    return out;
  }
  std::vector<std::string> set_cookies;  // every Set-Cookie seen, as sent

 private:
  Result exchange(net::ClientRequest request) {
    std::string cookie;
    for (const auto& [name, value] : cookies_) cookie += (cookie.empty() ? "" : "; ") + name + "=" + value;
    if (!cookie.empty()) request.headers.push_back({"Cookie", cookie});
    auto response = send_(std::move(request));
    if (response) {
      for (const auto& header : response->headers) {
        if (!boost::beast::iequals(header.name, "Set-Cookie")) continue;
        set_cookies.push_back(header.value);
        const auto equals = header.value.find('=');
        cookies_[header.value.substr(0, equals)] = header.value.substr(equals + 1, header.value.find(';') - equals - 1);
      }
    }
    return response;
  }
  std::function<Result(net::ClientRequest)> send_;
  std::map<std::string, std::string> cookies_;
};

/// The code (and the rest) of a redirect to the client.
std::map<std::string, std::string> redirect_query(const net::ClientResponse& response) {
  std::map<std::string, std::string> out;
  const auto location = std::string(response.header("Location").value_or(""));
  const auto question = location.find('?');
  if (question == std::string::npos) return out;
  auto form = devidp::parse_form(std::string_view(location).substr(question + 1));
  if (form) {
    for (const auto& [name, value] : form->fields()) out[name] = value;
  }
  return out;
}

TEST_F(DevIdp, TheSignInPagesOverTlsWithTheSessionCookieAndCarolsMfaStep) {
  net::HttpClient client(trusting());
  WireBrowser browser([&client](net::ClientRequest request) { return send(client, std::move(request)); });
  const std::string tenant(kTenant);
  const std::string action = url("/" + tenant + "/oauth2/v2.0/authorize");
  const std::string redirect = "http://localhost:8100/auth/callback";
  const std::string challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";  // RFC 7636 appendix B
  const std::string verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
  auto authorize_url = [&](WireBrowser::Fields extra) {
    WireBrowser::Fields fields{{"client_id", std::string(kClientId)},
                               {"response_type", "code"},
                               {"redirect_uri", redirect},
                               {"scope", "api://" + std::string(kServerId) + "/access_as_user openid offline_access"},
                               {"state", "wire"},
                               {"code_challenge", challenge},
                               {"code_challenge_method", "S256"}};
    fields.insert(fields.end(), extra.begin(), extra.end());
    return action + "?" + WireBrowser::encode(fields);
  };
  auto redeem = [&](const std::string& code) {
    return post_form(client, "/" + tenant + "/oauth2/v2.0/token",
                     {{"grant_type", "authorization_code"},
                      {"client_id", std::string(kClientId)},
                      {"client_secret", "dev-client-secret-not-for-production"},
                      {"code", code},
                      {"redirect_uri", redirect},
                      {"code_verifier", verifier}});
  };
  auto on_behalf_of = [&](const std::string& assertion) {
    return post_form(client, "/" + tenant + "/oauth2/v2.0/token",
                     {{"grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"},
                      {"client_id", std::string(kServerId)},
                      {"client_secret", "dev-server-secret-not-for-production"},
                      {"assertion", assertion},
                      {"scope", "https://graph.microsoft.com/.default"},
                      {"requested_token_use", "on_behalf_of"}});
  };

  // carol signs in with her password: a code, and the session cookie.
  auto page = browser.get(authorize_url({}));
  ASSERT_TRUE(page);
  ASSERT_EQ(page->status, 200U);
  EXPECT_NE(page->body.find("id=\"password\""), std::string::npos);
  auto signed_in = browser.submit(page->body, action, {{"username", "carol@deputy-dev.test"}, {"password", "dev-password-carol"}});
  ASSERT_TRUE(signed_in);
  ASSERT_EQ(signed_in->status, 302U) << signed_in->body;
  ASSERT_EQ(browser.set_cookies.size(), 2U);  // the browser binding, then the session
  EXPECT_TRUE(browser.set_cookies[1].starts_with("deputy_idp_session="));
  EXPECT_NE(browser.set_cookies[1].find("; Path=/" + tenant + "; Secure; HttpOnly; SameSite=None; Max-Age=28800"),
            std::string::npos)
      << browser.set_cookies[1];
  auto token = redeem(redirect_query(*signed_in)["code"]);
  ASSERT_TRUE(token);
  ASSERT_EQ(token->status, 200U) << token->body;

  // The server's On-Behalf-Of for Graph: the claims challenge.
  auto refused = on_behalf_of(std::string(json::parse(token->body).at("access_token").as_string()));
  ASSERT_TRUE(refused);
  ASSERT_EQ(refused->status, 400U);
  const std::string claims(json::parse(refused->body).at("claims").as_string());

  // Back at /authorize with the claims: the session skips the password, the MFA page asks for the code.
  auto mfa = browser.get(authorize_url({{"claims", claims}}));
  ASSERT_TRUE(mfa);
  ASSERT_EQ(mfa->status, 200U);
  ASSERT_NE(mfa->body.find("id=\"otp\""), std::string::npos) << mfa->body;
  auto passed = browser.submit(mfa->body, action, {{"otp", "000000"}});
  ASSERT_TRUE(passed);
  ASSERT_EQ(passed->status, 302U) << passed->body;
  auto stepped_up = redeem(redirect_query(*passed)["code"]);
  ASSERT_TRUE(stepped_up);
  ASSERT_EQ(stepped_up->status, 200U);
  auto obo = on_behalf_of(std::string(json::parse(stepped_up->body).at("access_token").as_string()));
  ASSERT_TRUE(obo);
  EXPECT_EQ(obo->status, 200U) << obo->body;

  // prompt=none with the cookie: a code at once. Without it: login_required.
  auto silent = browser.get(authorize_url({{"prompt", "none"}}));
  ASSERT_TRUE(silent);
  ASSERT_EQ(silent->status, 302U);
  EXPECT_FALSE(redirect_query(*silent)["code"].empty());
  WireBrowser stranger([&client](net::ClientRequest request) { return send(client, std::move(request)); });
  auto anonymous = stranger.get(authorize_url({{"prompt", "none"}}));
  ASSERT_TRUE(anonymous);
  EXPECT_EQ(redirect_query(*anonymous)["error"], "login_required");
  // And the stranger cannot post carol's page.
  auto page_again = browser.get(authorize_url({{"prompt", "login"}}));
  ASSERT_TRUE(page_again);
  auto stolen = stranger.submit(page_again->body, action, {{"username", "carol@deputy-dev.test"}, {"password", "dev-password-carol"}});
  ASSERT_TRUE(stolen);
  EXPECT_EQ(stolen->status, 400U);
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
