#include "deputy/client/oidc.hpp"
#include "deputy/net/percent_encoding.hpp"

#include "deputy/auth/base64url.hpp"
#include "deputy/client/settings.hpp"
#include "deputy/devidp/form.hpp"

#include <fmt/format.h>
#include <boost/json.hpp>
#include <boost/url/parse.hpp>

#include <algorithm>
#include <cctype>

namespace deputy::client {

namespace json = boost::json;

namespace {

std::string text(const json::object& object, std::string_view name) {
  const auto* value = object.if_contains(name);
  return value != nullptr && value->is_string() ? std::string(value->get_string()) : std::string();
}

bool acceptable_endpoint(std::string_view url) {
  return is_https_or_loopback(url);
}

Error network_error(net::ClientError error, std::string_view url) {
  return {ErrorCode::kNetwork, fmt::format("{}: {}", url, net::to_string(error))};
}

}  // namespace

std::string environment_of(std::string_view url) {
  auto parsed = boost::urls::parse_uri(url);
  if (!parsed) return {};
  // MSAL's environment is the authority's host name, lowercased, without the port.
  std::string host(parsed->host());
  std::ranges::transform(host, host.begin(),
                         [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return host;
}

boost::asio::awaitable<std::expected<ProviderMetadata, Error>> discover(net::HttpClient& http,
                                                                        std::string url) {
  net::ClientRequest request{.url = url, .headers = {{"Accept", "application/json"}}};
  auto response = co_await http.send(std::move(request));
  if (!response) co_return std::unexpected(network_error(response.error(), url));
  if (response->status != 200) {
    co_return std::unexpected(
        Error{ErrorCode::kDiscovery, fmt::format("{}: HTTP {}", url, response->status)});
  }
  boost::system::error_code ec;
  auto document = json::parse(response->body, ec);
  if (ec || !document.is_object()) {
    co_return std::unexpected(Error{ErrorCode::kDiscovery, url + ": not a JSON object"});
  }
  const auto& object = document.get_object();
  ProviderMetadata metadata{.issuer = text(object, "issuer"),
                            .authorization_endpoint = text(object, "authorization_endpoint"),
                            .token_endpoint = text(object, "token_endpoint"),
                            .device_authorization_endpoint = text(object, "device_authorization_endpoint")};
  for (const auto& [name, value] : {std::pair{"authorization_endpoint", &metadata.authorization_endpoint},
                                    std::pair{"token_endpoint", &metadata.token_endpoint}}) {
    if (value->empty()) {
      co_return std::unexpected(Error{ErrorCode::kDiscovery, fmt::format("{}: no {}", url, name)});
    }
    if (!acceptable_endpoint(*value)) {
      co_return std::unexpected(
          Error{ErrorCode::kDiscovery, fmt::format("{}: the {} is not https: {}", url, name, *value)});
    }
  }
  if (!metadata.device_authorization_endpoint.empty() &&
      !acceptable_endpoint(metadata.device_authorization_endpoint)) {
    metadata.device_authorization_endpoint.clear();
  }
  co_return metadata;
}

std::string encode_form(const FormFields& fields) {
  std::string body;
  for (const auto& [name, value] : fields) {
    if (!body.empty()) body += '&';
    body += net::percent_encode(name);
    body += '=';
    body += net::percent_encode(value);
  }
  return body;
}

boost::asio::awaitable<std::expected<TokenResponse, Error>> request_token(net::HttpClient& http,
                                                                          std::string token_endpoint,
                                                                          FormFields form,
                                                                          TokenError* refusal) {
  net::ClientRequest request{
      .method = boost::beast::http::verb::post,
      .url = token_endpoint,
      .headers = {{"Content-Type", "application/x-www-form-urlencoded"}, {"Accept", "application/json"}},
      .body = encode_form(form)};
  auto response = co_await http.send(std::move(request));
  if (!response) co_return std::unexpected(network_error(response.error(), token_endpoint));
  boost::system::error_code ec;
  auto document = json::parse(response->body, ec);
  const auto* object = ec ? nullptr : document.if_object();
  if (object == nullptr) {
    co_return std::unexpected(
        Error{ErrorCode::kBadTokenResponse,
              fmt::format("{}: HTTP {} without a JSON body", token_endpoint, response->status)});
  }
  if (response->status != 200 || object->contains("error")) {
    TokenError error{.error = text(*object, "error"), .description = text(*object, "error_description")};
    if (auto end = error.description.find_first_of("\r\n"); end != std::string::npos)
      error.description.resize(end);
    if (error.error.empty()) error.error = fmt::format("HTTP {}", response->status);
    if (refusal != nullptr) *refusal = error;
    const bool sign_in_again = error.error == "invalid_grant" || error.error == "interaction_required" ||
                               error.error == "login_required" || error.error == "consent_required";
    co_return std::unexpected(Error{
        sign_in_again ? ErrorCode::kInteractionRequired : ErrorCode::kTokenRefused,
        error.description.empty() ? error.error : fmt::format("{}: {}", error.error, error.description)});
  }
  TokenResponse out{.access_token = text(*object, "access_token"),
                    .refresh_token = text(*object, "refresh_token"),
                    .id_token = text(*object, "id_token"),
                    .scope = text(*object, "scope"),
                    .client_info = text(*object, "client_info")};
  if (const auto* expires = object->if_contains("expires_in")) {
    // Entra has sent expires_in as a number and as a string; both are read.
    if (expires->is_int64()) out.expires_in = std::chrono::seconds(expires->get_int64());
    if (expires->is_uint64())
      out.expires_in = std::chrono::seconds(static_cast<long long>(expires->get_uint64()));
    if (expires->is_string()) {
      try {
        out.expires_in = std::chrono::seconds(std::stoll(std::string(expires->get_string())));
      } catch (const std::exception&) {
        out.expires_in = std::chrono::seconds(0);
      }
    }
  }
  if (out.access_token.empty()) {
    co_return std::unexpected(
        Error{ErrorCode::kBadTokenResponse, token_endpoint + ": the answer has no access_token"});
  }
  co_return out;
}

std::expected<IdTokenClaims, Error> read_id_token(std::string_view id_token) {
  auto bad = [](std::string_view why) {
    return std::unexpected(Error{ErrorCode::kBadTokenResponse, std::string(why)});
  };
  const auto first = id_token.find('.');
  const auto second = first == std::string_view::npos ? first : id_token.find('.', first + 1);
  if (second == std::string_view::npos) return bad("the id_token is not a JWT");
  auto payload = auth::base64url_decode(id_token.substr(first + 1, second - first - 1));
  if (!payload) return bad("the id_token's payload is not base64url");
  boost::system::error_code ec;
  auto document = json::parse(*payload, ec);
  if (ec || !document.is_object()) return bad("the id_token's payload is not a JSON object");
  const auto& claims = document.get_object();
  IdTokenClaims out{.issuer = text(claims, "iss"),
                    .nonce = text(claims, "nonce"),
                    .object_id = text(claims, "oid"),
                    .tenant_id = text(claims, "tid"),
                    .subject = text(claims, "sub"),
                    .preferred_username = text(claims, "preferred_username"),
                    .name = text(claims, "name")};
  if (const auto* aud = claims.if_contains("aud")) {
    if (aud->is_string()) out.audiences.emplace_back(aud->get_string());
    if (aud->is_array()) {
      for (const auto& value : aud->get_array()) {
        if (value.is_string()) out.audiences.emplace_back(value.get_string());
      }
    }
  }
  const auto* exp = claims.if_contains("exp");
  if (exp == nullptr || !exp->is_number()) return bad("the id_token has no exp");
  out.expires_at = Clock::time_point(std::chrono::seconds(static_cast<long long>(exp->to_number<double>())));
  if (out.preferred_username.empty()) out.preferred_username = text(claims, "upn");
  return out;
}

std::expected<void, Error> check_id_token(const IdTokenClaims& claims, std::string_view client_id,
                                          std::string_view nonce, std::string_view issuer,
                                          Clock::time_point now) {
  auto bad = [](std::string why) {
    return std::unexpected(Error{ErrorCode::kBadTokenResponse, std::move(why)});
  };
  if (std::ranges::find(claims.audiences, client_id) == claims.audiences.end()) {
    return bad("the id_token was issued to another client (aud)");
  }
  // A nonce that differs (or is missing) means an id_token from another sign-in: replayed or mixed up.
  if (!nonce.empty() && claims.nonce != nonce)
    return bad("the id_token's nonce is not the one this sign-in sent");
  if (!issuer.empty() && issuer.find('{') == std::string_view::npos && claims.issuer != issuer) {
    return bad(fmt::format("the id_token's issuer {} is not the provider's {}", claims.issuer, issuer));
  }
  if (claims.expires_at + kIdTokenLeeway < now) return bad("the id_token has expired");
  return {};
}

Account account_of(const TokenResponse& response, const IdTokenClaims& claims, std::string environment) {
  Account account{.environment = std::move(environment),
                  .realm = claims.tenant_id,
                  .local_account_id = claims.object_id.empty() ? claims.subject : claims.object_id,
                  .username = claims.preferred_username,
                  .name = claims.name};
  if (auto info = auth::base64url_decode(response.client_info)) {
    boost::system::error_code ec;
    auto document = json::parse(*info, ec);
    if (!ec && document.is_object()) {
      const auto uid = text(document.get_object(), "uid");
      const auto utid = text(document.get_object(), "utid");
      if (!uid.empty() && !utid.empty()) account.home_account_id = uid + "." + utid;
      if (account.realm.empty()) account.realm = utid;
    }
  }
  if (account.home_account_id.empty()) {
    account.home_account_id =
        claims.object_id.empty() ? claims.subject : claims.object_id + "." + claims.tenant_id;
  }
  return account;
}

}  // namespace deputy::client
