#pragma once
// Who is calling: what a validated access token says about its user (or app), and the token itself,
// kept only for the On-Behalf-Of exchange. Tools see this; they never parse tokens themselves.

#include <algorithm>
#include <chrono>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace deputy::auth {

struct Principal {
  std::string issuer;       // iss
  std::string subject;      // sub (pairwise per app in Entra)
  std::string object_id;    // oid: the user's stable id in the tenant
  std::string tenant_id;    // tid
  std::string username;     // preferred_username, or upn in v1 tokens
  std::string name;         // display name
  std::string client_id;    // azp (v2) or appid (v1): the app that asked for the token
  std::string token_id;     // uti or jti
  std::string token_version;  // "1.0" or "2.0" (Entra's ver), empty for other issuers
  std::vector<std::string> roles;   // app roles of the user, or app permissions of an app-only token
  std::vector<std::string> scopes;  // delegated scopes (scp), space-separated on the wire
  bool app_only = false;            // no user: idtyp=app, or no scp
  std::chrono::system_clock::time_point expires_at;
  /// key(), computed once by the validator (the request path compares it with session owners).
  std::string identity;

  /// A stable identity for binding sessions and caches: tenant and object id where the issuer gives them
  /// (the same user across v1 and v2 tokens), otherwise issuer and subject.
  [[nodiscard]] std::string key() const {
    if (!identity.empty()) return identity;
    if (!tenant_id.empty() && !object_id.empty()) return "oid:" + tenant_id + "/" + object_id;
    return "sub:" + issuer + "|" + subject;
  }
  [[nodiscard]] bool has_role(std::string_view role) const {
    return std::ranges::find(roles, role) != roles.end();
  }
  [[nodiscard]] bool has_scope(std::string_view scope) const {
    return std::ranges::find(scopes, scope) != scopes.end();
  }
  /// For logs and audit records: who, without anything secret.
  [[nodiscard]] std::string describe() const { return username.empty() ? key() : username; }

  /// The token as received. Tools do not see it: it serves the On-Behalf-Of exchange (exchange_subject())
  /// and the validator's cache only, is never logged, never returned, never passed downstream as is.
  void set_token(std::string token) { token_ = std::move(token); }

 private:
  friend std::string_view exchange_subject(const Principal& principal);
  std::string token_;
};

/// The caller's token, to exchange for a downstream token (tools/downstream.cpp) and to match the validator's
/// cache entries (token_validator.cpp), the only two callers: a name to
/// grep for, so that any other use stands out in review.
[[nodiscard]] inline std::string_view exchange_subject(const Principal& principal) { return principal.token_; }

}  // namespace deputy::auth
