#pragma once
// The back-channel half of a sign-in, against an OpenID provider shaped like Entra ID v2: discovery, token
// requests (authorization code, refresh token, device code), and what the client checks of the id_token.

#include "deputy/client/error.hpp"
#include "deputy/client/token_cache.hpp"
#include "deputy/net/http_client.hpp"

#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <expected>
#include <string>
#include <utility>
#include <vector>

namespace deputy::client {

struct ProviderMetadata {
  std::string issuer;  // may hold Entra's {tenantid} placeholder (multi-tenant authorities)
  std::string authorization_endpoint;
  std::string token_endpoint;
  std::string device_authorization_endpoint;  // empty when not advertised
};

/// GETs and reads the discovery document; kDiscovery when it lacks the authorize or token endpoint, or names
/// one that is not https (plain http only on loopback: the code and the secret go there).
[[nodiscard]] boost::asio::awaitable<std::expected<ProviderMetadata, Error>> discover(net::HttpClient& http,
                                                                                      std::string url);

using FormFields = std::vector<std::pair<std::string, std::string>>;

/// application/x-www-form-urlencoded
[[nodiscard]] std::string encode_form(const FormFields& fields);

struct TokenResponse {
  std::string access_token;
  std::string refresh_token;
  std::string id_token;
  std::string scope;
  std::string client_info;
  std::chrono::seconds expires_in{0};
};

/// The provider's error from a token endpoint answer.
struct TokenError {
  std::string error;        // invalid_grant, interaction_required, authorization_pending...
  std::string description;  // the first line (Entra adds trace and correlation ids on the next ones)
};

/// POSTs `form` to the token endpoint. kTokenRefused carries "error: description"; refusals that mean the
/// user must sign in again (invalid_grant, interaction_required, login_required, consent_required) are
/// kInteractionRequired. `refusal`, when given, receives the provider's error as it was.
[[nodiscard]] boost::asio::awaitable<std::expected<TokenResponse, Error>> request_token(
    net::HttpClient& http, std::string token_endpoint, FormFields form, TokenError* refusal = nullptr);

/// The id_token claims the client uses. The signature is not checked: the token came straight from the token
/// endpoint over TLS, which OpenID Connect Core §3.1.3.7 accepts in its stead; it is only read to name the
/// account, and checked for the sign-in it belongs to.
struct IdTokenClaims {
  std::string issuer;
  std::vector<std::string> audiences;
  std::string nonce;
  std::string object_id;
  std::string tenant_id;
  std::string subject;
  std::string preferred_username;
  std::string name;
  Clock::time_point expires_at;
};

[[nodiscard]] std::expected<IdTokenClaims, Error> read_id_token(std::string_view id_token);

/// Clock skew allowed on the id_token's exp: the provider's clock and ours disagree by a few minutes at
/// worst.
inline constexpr std::chrono::minutes kIdTokenLeeway{5};

/// aud holds `client_id`; nonce is `nonce` (when one was sent); iss is `issuer` (unless it is a placeholder
/// issuer); not expired.
[[nodiscard]] std::expected<void, Error> check_id_token(const IdTokenClaims& claims,
                                                        std::string_view client_id, std::string_view nonce,
                                                        std::string_view issuer, Clock::time_point now);

/// The cache's account of a token response: home account id from client_info (uid.utid) or the id_token
/// (oid.tid), names from the id_token. `environment` is environment_of(authority).
[[nodiscard]] Account account_of(const TokenResponse& response, const IdTokenClaims& claims,
                                 std::string environment);

/// The host of a URL, lowercased, without the port: the cache's environment, as MSAL computes it (so that a
/// cache written here is found by MSAL for the same authority, and the reverse); empty when it does not
/// parse.
[[nodiscard]] std::string environment_of(std::string_view url);

}  // namespace deputy::client
