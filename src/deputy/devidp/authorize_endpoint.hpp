#pragma once
// GET and POST /{tenant}/oauth2/v2.0/authorize, as Entra ID answers them (RFC 6749 §4.1.1, OpenID Connect).
// A new request (GET, or a POST of the request's parameters) is checked, then waits server-side
// (pending_authorizations.hpp) while the user goes through the pages, each posting back here with its CSRF
// token (field `csrf`):
//   sign-in (username, password) | account picker (account) → MFA (otp) when required → consent
//   (consent=accept or cancel) when the scopes are not consented → a one-time code (10 minutes) to the
//   redirect URI, in the query (response_mode=query, the default) or an auto-posting form (form_post).
// A successful sign-in sets the session cookie (sign_in_sessions.hpp): later requests from the same browser
// skip the password (one account: at once; several: the picker). prompt=none answers without a page (a code,
// or login_required, interaction_required, consent_required); prompt=login always asks for the password;
// prompt=select_account shows the picker; prompt=consent shows the consent page. MFA is asked when the
// request's `claims` demand it (amr mfa, acrs or capolids: a claims challenge handed back by an On-Behalf-Of
// refusal) or the user's conditions demand it for the resource; the codes then carry amr ["pwd","mfa"], and
// so does the session. A request whose client or redirect URI is not known gets an error page and is never
// redirected (an open redirector would send codes and errors to anyone); so does a form whose CSRF token is
// unknown, used, expired or from another browser. Every later error goes back to the redirect URI with error,
// error_description and state. PKCE is S256 only and required of public clients.

#include "deputy/devidp/identity_provider.hpp"

#include <string_view>

namespace deputy::devidp {

/// The sign-in session cookie: the session's opaque id (HttpOnly, Secure, SameSite=None, Path=/{tenant},
/// Max-Age kSessionLifetime).
inline constexpr std::string_view kSessionCookie = "deputy_idp_session";
/// The browser-binding cookie: a random id the waiting requests of that browser are tied to (a session
/// cookie, same attributes).
inline constexpr std::string_view kBrowserCookie = "deputy_idp_browser";

struct AuthorizeRequest {
  std::string_view tenant;  // the {tenant} path segment
  bool post = false;
  std::string_view query;         // after '?', for GET
  std::string_view content_type;  // for POST
  std::string_view body;          // for POST
  std::string_view cookie;        // the Cookie header, if any
};

[[nodiscard]] HttpAnswer authorize(const IdentityProvider& provider, const AuthorizeRequest& request);

}  // namespace deputy::devidp
