#pragma once
// Why a request was not authenticated or not authorized: one closed list, one stable reason string per
// value (metrics labels, audit records), and one place that turns them into an HTTP answer (bearer.cpp).
// Reasons are never merged: "no token" and "token from an unknown issuer" stay apart, so a check that is
// switched off by mistake shows in the counts.

#include <string_view>

namespace deputy::auth {

enum class Error {
  kMissingToken,        // no Authorization header
  kUnsupportedScheme,   // Authorization present but not Bearer (e.g. Basic)
  kEmptyToken,          // "Bearer" with nothing after it
  kTokenInQuery,        // access_token in the URL: refused, tokens end up in logs there
  kAmbiguousCredentials,  // more than one Authorization header: which one counts depends on who reads
  kTooLarge,            // longer than the JWS size cap, refused before decoding
  kMalformed,           // not a compact JWS: parts, base64url, JSON objects
  kAlgorithmNotAllowed, // alg outside the allowlist (none, HS256, ...)
  kUnsupportedCritical, // crit names an extension we do not understand
  kUnknownKey,          // no key with that kid, even after a refetch
  kKeyMismatch,         // the key's type or alg does not fit the token's alg
  kBadSignature,        // the signature does not verify
  kKeysUnavailable,     // the issuer's keys could not be fetched and none are cached
  kWrongIssuer,         // iss is not one we trust
  kTenantNotAllowed,    // a multi-tenant issuer, but a tenant outside the allowlist
  kWrongAudience,       // aud is not this server
  kMissingExpiry,       // no exp
  kExpired,             // exp passed (with leeway)
  kNotYetValid,         // nbf in the future (with leeway)
  kWrongType,           // typ is not the one required
  kVersionNotAllowed,   // a v1 token where only v2 is accepted, or the other way round
  kAppOnlyNotAllowed,   // an app-only token where users are required
  kInsufficientScope,   // valid token without a required scope (403, not 401)
};

[[nodiscard]] std::string_view to_string(Error error);

/// 403 insufficient_scope rather than 401 invalid_token.
[[nodiscard]] constexpr bool is_forbidden(Error error) { return error == Error::kInsufficientScope; }
/// Malformed requests (400 invalid_request) rather than bad tokens.
[[nodiscard]] constexpr bool is_bad_request(Error error) { return error == Error::kAmbiguousCredentials; }

}  // namespace deputy::auth
