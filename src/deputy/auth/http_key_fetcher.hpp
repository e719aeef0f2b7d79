#pragma once
// The issuer's JWKS over HTTPS: from a configured jwks_uri, or found through OpenID Connect discovery
// (the issuer's /.well-known/openid-configuration names it).

#include "deputy/auth/jwks_cache.hpp"
#include "deputy/net/http_client.hpp"

#include <mutex>
#include <string>

namespace deputy::auth {

class HttpKeyFetcher final : public KeyFetcher {
 public:
  /// `jwks_uri`, or empty with `discovery_url` set.
  HttpKeyFetcher(net::HttpClient& client, std::string jwks_uri, std::string discovery_url);
  boost::asio::awaitable<std::expected<std::string, std::string>> fetch() override;

 private:
  boost::asio::awaitable<std::expected<std::string, std::string>> get(const std::string& url);

  net::HttpClient& client_;
  const std::string discovery_url_;
  std::mutex mutex_;
  std::string jwks_uri_;  // found by discovery when not configured
};

}  // namespace deputy::auth
