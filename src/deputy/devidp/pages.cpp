#include "deputy/devidp/pages.hpp"

#include "deputy/devidp/directory.hpp"

#include <fmt/format.h>

#include <cstdint>

namespace deputy::devidp {

namespace {

constexpr std::string_view kStyle =
    "body{font-family:system-ui,sans-serif;background:#f2f2f2;margin:0}"
    "main{max-width:26rem;margin:4rem auto;background:#fff;padding:2rem;box-shadow:0 2px 6px rgba(0,0,0,.2)}"
    "h1{font-size:1.4rem;font-weight:600}label{display:block;margin-top:1rem}"
    "input[type=text],input[type=password]{width:100%;padding:.4rem;box-sizing:border-box}"
    "button{margin-top:1.5rem;padding:.5rem 2rem;background:#0067b8;color:#fff;border:0}"
    "button.account{display:block;width:100%;text-align:left;background:#fff;color:#000;border:1px solid #ccc;"
    "margin-top:.5rem;padding:.6rem 1rem}button.secondary{background:#ccc;color:#000;margin-left:.5rem}"
    ".error{color:#c00}.note{color:#666;font-size:.8rem;margin-top:2rem}";

std::string document(std::string_view title, std::string_view body, std::string_view onload = {}) {
  return fmt::format(
      "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{}</title>"
      "<meta name=\"viewport\" content=\"width=device-width\"><style>{}</style></head><body{}>\n{}\n</body></html>\n",
      html_escape(title), kStyle, onload, body);
}

/// The opening of a page's form with its CSRF token.
std::string form_start(const PageForm& form) {
  return fmt::format("<form method=\"post\" action=\"{}\">\n<input type=\"hidden\" name=\"{}\" value=\"{}\">\n",
                     html_escape(form.action), kCsrfField, html_escape(form.csrf));
}

std::string error_paragraph(std::string_view error) {
  return error.empty() ? std::string() : fmt::format("<p class=\"error\" role=\"alert\">{}</p>\n", html_escape(error));
}

}  // namespace

std::string html_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string login_page(const LoginPage& page) {
  const std::string body = fmt::format(
      "<main><h1>Sign in</h1><p>to continue to {}</p>\n{}"
      "{}"
      "<label for=\"username\">Email</label><input type=\"text\" id=\"username\" name=\"username\" value=\"{}\" "
      "autocomplete=\"username\" autofocus>\n"
      "<label for=\"password\">Password</label><input type=\"password\" id=\"password\" name=\"password\" "
      "autocomplete=\"current-password\">\n"
      "<button type=\"submit\" id=\"submit\">Sign in</button>\n</form>\n"
      "<p class=\"note\">deputy development identity provider: the users and passwords are in the directory "
      "file. Not for production.</p></main>",
      html_escape(page.client_name), error_paragraph(page.error), form_start(page.form), html_escape(page.login));
  return document("Sign in to your account", body);
}

std::string account_picker_page(const AccountPickerPage& page) {
  std::string buttons;
  for (const auto& account : page.accounts) {
    buttons += fmt::format(
        "<button type=\"submit\" class=\"account\" name=\"account\" value=\"{0}\" data-account=\"{0}\">{1}<br>"
        "<small>{0}</small></button>\n",
        html_escape(account.upn), html_escape(account.display_name));
  }
  const std::string body = fmt::format(
      "<main><h1>Pick an account</h1><p>to continue to {}</p>\n{}{}"
      "<button type=\"submit\" class=\"account\" id=\"other\" name=\"account\" value=\"\">Use another "
      "account</button>\n</form></main>",
      html_escape(page.client_name), form_start(page.form), buttons);
  return document("Pick an account", body);
}

std::string mfa_page(const MfaPage& page) {
  const std::string body = fmt::format(
      "<main><h1>Verify your identity</h1><p>{}</p>\n<p>Enter the code from your authenticator app.</p>\n{}{}"
      "<label for=\"otp\">Code</label><input type=\"text\" id=\"otp\" name=\"otp\" inputmode=\"numeric\" "
      "autocomplete=\"one-time-code\" autofocus>\n"
      "<button type=\"submit\" id=\"submit\">Verify</button>\n</form>\n"
      "<p class=\"note\">deputy development identity provider: the code is the user's <code>mfa_code</code> in the "
      "directory file, {} unless it names another. Not for production.</p></main>",
      html_escape(page.upn), error_paragraph(page.error), form_start(page.form), kDefaultMfaCode);
  return document("Verify your identity", body);
}

std::string consent_page(const ConsentPage& page) {
  std::string items;
  for (const auto& permission : page.permissions) {
    items += fmt::format("<li data-scope=\"{}\">{}: <strong>{}</strong></li>\n", html_escape(permission.scope),
                         html_escape(permission.resource_name), html_escape(permission.value));
  }
  const std::string body = fmt::format(
      "<main><h1>Permissions requested</h1><p>{}</p>\n<p><strong>{}</strong> would like to:</p>\n"
      "<ul id=\"permissions\">\n{}</ul>\n"
      "<p>Accepting lets this app use these permissions on your behalf until you revoke them.</p>\n{}"
      "<button type=\"submit\" id=\"accept\" name=\"consent\" value=\"accept\">Accept</button>\n"
      "<button type=\"submit\" id=\"cancel\" name=\"consent\" value=\"cancel\" class=\"secondary\">Cancel</button>\n"
      "</form></main>",
      html_escape(page.upn), html_escape(page.client_name), items, form_start(page.form));
  return document("Permissions requested", body);
}

std::string error_page(std::uint32_t code, std::string_view message, std::string_view trace_id) {
  const std::string body = fmt::format(
      "<main><h1>Sorry, but we're having trouble signing you in.</h1>\n<p class=\"error\">AADSTS{}: {}</p>\n"
      "<p class=\"note\">Trace ID: {}</p></main>",
      code, html_escape(message), html_escape(trace_id));
  return document("Sign in error", body);
}

std::string form_post_page(std::string_view redirect_uri, const Params& fields) {
  std::string inputs;
  for (const auto& [name, value] : fields) {
    inputs += fmt::format("<input type=\"hidden\" name=\"{}\" value=\"{}\">\n", html_escape(name), html_escape(value));
  }
  const std::string body = fmt::format(
      "<form method=\"post\" action=\"{}\">\n{}<noscript><button type=\"submit\">Continue</button></noscript>\n"
      "</form>",
      html_escape(redirect_uri), inputs);
  return document("Working...", body, " onload=\"document.forms[0].submit()\"");
}

}  // namespace deputy::devidp
