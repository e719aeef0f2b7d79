#include "deputy/obo/token_response.hpp"

#include "deputy/auth/jws.hpp"

#include <fmt/format.h>
#include <boost/json.hpp>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdint>

namespace deputy::obo {

namespace json = boost::json;

namespace {

/// Token responses are flat objects; Entra's claims challenge is a string. Deeper is not a token response.
constexpr std::size_t kMaxResponseDepth = 16;

/// Entra's codes for a claims challenge the user can satisfy by signing in again: MFA required (50076,
/// 50079), a Conditional Access session requirement (50158), strong authentication (50074), MFA
/// re-registration (50072).
constexpr std::int64_t kInteractionCodes[] = {50076, 50079, 50158, 50074, 50072};
/// AADSTS65001: no consent for the scopes.
constexpr std::int64_t kConsentCode = 65001;
/// AADSTS50027 under invalid_request: the OBO assertion (the user's token) is not a JWT Entra can read. The
/// same number under invalid_client is our client assertion, which the error name already tells apart.
constexpr std::int64_t kMalformedAssertionCode = 50027;

std::optional<json::object> parse_object(std::string_view body) {
  if (body.size() > kMaxTokenResponseSize) return std::nullopt;
  json::parse_options options;
  options.max_depth = kMaxResponseDepth;
  boost::system::error_code ec;
  auto value = json::parse(body, ec, {}, options);
  if (ec || !value.is_object()) return std::nullopt;
  return std::move(value.as_object());
}

std::string_view string_member(const json::object& object, std::string_view name) {
  const auto* value = object.if_contains(name);
  return value != nullptr && value->is_string() ? std::string_view(value->get_string()) : std::string_view();
}

bool iequals(std::string_view a, std::string_view b) {
  return std::ranges::equal(a, b, [](char x, char y) {
    return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
  });
}

/// A non-negative whole number of seconds: an integer, a double, or a string of digits (Entra v1 sent
/// "expires_in":"3599").
std::optional<std::int64_t> seconds_member(const json::object& object, std::string_view name) {
  const auto* value = object.if_contains(name);
  if (value == nullptr) return std::nullopt;
  if (value->is_int64()) return value->get_int64();
  if (value->is_uint64())
    return static_cast<std::int64_t>(std::min<std::uint64_t>(value->get_uint64(), INT64_MAX));
  if (value->is_double()) {
    const double d = value->get_double();
    if (!(d >= 0 && d < 1e12)) return std::nullopt;
    return static_cast<std::int64_t>(d);
  }
  if (value->is_string()) {
    const std::string_view text = value->get_string();
    std::int64_t parsed = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), parsed);
    if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
    return parsed;
  }
  return std::nullopt;
}

std::string joined(const std::vector<std::string>& scopes) {
  std::string out;
  for (const auto& scope : scopes) {
    if (!out.empty()) out += ' ';
    out += scope;
  }
  return out;
}

Failure make_failure(Error error, std::string description, const std::vector<std::string>& scopes,
                     unsigned status) {
  return Failure{
      .error = error, .scopes = scopes, .description = std::move(description), .http_status = status};
}

/// Which Error an RFC 6749 error (with Entra's details) is. Order matters: Entra sends consent and MFA
/// problems under invalid_grant, told apart only by the code, the suberror or the claims.
Error classify(std::string_view error, const std::vector<std::int64_t>& codes, std::string_view suberror,
               bool has_claims) {
  const auto has = [&](std::int64_t code) { return std::ranges::find(codes, code) != codes.end(); };
  if (error == "consent_required" || suberror == "consent_required" || has(kConsentCode)) {
    return Error::consent_required;
  }
  if (error == "interaction_required" || error == "login_required" || has_claims ||
      std::ranges::any_of(kInteractionCodes, has)) {
    return Error::interaction_required;
  }
  // access_denied: Entra's blocks that no sign-in satisfies (AADSTS53003, a Conditional Access block) refuse
  // this user's token, as invalid_grant does.
  if (error == "invalid_grant" || error == "access_denied") return Error::invalid_grant;
  if (error == "invalid_client" || error == "unauthorized_client") return Error::invalid_client;
  // invalid_target is RFC 8693's word for an audience or resource the provider will not issue for.
  if (error == "invalid_scope" || error == "invalid_resource" || error == "invalid_target")
    return Error::invalid_scope;
  if (error == "invalid_request" && has(kMalformedAssertionCode)) return Error::invalid_grant;
  if (error == "temporarily_unavailable" || error == "server_error") return Error::unavailable;
  return Error::invalid_request;  // invalid_request, unsupported_grant_type, and anything unknown
}

/// The leading AADSTSnnnnn of an Entra description, for bodies without error_codes.
std::string code_in_description(std::string_view description) {
  if (!description.starts_with("AADSTS")) return {};
  std::size_t end = 6;
  while (end < description.size() && end < 16 && std::isdigit(static_cast<unsigned char>(description[end])))
    ++end;
  return end > 6 ? std::string(description.substr(0, end)) : std::string();
}

std::optional<std::chrono::seconds> retry_after_of(const net::ClientResponse& response,
                                                   Clock::time_point now) {
  const auto header = response.header("Retry-After");
  if (!header) return std::nullopt;
  return net::parse_retry_after(*header, now);
}

}  // namespace

