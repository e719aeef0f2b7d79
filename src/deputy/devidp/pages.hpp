#pragma once
// The HTML the authorization endpoint shows: the sign-in page, the error page (for requests that must not be
// redirected, such as an unregistered redirect URI), and the form_post page that carries a code to the client.
// Everything the request brought is HTML-escaped; nothing is loaded from elsewhere.

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace deputy::devidp {

using Params = std::vector<std::pair<std::string, std::string>>;

/// &, <, >, " and ' as character references.
[[nodiscard]] std::string html_escape(std::string_view text);

struct LoginPage {
  std::string action;        // the authorize URL the form posts to
  Params hidden;             // the authorization request, carried through the form
  std::string login;         // prefilled user name (login_hint, or what was typed)
  std::string client_name;   // "to continue to <app>"
  std::string error;         // shown above the form (wrong password), empty for none
};
[[nodiscard]] std::string login_page(const LoginPage& page);

/// An error the user sees (AADSTS code and text), for a request that cannot be sent back to its client.
[[nodiscard]] std::string error_page(std::uint32_t code, std::string_view message, std::string_view trace_id);

/// response_mode=form_post: a page that posts `fields` to `redirect_uri` (RFC: OAuth 2.0 Form Post Response Mode).
[[nodiscard]] std::string form_post_page(std::string_view redirect_uri, const Params& fields);

}  // namespace deputy::devidp
