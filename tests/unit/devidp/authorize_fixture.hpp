#pragma once
// Helpers for the authorization endpoint's tests: a well-formed authorization request, the redirect's
// parameters, and a Browser that keeps cookies and submits the pages' forms with their CSRF tokens.
#include "devidp_fixture.hpp"

#include "deputy/devidp/authorize_endpoint.hpp"

#include <gtest/gtest.h>

#include <map>
#include <optional>
#include <string>

namespace deputy::devidp::testing {

inline constexpr std::string_view kRedirect = "http://localhost:8100/auth/callback";
inline const std::string kServerScope = "api://" + std::string(kServerId) + "/access_as_user";
inline constexpr std::string_view kVerifier =
    "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";  // RFC 7636 appendix B
inline constexpr std::string_view kChallenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

inline Fields authorization(Fields extra = {}) {
  Fields fields{{"client_id", std::string(kClientId)},
                {"response_type", "code"},
                {"redirect_uri", std::string(kRedirect)},
                {"scope", kServerScope + " openid profile offline_access"},
                {"state", "s-123"},
                {"nonce", "n-456"},
                {"code_challenge", std::string(kChallenge)},
                {"code_challenge_method", "S256"},
                {"client_info", "1"}};
  for (auto& [name, value] : extra) {
    std::erase_if(fields, [&](const auto& field) { return field.first == name; });
    if (value != "<absent>") fields.emplace_back(name, value);
  }
  return fields;
}

/// The query parameters of a redirect's Location (the part after '?').
inline Form redirect_params(const HttpAnswer& answer) {
  for (const auto& [name, value] : answer.headers) {
    if (name == "Location") {
      EXPECT_TRUE(value.starts_with(std::string(kRedirect) + "?")) << value;
      auto form = parse_form(std::string_view(value).substr(value.find('?') + 1));
      EXPECT_TRUE(form);
      return form ? *form : Form{};
    }
  }
  ADD_FAILURE() << "no Location: " << answer.status << " " << answer.body;
  return {};
}

/// The value of a hidden or prefilled input of a page.
inline std::string input_value(const std::string& page, std::string_view name) {
  const std::string marker = "name=\"" + std::string(name) + "\" value=\"";
  const auto at = page.find(marker);
  if (at == std::string::npos) return {};
  const auto start = at + marker.size();
  return page.substr(start, page.find('"', start) - start);
}

inline std::optional<std::string> header(const HttpAnswer& answer, std::string_view name) {
  for (const auto& [key, value] : answer.headers) {
    if (key == name) return value;
  }
  return std::nullopt;
}

/// A browser: keeps the cookies the provider sets and sends them back, and submits a page's form with its
/// CSRF token, as a user clicking through the pages would.
class Browser {
 public:
  explicit Browser(const IdentityProvider& provider) : provider_(provider) {}

  HttpAnswer open(const Fields& fields, std::string_view tenant = kTenantId) {
    const std::string query = encode(fields);
    const std::string cookie = cookie_header();
    return keep(authorize(provider_, {.tenant = tenant, .query = query, .cookie = cookie}));
  }
  /// Posts `page`'s form: its csrf field and `fields`.
  HttpAnswer submit(const HttpAnswer& page, Fields fields, std::string_view tenant = kTenantId) {
    fields.emplace_back("csrf", input_value(page.body, "csrf"));
    return post(fields, tenant);
  }
  HttpAnswer post(const Fields& fields, std::string_view tenant = kTenantId) {
    const std::string body = encode(fields);
    const std::string cookie = cookie_header();
    return keep(authorize(provider_, {.tenant = tenant,
                                      .post = true,
                                      .content_type = "application/x-www-form-urlencoded",
                                      .body = body,
                                      .cookie = cookie}));
  }
  /// Opens the authorization and signs in with the password on the page it shows.
  HttpAnswer sign_in(const Fields& fields, std::string_view login, std::string_view password) {
    const auto page = open(fields);
    EXPECT_NE(page.body.find("id=\"password\""), std::string::npos) << page.status << " " << page.body;
    return submit(page, {{"username", std::string(login)}, {"password", std::string(password)}});
  }
  std::map<std::string, std::string>& cookies() { return cookies_; }

 private:
  HttpAnswer keep(HttpAnswer answer) {
    for (const auto& [name, value] : answer.headers) {
      if (name != "Set-Cookie") continue;
      const auto equals = value.find('=');
      cookies_[value.substr(0, equals)] = value.substr(equals + 1, value.find(';') - equals - 1);
    }
    return answer;
  }
  std::string cookie_header() const {
    std::string out;
    for (const auto& [name, value] : cookies_) out += (out.empty() ? "" : "; ") + name + "=" + value;
    return out;
  }

  const IdentityProvider& provider_;
  std::map<std::string, std::string> cookies_;
};

}  // namespace deputy::devidp::testing