std::expected<DownstreamToken, Failure> parse_token_response(const net::ClientResponse& response,
                                                             const std::vector<std::string>& scopes,
                                                             Clock::time_point now) {
  const auto malformed = [&](std::string_view why) {
    return std::unexpected(make_failure(
        Error::malformed_response, fmt::format("the identity provider's token response is unusable: {}", why),
        scopes, response.status));
  };
  if (response.body.size() > kMaxTokenResponseSize) return malformed("larger than the limit");
  auto body = parse_object(response.body);
  if (!body) return malformed("not a JSON object");
  const std::string_view access_token = string_member(*body, "access_token");
  if (access_token.empty()) return malformed("no access_token");
  // RFC 8693 answers N_A for tokens that are not access tokens: nothing we could send as a bearer.
  if (const auto* type = body->if_contains("token_type");
      type != nullptr && !(type->is_string() && iequals(type->get_string(), "Bearer"))) {
    return malformed("token_type is not Bearer");
  }

  DownstreamToken token;
  token.access_token = std::string(access_token);
  // The issued token, read but not verified (it is the downstream API's to verify): its audience and id for
  // audit records, and exp when the response gives no expires_in.
  std::optional<std::int64_t> jwt_exp;
  if (auto jws = auth::parse_jws(access_token, {.algorithms = auth::AlgSet::all()})) {
    const auto& claims = jws->payload();
    if (const auto* aud = claims.if_contains("aud")) {
      if (aud->is_string()) {
        token.audience = std::string(aud->get_string());
      } else if (aud->is_array() && !aud->get_array().empty() && aud->get_array().front().is_string()) {
        token.audience = std::string(aud->get_array().front().get_string());
      }
    }
    token.token_id = std::string(string_member(claims, "uti"));
    if (token.token_id.empty()) token.token_id = std::string(string_member(claims, "jti"));
    jwt_exp = seconds_member(claims, "exp");
  }

  std::chrono::seconds lifetime{0};
  if (body->contains("expires_in")) {
    const auto expires_in = seconds_member(*body, "expires_in");
    if (!expires_in || *expires_in < 0) return malformed("expires_in is not a number of seconds");
    lifetime = std::chrono::seconds(*expires_in);
  } else if (jwt_exp) {
    const auto now_seconds = std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
    lifetime = std::chrono::seconds(std::max<std::int64_t>(0, *jwt_exp - now_seconds));
  } else {
    return malformed("no expires_in and no exp");
  }
  lifetime = std::min<std::chrono::seconds>(lifetime, kMaxTokenLifetime);
  token.expires_at = now + lifetime;

  const std::string_view scope = string_member(*body, "scope");
  token.scope = scope.empty() ? joined(scopes) : std::string(scope);
  return token;
}

Failure failure_from_response(const net::ClientResponse& response, const std::vector<std::string>& scopes,
                              Clock::time_point now) {
  const unsigned status = response.status;
  const bool server_side = status == 429 || status >= 500;
  auto body = parse_object(response.body);
  const std::string_view oauth_error = body ? string_member(*body, "error") : std::string_view();
  if (oauth_error.empty()) {
    if (server_side) {
      auto failure =
          make_failure(Error::unavailable,
                       fmt::format("the identity provider is unavailable (HTTP {})", status), scopes, status);
      failure.retry_after = retry_after_of(response, now);
      return failure;
    }
    return make_failure(Error::malformed_response,
                        fmt::format("the identity provider answered HTTP {} without an OAuth error", status),
                        scopes, status);
  }

  std::vector<std::int64_t> codes;
  if (const auto* list = body->if_contains("error_codes"); list != nullptr && list->is_array()) {
    for (const auto& code : list->get_array()) {
      if (code.is_int64()) codes.push_back(code.get_int64());
      if (code.is_uint64()) codes.push_back(static_cast<std::int64_t>(code.get_uint64()));
    }
  }
  std::string claims;
  if (const auto* value = body->if_contains("claims")) {
    // Entra sends the challenge as a JSON text in a string; a provider sending the object itself gets it
    // serialized.
    if (value->is_string()) {
      claims = std::string(value->get_string());
    } else if (value->is_object()) {
      claims = json::serialize(*value);
    }
  }
  const std::string_view description = string_member(*body, "error_description");

  Failure failure;
  failure.error = server_side
                      ? Error::unavailable
                      : classify(oauth_error, codes, string_member(*body, "suberror"), !claims.empty());
  failure.oauth_error = safe_description(oauth_error.substr(0, 64));
  failure.code = codes.empty() ? code_in_description(description) : fmt::format("AADSTS{}", codes.front());
  failure.claims = std::move(claims);
  failure.scopes = scopes;
  failure.http_status = status;
  failure.description = description.empty() ? fmt::format("the identity provider refused the exchange ({})",
                                                          failure.oauth_error)
                                            : safe_description(description);
  if (server_side) failure.retry_after = retry_after_of(response, now);
  return failure;
}

Failure failure_from_transport(net::ClientError error, const std::vector<std::string>& scopes) {
  if (error == net::ClientError::response_too_large || error == net::ClientError::headers_too_large) {
    return make_failure(
        Error::malformed_response,
        fmt::format("the identity provider's answer is too large ({})", net::to_string(error)), scopes, 0);
  }
  return make_failure(Error::unavailable,
                      fmt::format("the identity provider could not be reached ({})", net::to_string(error)),
                      scopes, 0);
}

}  // namespace deputy::obo
