#pragma once
// What a client may get on a user's behalf, decided in one place for every delegated grant (On-Behalf-Of,
// authorization code, refresh token): the scopes consented for the client and the user, then the user's
// Conditional Access conditions for the resource.

#include "deputy/devidp/directory.hpp"
#include "deputy/devidp/errors.hpp"
#include "deputy/devidp/scopes.hpp"

#include <expected>
#include <string>
#include <vector>

namespace deputy::devidp {

/// The delegated scopes `client` gets for `user` on request.resource: with .default everything consented; named
/// scopes each consented, or kConsentRequired (AADSTS65001). A condition demanding MFA that `amr` does not
/// satisfy is kMfaRequired (AADSTS50076) with the claims challenge.
[[nodiscard]] std::expected<std::vector<std::string>, Failure> delegated_scopes(const Directory& directory,
                                                                                const Application& client,
                                                                                const User& user,
                                                                                const ScopeRequest& request,
                                                                                const std::vector<std::string>& amr);

/// The consent part alone (the authorize endpoint asks it before it signs the user in to no purpose).
[[nodiscard]] std::expected<std::vector<std::string>, Failure> consented(const Directory& directory,
                                                                         const Application& client, const User& user,
                                                                         const ScopeRequest& request);

/// The "scope" member of a token response: each granted scope prefixed by the resource's identifier (Entra leaves
/// the OpenID Connect scopes out).
[[nodiscard]] std::string granted_scope_string(const Application& resource, const std::vector<std::string>& scopes);

}  // namespace deputy::devidp
