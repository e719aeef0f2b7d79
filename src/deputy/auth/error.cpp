#include "deputy/auth/error.hpp"

namespace deputy::auth {

std::string_view to_string(Error error) {
  switch (error) {
    case Error::kMissingToken: return "missing_token";
    case Error::kUnsupportedScheme: return "unsupported_scheme";
    case Error::kEmptyToken: return "empty_token";
    case Error::kTokenInQuery: return "token_in_query";
    case Error::kAmbiguousCredentials: return "ambiguous_credentials";
    case Error::kTooLarge: return "token_too_large";
    case Error::kMalformed: return "malformed_token";
    case Error::kAlgorithmNotAllowed: return "alg_not_allowed";
    case Error::kUnsupportedCritical: return "crit_unsupported";
    case Error::kUnknownKey: return "unknown_kid";
    case Error::kKeyMismatch: return "key_mismatch";
    case Error::kBadSignature: return "bad_signature";
    case Error::kKeysUnavailable: return "keys_unavailable";
    case Error::kWrongIssuer: return "wrong_issuer";
    case Error::kTenantNotAllowed: return "tenant_not_allowed";
    case Error::kWrongAudience: return "wrong_audience";
    case Error::kMissingExpiry: return "missing_exp";
    case Error::kExpired: return "expired";
    case Error::kNotYetValid: return "not_yet_valid";
    case Error::kWrongType: return "wrong_typ";
    case Error::kVersionNotAllowed: return "version_not_allowed";
    case Error::kAppOnlyNotAllowed: return "app_only_not_allowed";
    case Error::kInsufficientScope: return "insufficient_scope";
  }
  return "unknown";
}

}  // namespace deputy::auth
