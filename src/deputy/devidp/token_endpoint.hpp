#pragma once
// POST /{tenant}/oauth2/v2.0/token, as Entra ID answers it: the form is read strictly, the tenant and the
// client are checked, and the grant decides (grants.hpp):
//   client_credentials                                                              client_credentials_grant
//   urn:ietf:params:oauth:grant-type:jwt-bearer + requested_token_use=on_behalf_of  on_behalf_of_grant
//   authorization_code (codes from authorize_endpoint.hpp, PKCE S256)               authorization_code_grant
//   refresh_token (rotated)                                                         refresh_token_grant
//   urn:ietf:params:oauth:grant-type:token-exchange (RFC 8693, OBO's policy)        token_exchange_grant
// Every issuance and refusal is counted in the provider's TokenStats (GET /_dev/stats).

#include "deputy/devidp/identity_provider.hpp"

#include <boost/json/object.hpp>

#include <expected>
#include <string_view>

namespace deputy::devidp {

inline constexpr std::string_view kJwtBearerGrant = "urn:ietf:params:oauth:grant-type:jwt-bearer";
inline constexpr std::string_view kTokenExchangeGrant = "urn:ietf:params:oauth:grant-type:token-exchange";
/// RFC 8693 §3 token type identifiers: what a subject token may be, and what is issued.
inline constexpr std::string_view kAccessTokenType = "urn:ietf:params:oauth:token-type:access_token";
inline constexpr std::string_view kJwtTokenType = "urn:ietf:params:oauth:token-type:jwt";

struct TokenRequest {
  std::string_view tenant;             // the {tenant} path segment
  bool post = true;                    // the method was POST
  std::string_view content_type;
  std::string_view body;
  std::string_view client_request_id;  // MSAL's client-request-id header, echoed as correlation_id
};

/// The whole exchange: a success body (200) or Entra's error body (400, 401 for invalid_client).
[[nodiscard]] HttpAnswer handle_token_request(const IdentityProvider& provider, const TokenRequest& request);

/// The grant alone: the success body or the refusal (for tests that look at the Failure itself).
[[nodiscard]] std::expected<boost::json::object, Failure> token_grant(const IdentityProvider& provider,
                                                                      const TokenRequest& request);

}  // namespace deputy::devidp
