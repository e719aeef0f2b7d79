#pragma once
// What a client may get on a user's behalf, decided in one place for every delegated grant (On-Behalf-Of,
// RFC 8693 token exchange, authorization code, refresh token): the scopes consented for the client and the
// user, then the user's Conditional Access conditions for the resource. On-Behalf-Of and token exchange share
// the whole exchange of a user's token (delegate) and the shape of its answer (delegation_response).

#include "deputy/devidp/client_auth.hpp"
#include "deputy/devidp/directory.hpp"
#include "deputy/devidp/errors.hpp"
#include "deputy/devidp/form.hpp"
#include "deputy/devidp/identity_provider.hpp"
#include "deputy/devidp/scopes.hpp"

#include <boost/json/object.hpp>

#include <expected>
#include <string>
#include <vector>

namespace deputy::devidp {

/// The delegated scopes `client` gets for `user` on request.resource: with .default everything consented;
/// named scopes each consented, or kConsentRequired (AADSTS65001). A condition demanding MFA that `amr` does
/// not satisfy is kMfaRequired (AADSTS50076) with the claims challenge.
[[nodiscard]] std::expected<std::vector<std::string>, Failure> delegated_scopes(
    const Directory& directory, const Application& client, const User& user, const ScopeRequest& request,
    const std::vector<std::string>& amr);

/// The consent part alone (the authorize endpoint asks it before it signs the user in to no purpose).
[[nodiscard]] std::expected<std::vector<std::string>, Failure> consented(const Directory& directory,
                                                                         const Application& client,
                                                                         const User& user,
                                                                         const ScopeRequest& request);

/// The "scope" member of a token response: each granted scope prefixed by the resource's identifier, and
/// <resource>/.default when the request asked for it (Entra leaves the OpenID Connect scopes out).
[[nodiscard]] std::string granted_scope_string(const Application& resource, const std::vector<std::string>& scopes,
                                               bool default_scope = false);

/// A user's token exchanged for one to another resource.
struct Delegation {
  const User* user = nullptr;
  const Application* resource = nullptr;
  std::vector<std::string> scopes;  // granted
  std::vector<std::string> amr;     // carried over from the assertion
  IssuedToken token;
};

/// The exchange at the heart of On-Behalf-Of and token exchange: `assertion` must be a user's token, valid,
/// signed by us and addressed to the calling client (its client id or an identifier URI); app-only tokens are
/// refused (AADSTS7000114). Then consent and conditions for request.resource (delegated_scopes), then the
/// token. `request` must name a resource (kInvalidScope otherwise).
[[nodiscard]] std::expected<Delegation, Failure> delegate(const IdentityProvider& provider,
                                                          const AuthenticatedClient& client,
                                                          std::string_view assertion,
                                                          const ScopeRequest& request);

/// The success body: token_type, scope, expires_in, ext_expires_in, access_token; a refresh token when
/// offline_access was asked for; client_info when the form says client_info=1.
[[nodiscard]] boost::json::object delegation_response(const IdentityProvider& provider, const Form& form,
                                                      const AuthenticatedClient& client,
                                                      const ScopeRequest& request, Delegation delegation);

}  // namespace deputy::devidp
