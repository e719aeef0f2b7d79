// Keys over HTTP: OpenID Connect discovery, then the JWKS, served by a real HTTP server on loopback, and
// a token validated with them.
#include "deputy/auth/http_key_fetcher.hpp"
#include "deputy/auth/token_validator.hpp"
#include "deputy/net/http_server.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_future.hpp>
#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <thread>

namespace deputy::auth {
namespace {

namespace asio = boost::asio;
namespace http = boost::beast::http;

class KeyServer {
 public:
  explicit KeyServer(std::string jwks) : jwks_(std::move(jwks)), server_(options(), [this](net::Request& r, net::Exchange& e) { return handle(r, e); }) {
    if (!server_.listen()) throw std::runtime_error("listen");
    thread_ = std::thread([this] { server_.run(); });
  }
  ~KeyServer() {
    server_.stop();
    thread_.join();
  }
  [[nodiscard]] std::string base() const { return "http://127.0.0.1:" + std::to_string(server_.port()); }
  std::string jwks_uri_override;
  std::atomic<int> jwks_requests{0};

 private:
  static net::ServerOptions options() {
    net::ServerOptions o;
    o.port = 0;
    o.threads = 1;
    return o;
  }
  asio::awaitable<void> handle(net::Request& request, net::Exchange& exchange) {
    const std::string_view target = request.target();
    if (target == "/.well-known/openid-configuration") {
      const std::string uri = jwks_uri_override.empty() ? base() + "/keys" : jwks_uri_override;
      const std::string body = R"({"issuer":"x","jwks_uri":")" + uri + R"("})";
      co_await exchange.respond(http::status::ok, "application/json", body);
    } else if (target == "/keys") {
      ++jwks_requests;
      co_await exchange.respond(http::status::ok, "application/json", jwks_);
    } else {
      co_await exchange.respond(http::status::not_found, "text/plain", "no");
    }
  }
  std::string jwks_;
  net::HttpServer server_;
  std::thread thread_;
};

struct Keys {
  PkeyPtr key = adopt_pkey(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<size_t>(2048)));
  std::string jwks() const {
    return json::serialize(json::object{{"keys", json::array{*to_json(*make_jwk(key.get(), "k1"))}}});
  }
  std::string token() const {
    const auto now = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
    json::object claims{{"iss", "https://issuer"}, {"aud", "api://server"}, {"sub", "alice"}, {"scp", "access_as_user"},
                        {"exp", now + 600}};
    return *sign(json::object{{"alg", "RS256"}, {"kid", "k1"}}, claims, key.get(), Alg::kRs256);
  }
};

template <typename T>
T run(asio::io_context& context, asio::awaitable<T> work) {
  auto future = asio::co_spawn(context, std::move(work), asio::use_future);
  context.restart();
  context.run();
  return future.get();
}

TEST(HttpKeyFetcher, DiscoveryThenKeysThenAValidToken) {
  Keys keys;
  KeyServer server(keys.jwks());
  net::HttpClient client;
  ValidatorOptions options;
  options.issuers = {"https://issuer"};
  options.audiences = {"api://server"};
  auto fetcher = std::make_shared<HttpKeyFetcher>(client, "", server.base() + "/.well-known/openid-configuration");
  TokenValidator validator(options, fetcher);
  asio::io_context context;
  auto result = run(context, validator.authenticate(keys.token()));
  ASSERT_TRUE(result) << to_string(result.error());
  EXPECT_EQ((*result)->subject, "alice");
  EXPECT_EQ(server.jwks_requests.load(), 1);
}

TEST(HttpKeyFetcher, DiscoveryPointingAtPlainHttpElsewhereIsRefused) {
  Keys keys;
  KeyServer server(keys.jwks());
  server.jwks_uri_override = "http://keys.attacker.example/keys";
  net::HttpClient client;
  HttpKeyFetcher fetcher(client, "", server.base() + "/.well-known/openid-configuration");
  asio::io_context context;
  auto result = run(context, fetcher.fetch());
  ASSERT_FALSE(result);
  EXPECT_NE(result.error().find("not https"), std::string::npos);
}

TEST(HttpKeyFetcher, UnreachableIssuerMeansKeysUnavailable) {
  net::HttpClient client;
  ValidatorOptions options;
  options.issuers = {"https://issuer"};
  options.audiences = {"api://server"};
  // A port nobody listens on (bound, then closed).
  std::uint16_t port;
  {
    asio::io_context probe;
    asio::ip::tcp::acceptor acceptor(probe, {asio::ip::make_address("127.0.0.1"), 0});
    port = acceptor.local_endpoint().port();
  }
  TokenValidator validator(options, std::make_shared<HttpKeyFetcher>(client, "http://127.0.0.1:" + std::to_string(port) + "/keys", ""));
  asio::io_context context;
  Keys keys;
  auto result = run(context, validator.authenticate(keys.token()));
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error(), Error::kKeysUnavailable);
}

}  // namespace
}  // namespace deputy::auth
