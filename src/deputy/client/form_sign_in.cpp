#include "deputy/client/form_sign_in.hpp"

#include "deputy/client/html_form.hpp"
#include "deputy/client/oidc.hpp"

#include <fmt/format.h>
#include <boost/url/parse.hpp>

#include <algorithm>
#include <map>

namespace deputy::client {

namespace {

namespace http = boost::beast::http;

std::string lower(std::string_view text) {
  std::string out(text);
  std::ranges::transform(out, out.begin(),
                         [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

std::string_view without_query(std::string_view url) {
  return url.substr(0, url.find_first_of("?#"));
}

std::string origin_of(std::string_view url) {
  auto parsed = boost::urls::parse_uri(url);
  if (!parsed) return {};
  return fmt::format("{}://{}", std::string_view(parsed->scheme()),
                     std::string_view(parsed->encoded_host_and_port()));
}

/// The names a user-name field goes by on the sign-in pages we know (Entra's loginfmt, deputy's login).
bool is_user_field(std::string_view name) {
  const auto n = lower(name);
  return n == "login" || n == "loginfmt" || n == "username" || n == "user" || n == "email";
}

/// The names a one-time-code field goes by (deputy's MFA page: otp; Entra's: otc).
bool is_otp_field(std::string_view name) {
  const auto n = lower(name);
  return n == "otp" || n == "otc" || n == "mfa_code";
}

/// Of several submit buttons, the one that goes on (accept, continue) rather than back (cancel, deny).
int submit_score(const HtmlInput& input) {
  const auto text = lower(input.name + " " + input.value);
  for (std::string_view no : {"cancel", "deny", "decline", "reject", "back", "no"}) {
    if (text.find(no) != std::string::npos) return -1;
  }
  for (std::string_view yes : {"accept", "allow", "yes", "continue", "next", "submit", "sign"}) {
    if (text.find(yes) != std::string::npos) return 1;
  }
  return 0;
}

class CookieJar {
 public:
  void take(const net::ClientResponse& response) {
    for (const auto& header : response.headers) {
      if (lower(header.name) != "set-cookie") continue;
      const std::string_view value = header.value;
      const auto pair = value.substr(0, value.find(';'));
      const auto equals = pair.find('=');
      if (equals == std::string_view::npos || equals == 0) continue;
      cookies_[std::string(pair.substr(0, equals))] = std::string(pair.substr(equals + 1));
    }
  }
  [[nodiscard]] std::string header() const {
    std::string out;
    for (const auto& [name, value] : cookies_) out += (out.empty() ? "" : "; ") + name + "=" + value;
    return out;
  }

 private:
  std::map<std::string, std::string> cookies_;
};

Error refused(std::string message) {
  return {ErrorCode::kSignInRefused, std::move(message)};
}

}  // namespace

std::string resolve_url(std::string_view base, std::string_view reference) {
  if (reference.starts_with("http://") || reference.starts_with("https://")) return std::string(reference);
  if (reference.empty()) return std::string(base);
  if (reference.starts_with('/')) return origin_of(base) + std::string(reference);
  std::string directory(without_query(base));
  directory.resize(directory.rfind('/') + 1);
  return directory + std::string(reference);
}

boost::asio::awaitable<std::expected<RedirectResult, Error>> sign_in_with_form(net::HttpClient& http,
                                                                               FormSignIn request) {
  const std::string provider_origin = origin_of(request.authorize_url);
  CookieJar cookies;
  net::ClientRequest next{.url = request.authorize_url};
  bool password_sent = false;
  bool otp_sent = false;

  for (int step = 0; step < kMaxSignInSteps; ++step) {
    // Cookies go only to the provider: never to the redirect URI or anywhere a page points.
    if (origin_of(next.url) == provider_origin) {
      const auto cookie = cookies.header();
      if (!cookie.empty()) next.headers.push_back({"Cookie", cookie});
    }
    next.headers.push_back({"Accept", "text/html"});
    const std::string current = next.url;
    auto response = co_await http.send(std::move(next));
    if (!response) {
      co_return std::unexpected(Error{ErrorCode::kNetwork, fmt::format("{}: {}", without_query(current),
                                                                       net::to_string(response.error()))});
    }
    cookies.take(*response);

    if (response->status >= 300 && response->status < 400) {
      const auto location = response->header("Location");
      if (!location)
        co_return std::unexpected(refused(fmt::format("HTTP {} without a Location", response->status)));
      const std::string target = resolve_url(current, *location);
      if (without_query(target) == without_query(request.redirect_uri)) {
        const auto question = target.find('?');
        auto result = parse_redirect_query(
            question == std::string::npos ? "" : std::string_view(target).substr(question + 1));
        if (!result) co_return std::unexpected(refused("the redirect to the client is not a valid query"));
        if (request.deliver_redirect) {
          net::ClientRequest deliver{.url = target};
          auto delivered = co_await http.send(std::move(deliver));
          if (!delivered) {
            co_return std::unexpected(
                Error{ErrorCode::kNetwork,
                      fmt::format("{}: {}", without_query(target), net::to_string(delivered.error()))});
          }
        }
        co_return *result;
      }
      if (origin_of(target) != provider_origin) {
        co_return std::unexpected(
            refused("the provider redirected to another site: " + std::string(without_query(target))));
      }
      next = net::ClientRequest{.url = target};
      continue;
    }
    if (response->status != 200) {
      auto shown = page_error(response->body);
      co_return std::unexpected(refused(fmt::format("the provider answered HTTP {}{}{}", response->status,
                                                    shown ? ": " : "", shown.value_or(""))));
    }

    const auto forms = parse_forms(response->body);
    // response_mode=form_post: a page that posts the code to the redirect URI.
    for (const auto& form : forms) {
      if (without_query(resolve_url(current, form.action)) != without_query(request.redirect_uri)) continue;
      RedirectResult result;
      for (const auto& input : form.inputs) {
        if (input.name == "code") result.code = input.value;
        if (input.name == "state") result.state = input.value;
        if (input.name == "error") result.error = input.value;
        if (input.name == "error_description") result.error_description = input.value;
      }
      co_return result;
    }
    const auto error = page_error(response->body);
    const auto form = std::ranges::find_if(forms, [](const HtmlForm& f) { return !f.inputs.empty(); });
    if (form == forms.end()) {
      co_return std::unexpected(refused(error.value_or("the provider's page has no form to fill")));
    }
    const bool asks_password =
        std::ranges::any_of(form->inputs, [](const HtmlInput& i) { return i.type == "password"; });
    if (asks_password && password_sent) {
      // The same question again: the answer was wrong. The page says why.
      co_return std::unexpected(
          refused(error.value_or("the provider did not accept the user name and password")));
    }

    FormFields fields;
    const HtmlInput* submit = nullptr;
    for (const auto& input : form->inputs) {
      if (input.name.empty()) continue;
      if (input.type == "hidden") {
        fields.emplace_back(input.name, input.value);
      } else if (input.type == "password") {
        fields.emplace_back(input.name, request.password);
        password_sent = true;
      } else if ((input.type == "text" || input.type == "email") && is_user_field(input.name)) {
        fields.emplace_back(input.name, request.username);
      } else if (!request.otp.empty() && is_otp_field(input.name)) {
        if (otp_sent) {
          co_return std::unexpected(refused(error.value_or("the provider did not accept the one-time code")));
        }
        fields.emplace_back(input.name, request.otp);
        otp_sent = true;
      } else if (input.type == "submit") {
        if (submit == nullptr || submit_score(input) > submit_score(*submit)) submit = &input;
      } else if (input.type == "text" || input.type == "email" || input.type == "number" ||
                 input.type == "tel") {
        co_return std::unexpected(
            Error{ErrorCode::kUnsupported,
                  fmt::format("the provider's page asks for '{}', which a sign-in with user name "
                              "and password cannot answer; sign in with the browser{}",
                              input.name, error ? " (" + *error + ")" : "")});
      }
    }
    if (submit != nullptr) fields.emplace_back(submit->name, submit->value);
    const std::string action = resolve_url(current, form->action);
    if (origin_of(action) != provider_origin) {
      co_return std::unexpected(
          refused("the provider's form posts to another site: " + std::string(without_query(action))));
    }
    if (form->method == "post") {
      next = net::ClientRequest{.method = http::verb::post,
                                .url = action,
                                .headers = {{"Content-Type", "application/x-www-form-urlencoded"}},
                                .body = encode_form(fields)};
    } else {
      next = net::ClientRequest{.url = std::string(without_query(action)) + "?" + encode_form(fields)};
    }
  }
  co_return std::unexpected(
      refused(fmt::format("the sign-in did not reach the redirect URI within {} pages", kMaxSignInSteps)));
}

}  // namespace deputy::client
