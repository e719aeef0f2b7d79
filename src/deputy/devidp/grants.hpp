#pragma once
// The grants of the token endpoint, once the form is read and the client identified (token_endpoint.cpp).

#include "deputy/devidp/client_auth.hpp"
#include "deputy/devidp/form.hpp"
#include "deputy/devidp/identity_provider.hpp"
#include "deputy/devidp/scopes.hpp"

#include <boost/json/object.hpp>

#include <expected>

namespace deputy::devidp {

/// client_credentials: scope must be exactly <resource>/.default; the token carries the application
/// permissions granted to the client on that resource as roles, idtyp=app and no scp.
[[nodiscard]] std::expected<boost::json::object, Failure> client_credentials_grant(const IdentityProvider& provider,
                                                                                   const Form& form,
                                                                                   const AuthenticatedClient& client);

/// On-Behalf-Of (jwt-bearer, requested_token_use=on_behalf_of): the assertion must be a user's token, valid,
/// signed by us and addressed to the calling app; the scopes must be consented for the client and user; the
/// user's conditions (MFA) must be met, else interaction_required with a claims challenge. With openid in the
/// scope the answer adds the user's id_token for the calling app (no nonce), as Entra's does.
[[nodiscard]] std::expected<boost::json::object, Failure> on_behalf_of_grant(const IdentityProvider& provider,
                                                                             const Form& form,
                                                                             const AuthenticatedClient& client);

/// RFC 8693 token exchange with On-Behalf-Of's policy: subject_token (subject_token_type access_token or jwt)
/// plays the assertion; the target is `scope`, or `audience` / `resource` (everything consented, as .default);
/// requested_token_type, when sent, must be an access token; actor_token is refused. The answer adds
/// issued_token_type.
[[nodiscard]] std::expected<boost::json::object, Failure> token_exchange_grant(const IdentityProvider& provider,
                                                                               const Form& form,
                                                                               const AuthenticatedClient& client);

/// authorization_code: the one-time code from /authorize, redeemed by the client it was issued to, with the
/// same redirect_uri and the PKCE verifier of its challenge.
[[nodiscard]] std::expected<boost::json::object, Failure> authorization_code_grant(const IdentityProvider& provider,
                                                                                   const Form& form,
                                                                                   const AuthenticatedClient& client);

/// refresh_token: a refresh token of this client, rotated (the old one is spent), for any resource the client
/// may get on the user's behalf (consent and conditions are checked again).
[[nodiscard]] std::expected<boost::json::object, Failure> refresh_token_grant(const IdentityProvider& provider,
                                                                              const Form& form,
                                                                              const AuthenticatedClient& client);

/// The response of a user's interactive grant (authorization code, refresh token): the access token for
/// request.resource (none when only OpenID Connect scopes were asked for), an id_token when openid was asked
/// for, a refresh token when offline_access was (or `rotate` says a refresh token is being replaced), and
/// client_info when the client sent client_info=1.
[[nodiscard]] std::expected<boost::json::object, Failure> user_token_response(
    const IdentityProvider& provider, const Form& form, const AuthenticatedClient& client, const User& user,
    const ScopeRequest& request, const std::vector<std::string>& amr, std::string_view nonce, bool rotate);

/// Why a code or refresh token was not redeemed, as Entra words it; `what` names it ("authorization code").
[[nodiscard]] Failure redeem_failure(RedeemError error, std::string_view what);

/// A client registered as confidential must prove itself; a public client may not (it has nothing to prove
/// with) and is held to PKCE instead.
[[nodiscard]] std::expected<void, Failure> require_credential_if_confidential(const AuthenticatedClient& client,
                                                                              std::string_view grant_type);

/// A confidential flow refuses a client that sent no credential (AADSTS7000218).
[[nodiscard]] std::expected<void, Failure> require_credential(const AuthenticatedClient& client,
                                                              std::string_view grant_type);

}  // namespace deputy::devidp
