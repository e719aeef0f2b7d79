#pragma once
// What the token validator checks, as configuration says (config/ fills it; token_validator.cpp applies it).

#include <chrono>
#include <cstddef>
#include <string>
#include <vector>

namespace deputy::auth {

/// Leeway on exp and nbf: clocks of issuer and server drift; Entra's own libraries allow five minutes,
/// one is enough between servers with NTP.
inline constexpr std::chrono::seconds kDefaultLeeway{60};
/// How often the issuer's keys are refreshed in the background.
inline constexpr std::chrono::seconds kDefaultJwksRefresh{3600};
/// An unknown kid triggers at most one refetch per this interval: a flood of tokens with invented kids
/// must not become a flood of requests to the identity provider.
inline constexpr std::chrono::seconds kDefaultUnknownKidRefetch{60};
/// Verified tokens remembered. Each keeps its token (1.5–4 KiB for Entra, at most 16 KiB) for the
/// On-Behalf-Of exchange, and its claims: 20,000 entries are tens of MiB, and cover a token per user for
/// that many active users.
inline constexpr std::size_t kDefaultVerifiedTokenCacheEntries = 20000;

struct ValidatorOptions {
  /// Accepted issuers, exactly, or with `{tenantid}` standing for the token's tid (multi-tenant apps).
  std::vector<std::string> issuers;
  /// Tenants a templated issuer accepts; a template without an allowlist is refused at start.
  std::vector<std::string> tenant_allowlist;
  /// For a single-tenant issuer: the tid every token must carry (the issuer string alone could be paired
  /// with another tenant's claims by whoever holds a signing key). Empty: not checked.
  std::string tenant_id;
  /// Accepted audiences (Entra: the client id and api://<client id>, or the MCP server's URL).
  std::vector<std::string> audiences;
  /// JWS algorithms accepted (RS256 by default; RS384/512, PS256/384/512, ES256/384/512 available).
  std::vector<std::string> algorithms{"RS256"};
  std::chrono::seconds leeway = kDefaultLeeway;
  /// Scopes every user token must carry (scp), e.g. access_as_user.
  std::vector<std::string> required_scopes;
  /// App-only tokens (idtyp=app, or no scp) are refused unless allowed.
  bool allow_app_only = false;
  /// A required `typ` header value, empty for none.
  std::string required_type;
  /// Entra token versions accepted ("1.0", "2.0"); empty: whatever the issuer list lets through.
  std::vector<std::string> accepted_versions;
  /// Where the keys are: a JWKS URL, or OIDC discovery from this URL's document.
  std::string jwks_uri;
  std::string discovery_url;
  /// Or a file holding the JWKS (read again at each refresh).
  std::string jwks_file;
  std::chrono::seconds jwks_refresh = kDefaultJwksRefresh;
  std::chrono::seconds unknown_kid_refetch = kDefaultUnknownKidRefetch;
  std::size_t cache_entries = kDefaultVerifiedTokenCacheEntries;
};

}  // namespace deputy::auth
