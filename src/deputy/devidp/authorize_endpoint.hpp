#pragma once
// GET and POST /{tenant}/oauth2/v2.0/authorize, as Entra ID answers them (RFC 6749 §4.1.1, OpenID Connect):
//  - GET checks the request and shows the sign-in page; the request travels on in the form's hidden fields.
//  - POST (the form) checks the request again, then the user name and password, then consent, and sends a
//    one-time code (10 minutes) to the redirect URI: in the query (response_mode=query, the default) or in an
//    auto-posting form (form_post).
// A request whose client or redirect URI is not known gets an error page and is never redirected (an open
// redirector would send codes and errors to anyone). Every later error goes back to the redirect URI with
// error, error_description and state. PKCE is S256 only and required of public clients.
// TODO(next slice): the account picker (prompt=select_account), the consent page (instead of answering
// consent_required), an MFA step for claims challenges, and a sign-in session (prompt=none).

#include "deputy/devidp/identity_provider.hpp"

#include <string_view>

namespace deputy::devidp {

struct AuthorizeRequest {
  std::string_view tenant;        // the {tenant} path segment
  bool post = false;
  std::string_view query;         // after '?', for GET
  std::string_view content_type;  // for POST
  std::string_view body;          // for POST
};

[[nodiscard]] HttpAnswer authorize(const IdentityProvider& provider, const AuthorizeRequest& request);

}  // namespace deputy::devidp
