#pragma once
// The identity provider's test hooks, served only to loopback callers (idp_server.cpp decides, as the dev
// Graph's server does):
//   GET    /_dev/stats         tokens issued by grant type and by (grant, client, user), refusals by reason
//                              (token_stats.hpp for the JSON), and the signing keys
//   DELETE /_dev/stats         the counters back to zero
//   POST   /_dev/keys/rotate   a new key signs from now on; the previous one stays published
//   (signing_keys.hpp)
// Nothing here reveals a secret: counters, key ids and public keys only.

#include "deputy/devidp/identity_provider.hpp"

#include <boost/beast/http/verb.hpp>

#include <string_view>

namespace deputy::devidp {

/// The answer for a /_dev/ path (404 for one that is not a hook, 405 for a wrong method).
[[nodiscard]] HttpAnswer admin_request(const IdentityProvider& provider, boost::beast::http::verb method,
                                       std::string_view path);

}  // namespace deputy::devidp
