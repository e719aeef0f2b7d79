#pragma once
// Who is asking at the token endpoint: client_id, and proof of it by client_secret (in the body, as MSAL
// sends it) or by client_assertion (RFC 7523 §2.2: a JWT signed with the key of one of the app's certificate
// credentials, aud = the token endpoint, iss = sub = client_id, exp; header x5t or x5t#S256). A public client
// sends neither.

#include "deputy/devidp/form.hpp"
#include "deputy/devidp/identity_provider.hpp"

#include <expected>
#include <string_view>

namespace deputy::devidp {

inline constexpr std::string_view kClientAssertionType = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

struct AuthenticatedClient {
  const Application* app = nullptr;
  ClientAuthMethod method = ClientAuthMethod::kNone;
};

/// Identifies and authenticates the client of a token request made to `tenant` (the path segment, which a
/// client assertion's aud may name). A client that sends no credential comes back with kNone: the grant
/// decides whether a public client may use it.
[[nodiscard]] std::expected<AuthenticatedClient, Failure> authenticate_client(const IdentityProvider& provider,
                                                                              const Form& form, std::string_view tenant);

}  // namespace deputy::devidp
