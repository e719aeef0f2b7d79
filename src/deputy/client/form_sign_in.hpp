#pragma once
// The non-interactive sign-in (tests, demos, scripts against the development provider): this process plays
// the browser's part. It GETs the authorize URL, fills the sign-in form with the user name and password,
// posts it, and follows the provider's pages (a consent page is accepted; cookies are kept for the provider's
// host) until the provider redirects to the redirect URI; the code is read from that Location header, so no
// listener is needed. A page that asks for something else (an MFA code, a choice it cannot make) ends it with
// a clear error. Never for real Entra ID, whose sign-in pages are scripts, not forms.

#include "deputy/client/authorization_request.hpp"
#include "deputy/client/error.hpp"
#include "deputy/net/http_client.hpp"

#include <boost/asio/awaitable.hpp>

#include <expected>
#include <string>

namespace deputy::client {

/// Pages followed at most: sign-in, consent, MFA, account picker and a redirect or two fit well within it.
inline constexpr int kMaxSignInSteps = 8;

struct FormSignIn {
  std::string authorize_url;
  std::string redirect_uri;
  std::string username;
  std::string password;
  /// The one-time code for an MFA page (the development provider's: the user's mfa_code); empty: such a page
  /// ends the sign-in with kUnsupported.
  std::string otp;
  /// Also GET the final redirect (as a browser would), delivering it to a listener on the redirect URI.
  bool deliver_redirect = false;
};

/// What the provider sent to the redirect URI (a code, or error=...). kSignInRefused when the provider's page
/// shows an error instead (wrong password: its text), kUnsupported when a page asks for more than a password.
[[nodiscard]] boost::asio::awaitable<std::expected<RedirectResult, Error>> sign_in_with_form(
    net::HttpClient& http, FormSignIn request);

/// `reference` (absolute, or relative as in a Location header or a form action) resolved against `base`.
[[nodiscard]] std::string resolve_url(std::string_view base, std::string_view reference);

}  // namespace deputy::client
