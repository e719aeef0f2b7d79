#pragma once
// The answers of the authorization endpoint (authorize_endpoint.hpp), decided in one place: HTML with its
// security headers (no framing, no referrer, nothing loaded from elsewhere, forms only to us and the client),
// the code or error carried to the client's redirect URI (a 302, or form_post's self-posting page), and
// refusals, shown on an error page until the redirect URI is trusted and sent back to it after.

#include "deputy/devidp/authorization_request.hpp"
#include "deputy/devidp/identity_provider.hpp"
#include "deputy/devidp/pages.hpp"

#include <string>
#include <string_view>

namespace deputy::devidp {

/// Pages with no form that leads to the client (the error page).
inline constexpr std::string_view kPageSecurity =
    "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'";

/// An HTML answer with the security headers and `policy` as Content-Security-Policy.
[[nodiscard]] HttpAnswer html_answer(unsigned status, std::string body,
                                     std::string_view policy = kPageSecurity);

/// A page of the sign-in (200): its form may end in a redirect to the client, and browsers hold that redirect
/// to form-action too, so the redirect URI's origin is allowed besides our own.
[[nodiscard]] HttpAnswer page_answer(std::string body, const Authorization& authorization);

/// The answer that carries `fields` to the client: a 302 with them in the redirect URI's query, or a page
/// that posts them (response_mode=form_post).
[[nodiscard]] HttpAnswer send_to_client(const Authorization& authorization, const Params& fields);

/// A refusal: an error page (400) when refusal.to_client is null, else error, error_description (Entra's text
/// with trace and correlation ids and the time), error_uri and state sent to the client. Logged and counted.
[[nodiscard]] HttpAnswer refuse_authorization(const IdentityProvider& provider, const Refusal& refusal);

/// Counts one outcome in deputy_devidp_authorize_total (`labels` as Prometheus label pairs).
void count_authorization(std::string_view labels);

}  // namespace deputy::devidp
