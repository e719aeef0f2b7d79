#pragma once
// OpenID Connect discovery and the key set, shaped like Entra ID v2's:
//   GET /{tenant}/v2.0/.well-known/openid-configuration
//   GET /{tenant}/discovery/v2.0/keys
// {tenant} is the tenant's GUID or domain, or common / organizations. For a tenant, every endpoint is under
// its GUID and the issuer is https://<host>/<tid>/v2.0; for common and organizations the endpoints keep the
// word and the issuer carries Entra's literal "{tenantid}" placeholder.

#include "deputy/devidp/identity_provider.hpp"

#include <string_view>

namespace deputy::devidp {

[[nodiscard]] HttpAnswer openid_configuration(const IdentityProvider& provider, std::string_view tenant);
[[nodiscard]] HttpAnswer jwks(const IdentityProvider& provider, std::string_view tenant);

/// The error answer for a {tenant} that names no tenant here (AADSTS90002), with `error` set as the endpoint
/// sends it.
[[nodiscard]] HttpAnswer tenant_not_found(const IdentityProvider& provider, std::string_view tenant, IdpError error,
                                          std::string_view correlation_id);

/// Entra's error answer for `failure`, stamped with a fresh trace id and the client's correlation id.
[[nodiscard]] HttpAnswer error_answer(const IdentityProvider& provider, const Failure& failure,
                                      std::string_view correlation_id);

}  // namespace deputy::devidp
