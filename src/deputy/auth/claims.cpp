#include "deputy/auth/claims.hpp"

#include <algorithm>
#include <cmath>
#include <optional>

namespace deputy::auth {

namespace json = boost::json;
using Clock = std::chrono::system_clock;

namespace {

constexpr std::string_view kTenantPlaceholder = "{tenantid}";

std::string_view string_claim(const json::object& payload, std::string_view name) {
  const auto* value = payload.if_contains(name);
  return value != nullptr && value->is_string() ? std::string_view(value->get_string()) : std::string_view();
}

/// NumericDate (RFC 7519): seconds since the epoch, integer or not (some issuers send fractions).
std::optional<Clock::time_point> time_claim(const json::object& payload, std::string_view name) {
  const auto* value = payload.if_contains(name);
  if (value == nullptr) return std::nullopt;
  double seconds = 0;
  if (value->is_int64()) {
    seconds = static_cast<double>(value->get_int64());
  } else if (value->is_uint64()) {
    seconds = static_cast<double>(value->get_uint64());
  } else if (value->is_double()) {
    seconds = value->get_double();
  } else {
    return std::nullopt;
  }
  // Far beyond any real token (year 2096): refuse rather than overflow the clock, whose nanoseconds end
  // in 2262.
  if (!std::isfinite(seconds) || seconds < 0 || seconds > 4e9) return std::nullopt;
  return Clock::time_point(std::chrono::seconds(static_cast<std::int64_t>(seconds)));
}

bool contains(const std::vector<std::string>& values, std::string_view wanted) {
  return std::ranges::find(values, wanted) != values.end();
}

std::vector<std::string> split_scopes(std::string_view text) {
  std::vector<std::string> out;
  while (!text.empty()) {
    const auto space = text.find(' ');
    if (space != 0) out.emplace_back(text.substr(0, space));
    if (space == std::string_view::npos) break;
    text.remove_prefix(space + 1);
  }
  return out;
}

}  // namespace

ClaimsPolicy::ClaimsPolicy(const ValidatorOptions& options)
    : tenant_allowlist_(options.tenant_allowlist),
      tenant_id_(options.tenant_id),
      audiences_(options.audiences),
      accepted_versions_(options.accepted_versions),
      required_scopes_(options.required_scopes),
      leeway_(options.leeway),
      allow_app_only_(options.allow_app_only) {
  for (const auto& issuer : options.issuers) {
    (issuer.find(kTenantPlaceholder) != std::string::npos ? templated_issuers_ : exact_issuers_).push_back(issuer);
  }
}

std::expected<void, Error> ClaimsPolicy::check_issuer(std::string_view issuer, std::string_view tenant) const {
  if (contains(exact_issuers_, issuer)) {
    if (!tenant_id_.empty() && tenant != tenant_id_) return std::unexpected(Error::kTenantNotAllowed);
    return {};
  }
  for (const auto& pattern : templated_issuers_) {
    // The template is filled with the token's own tid, and that tenant must be on the allowlist: the
    // issuer check stays on for multi-tenant apps.
    const auto at = pattern.find(kTenantPlaceholder);
    const std::string_view prefix(pattern.data(), at);
    const std::string_view suffix(pattern.data() + at + kTenantPlaceholder.size());
    if (issuer.size() != prefix.size() + tenant.size() + suffix.size()) continue;
    if (!issuer.starts_with(prefix) || !issuer.ends_with(suffix)) continue;
    if (issuer.substr(prefix.size(), tenant.size()) != tenant || tenant.empty()) continue;
    if (!contains(tenant_allowlist_, tenant)) return std::unexpected(Error::kTenantNotAllowed);
    return {};
  }
  return std::unexpected(Error::kWrongIssuer);
}

std::expected<void, Error> ClaimsPolicy::check_time(Clock::time_point expires_at, Clock::time_point not_before,
                                                    Clock::time_point now) const {
  if (now > expires_at + leeway_) return std::unexpected(Error::kExpired);
  if (now + leeway_ < not_before) return std::unexpected(Error::kNotYetValid);
  return {};
}

std::expected<Principal, Error> ClaimsPolicy::check(const json::object& payload, Clock::time_point now) const {
  Principal principal;
  principal.issuer = string_claim(payload, "iss");
  principal.tenant_id = string_claim(payload, "tid");
  if (auto issuer = check_issuer(principal.issuer, principal.tenant_id); !issuer) {
    return std::unexpected(issuer.error());
  }

  // aud: a string or an array of strings; one accepted value is enough.
  bool audience_ok = false;
  if (const auto* audience = payload.if_contains("aud")) {
    if (audience->is_string()) {
      audience_ok = contains(audiences_, audience->get_string());
    } else if (audience->is_array()) {
      audience_ok = std::ranges::any_of(audience->get_array(), [&](const json::value& entry) {
        return entry.is_string() && contains(audiences_, entry.get_string());
      });
    }
  }
  if (!audience_ok) return std::unexpected(Error::kWrongAudience);

  // A token without exp would be valid forever.
  const auto expires_at = time_claim(payload, "exp");
  if (!expires_at) return std::unexpected(Error::kMissingExpiry);
  const auto not_before = time_claim(payload, "nbf").value_or(Clock::time_point::min());
  if (payload.contains("nbf") && !time_claim(payload, "nbf")) return std::unexpected(Error::kMalformed);
  if (auto time = check_time(*expires_at, not_before, now); !time) return std::unexpected(time.error());

  principal.token_version = string_claim(payload, "ver");
  if (!accepted_versions_.empty() && !contains(accepted_versions_, principal.token_version)) {
    return std::unexpected(Error::kVersionNotAllowed);
  }

  principal.subject = string_claim(payload, "sub");
  principal.object_id = string_claim(payload, "oid");
  principal.name = string_claim(payload, "name");
  principal.username = string_claim(payload, "preferred_username");
  if (principal.username.empty()) principal.username = string_claim(payload, "upn");
  if (principal.username.empty()) principal.username = string_claim(payload, "unique_name");
  principal.client_id = string_claim(payload, "azp");
  if (principal.client_id.empty()) principal.client_id = string_claim(payload, "appid");
  principal.token_id = string_claim(payload, "uti");
  if (principal.token_id.empty()) principal.token_id = string_claim(payload, "jti");
  principal.expires_at = *expires_at;
  if (const auto* roles = payload.if_contains("roles"); roles != nullptr && roles->is_array()) {
    for (const auto& role : roles->get_array()) {
      if (role.is_string()) principal.roles.emplace_back(role.get_string());
    }
  }
  principal.scopes = split_scopes(string_claim(payload, "scp"));

  // App-only tokens carry no user: Entra marks them idtyp=app (when asked to) and never gives them scp.
  principal.app_only = string_claim(payload, "idtyp") == "app" || !payload.contains("scp");
  if (principal.app_only && !allow_app_only_) return std::unexpected(Error::kAppOnlyNotAllowed);
  if (!principal.app_only) {
    for (const auto& scope : required_scopes_) {
      if (!principal.has_scope(scope)) return std::unexpected(Error::kInsufficientScope);
    }
  }
  if (principal.subject.empty() && principal.object_id.empty()) return std::unexpected(Error::kMalformed);
  principal.identity = principal.key();
  return principal;
}

}  // namespace deputy::auth
