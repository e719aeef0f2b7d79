#include "deputy/devidp/pages.hpp"

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
    ".error{color:#c00}.note{color:#666;font-size:.8rem;margin-top:2rem}";

std::string document(std::string_view title, std::string_view body, std::string_view onload = {}) {
  return fmt::format(
      "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{}</title>"
      "<meta name=\"viewport\" content=\"width=device-width\"><style>{}</style></head><body{}>\n{}\n</body></html>\n",
      html_escape(title), kStyle, onload, body);
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
  std::string hidden;
  for (const auto& [name, value] : page.hidden) {
    hidden += fmt::format("<input type=\"hidden\" name=\"{}\" value=\"{}\">\n", html_escape(name), html_escape(value));
  }
  const std::string error =
      page.error.empty() ? std::string() : fmt::format("<p class=\"error\" role=\"alert\">{}</p>\n", html_escape(page.error));
  const std::string body = fmt::format(
      "<main><h1>Sign in</h1><p>to continue to {}</p>\n{}"
      "<form method=\"post\" action=\"{}\">\n{}"
      "<label for=\"login\">Email</label><input type=\"text\" id=\"login\" name=\"login\" value=\"{}\" "
      "autocomplete=\"username\" autofocus>\n"
      "<label for=\"passwd\">Password</label><input type=\"password\" id=\"passwd\" name=\"passwd\" "
      "autocomplete=\"current-password\">\n"
      "<button type=\"submit\" id=\"submit\">Sign in</button>\n</form>\n"
      "<p class=\"note\">deputy development identity provider: the users and passwords are in the directory "
      "file. Not for production.</p></main>",
      html_escape(page.client_name), error, html_escape(page.action), hidden, html_escape(page.login));
  return document("Sign in to your account", body);
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
