#pragma once
// The HTML the authorization endpoint shows: the sign-in, account picker, MFA and consent pages, the error page
// (for requests that must not be redirected, such as an unregistered redirect URI), and the form_post page that
// carries a code to the client. Everything the request brought is HTML-escaped; nothing is loaded from
// elsewhere. The markup is plain and its ids and names are stable: browser tests and `deputy login`'s demo drive
// the pages by them (#username, #password, #otp, #accept, #cancel, button[data-account=<upn>], #other,
// #submit), and every form posts back to the authorize URL with the hidden `csrf` field.

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace deputy::devidp {

using Params = std::vector<std::pair<std::string, std::string>>;

/// &, <, >, " and ' as character references.
[[nodiscard]] std::string html_escape(std::string_view text);

/// The form field of every page that carries its CSRF token (pending_authorizations.hpp).
inline constexpr std::string_view kCsrfField = "csrf";

/// What every page's form has: where it posts and the token that ties it to the waiting request.
struct PageForm {
  std::string action;  // the authorize URL of the tenant the request came to
  std::string csrf;
};

/// The sign-in page: inputs #username (name "username") and #password (name "password"), button #submit.
struct LoginPage {
  PageForm form;
  std::string login;         // prefilled user name (login_hint, or what was typed)
  std::string client_name;   // "to continue to <app>"
  std::string error;         // shown above the form (wrong password), empty for none
};
[[nodiscard]] std::string login_page(const LoginPage& page);

/// The account picker: one submit button per account (name "account", value and data-account the UPN) and
/// #other (name "account", empty value) for another account.
struct AccountPickerPage {
  PageForm form;
  std::string client_name;
  struct Account {
    std::string upn;
    std::string display_name;
  };
  std::vector<Account> accounts;
};
[[nodiscard]] std::string account_picker_page(const AccountPickerPage& page);

/// The second factor: input #otp (name "otp"), button #submit.
struct MfaPage {
  PageForm form;
  std::string upn;
  std::string error;
};
[[nodiscard]] std::string mfa_page(const MfaPage& page);

/// The consent page: the permissions listed (li with data-scope = resource identifier/scope), buttons #accept
/// and #cancel (name "consent", values "accept" and "cancel").
struct ConsentPage {
  PageForm form;
  std::string client_name;
  std::string upn;
  struct Permission {
    std::string resource_name;  // Microsoft Graph
    std::string scope;          // <identifier>/<value>, as a scope parameter names it
    std::string value;          // User.Read
  };
  std::vector<Permission> permissions;
};
[[nodiscard]] std::string consent_page(const ConsentPage& page);

/// An error the user sees (AADSTS code and text), for a request that cannot be sent back to its client.
[[nodiscard]] std::string error_page(std::uint32_t code, std::string_view message, std::string_view trace_id);

/// response_mode=form_post: a page that posts `fields` to `redirect_uri` (RFC: OAuth 2.0 Form Post Response Mode).
[[nodiscard]] std::string form_post_page(std::string_view redirect_uri, const Params& fields);

}  // namespace deputy::devidp
