#include "deputy/devidp/authorize_answers.hpp"
#include "deputy/net/percent_encoding.hpp"

#include "deputy/audit/metrics.hpp"
#include "deputy/devidp/form.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>

namespace deputy::devidp {

namespace {

// The form_post page submits itself (inline script) to the client's redirect URI.
constexpr std::string_view kFormPostSecurity =
    "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; frame-ancestors 'none'";

/// scheme://host[:port] of a registered redirect URI, or empty when it has characters a policy cannot hold.
std::string origin_of(std::string_view uri) {
  const auto scheme_end = uri.find("://");
  if (scheme_end == std::string_view::npos) return {};
  const auto end = uri.find_first_of("/?#", scheme_end + 3);
  const auto origin = uri.substr(0, end);
  const bool plain = std::ranges::all_of(origin, [](unsigned char c) {
    return std::isalnum(c) != 0 || c == ':' || c == '/' || c == '.' || c == '-' || c == '[' || c == ']' ||
           c == '+';
  });
  return plain ? std::string(origin) : std::string();
}

}  // namespace

HttpAnswer html_answer(unsigned status, std::string body, std::string_view policy) {
  return {.status = status,
          .content_type = "text/html; charset=utf-8",
          .body = std::move(body),
          .headers = {{"Content-Security-Policy", std::string(policy)},
                      {"X-Frame-Options", "DENY"},
                      {"Referrer-Policy", "no-referrer"}}};
}

HttpAnswer page_answer(std::string body, const Authorization& authorization) {
  const auto origin = origin_of(authorization.redirect_uri);
  const std::string policy = fmt::format(
      "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'{}{}; frame-ancestors 'none'",
      origin.empty() ? "" : " ", origin);
  return html_answer(200, std::move(body), policy);
}

HttpAnswer send_to_client(const Authorization& authorization, const Params& fields) {
  if (authorization.response_mode == "form_post") {
    return html_answer(200, form_post_page(authorization.redirect_uri, fields), kFormPostSecurity);
  }
  std::string location = authorization.redirect_uri;
  char separator = location.find('?') == std::string::npos ? '?' : '&';
  for (const auto& [name, value] : fields) {
    location += fmt::format("{}{}={}", separator, net::percent_encode(name), net::percent_encode(value));
    separator = '&';
  }
  return {.status = 302,
          .content_type = "text/plain; charset=utf-8",
          .body = "Redirecting\n",
          .headers = {{"Location", std::move(location)}, {"Referrer-Policy", "no-referrer"}}};
}

void count_authorization(std::string_view labels) {
  audit::Metrics::global()
      .counter("deputy_devidp_authorize_total", labels,
               "Authorization requests of the development identity provider")
      .add();
}

HttpAnswer refuse_authorization(const IdentityProvider& provider, const Refusal& refusal) {
  const auto& error = info(refusal.failure.error);
  const std::string trace_id = random_guid(provider.random());
  spdlog::info("devidp authorization refused: {} (AADSTS{})", error.reason, error.code);
  count_authorization(fmt::format(R"(result="refused",reason="{}")", error.reason));
  if (refusal.to_client == nullptr)
    return html_answer(400, error_page(error.code, refusal.failure.message, trace_id));
  Params fields{
      {"error", std::string(error.oauth_error)},
      {"error_description", fmt::format("AADSTS{}: {}\r\nTrace ID: {}\r\nCorrelation ID: {}\r\nTimestamp: {}",
                                        error.code, refusal.failure.message, trace_id,
                                        random_guid(provider.random()), entra_timestamp(provider.now()))},
      {"error_uri", fmt::format("{}/error?code={}", provider.base_url(), error.code)}};
  // Entra's error_subcode (cancel: the user declined), which MSAL reads to tell a cancel from a failure.
  if (!error.suberror.empty()) fields.emplace_back("error_subcode", std::string(error.suberror));
  if (!refusal.to_client->state.empty()) fields.emplace_back("state", refusal.to_client->state);
  return send_to_client(*refusal.to_client, fields);
}

}  // namespace deputy::devidp
