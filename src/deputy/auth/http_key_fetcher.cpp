#include "deputy/auth/http_key_fetcher.hpp"

#include <boost/json/parse.hpp>
#include <boost/url/parse.hpp>

namespace deputy::auth {

namespace json = boost::json;

HttpKeyFetcher::HttpKeyFetcher(net::HttpClient& client, std::string jwks_uri, std::string discovery_url)
    : client_(client), discovery_url_(std::move(discovery_url)), jwks_uri_(std::move(jwks_uri)) {}

boost::asio::awaitable<std::expected<std::string, std::string>> HttpKeyFetcher::get(const std::string& url) {
  net::ClientRequest request{.url = url, .headers = {{"Accept", "application/json"}}};
  auto response = co_await client_.send(std::move(request));
  if (!response) co_return std::unexpected(std::string(net::to_string(response.error())) + " for " + url);
  if (response->status != 200) co_return std::unexpected("HTTP " + std::to_string(response->status) + " for " + url);
  co_return std::move(response->body);
}

boost::asio::awaitable<std::expected<std::string, std::string>> HttpKeyFetcher::fetch() {
  std::string jwks_uri;
  {
    std::lock_guard lock(mutex_);
    jwks_uri = jwks_uri_;
  }
  if (jwks_uri.empty()) {
    auto document = co_await get(discovery_url_);
    if (!document) co_return std::unexpected(document.error());
    boost::system::error_code ec;
    auto metadata = json::parse(*document, ec);
    const auto* object = ec ? nullptr : metadata.if_object();
    const auto* uri = object != nullptr ? object->if_contains("jwks_uri") : nullptr;
    if (uri == nullptr || !uri->is_string()) {
      co_return std::unexpected("the discovery document at " + discovery_url_ + " names no jwks_uri");
    }
    // Keys must come over HTTPS (or from loopback, for the development identity provider): a discovery
    // document pointing elsewhere is refused, not followed.
    auto parsed = boost::urls::parse_uri(uri->get_string());
    const bool https = parsed && parsed->scheme() == "https";
    const bool loopback = parsed && (parsed->host() == "127.0.0.1" || parsed->host() == "localhost");
    if (!https && !loopback) co_return std::unexpected("the discovery document names a jwks_uri that is not https");
    jwks_uri = uri->get_string();
    std::lock_guard lock(mutex_);
    jwks_uri_ = jwks_uri;
  }
  co_return co_await get(jwks_uri);
}

}  // namespace deputy::auth
