#pragma once
// WWW-Authenticate challenges (RFC 9110 §11.6.1, RFC 6750 §3) as an MCP server sends them on 401 and 403, and
// what the client does about each:
//   error="invalid_token" (or no error)      the token expired or was revoked: renew silently, retry once
//   error="insufficient_claims", claims=...  a claims challenge (Conditional Access, MFA): sign in again with
//                                            the claims in the authorize request, retry once
//   error="insufficient_scope"               a 403 no new token of the same scopes can fix

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace deputy::client {

struct Challenge {
  std::string scheme;                         // lowercased: "bearer"
  std::map<std::string, std::string> params;  // names lowercased, values unquoted

  [[nodiscard]] std::string param(std::string_view name) const;
};

/// Every challenge of a header value; malformed parts end the parse (what was read before is kept).
[[nodiscard]] std::vector<Challenge> parse_www_authenticate(std::string_view header);

enum class ChallengeAction {
  kRenew,   // get a new token silently and retry
  kStepUp,  // sign in again with `claims` and retry
  kGiveUp,  // nothing a new token would fix
};

struct ChallengeDecision {
  ChallengeAction action = ChallengeAction::kGiveUp;
  std::string claims;  // kStepUp: the decoded claims request (JSON)
  std::string error;   // the challenge's error=, for messages
  std::string error_description;
};

/// The decision for a 401/403 answer with `header` (possibly empty).
[[nodiscard]] ChallengeDecision decide(unsigned status, std::string_view header);

/// The claims parameter decoded: base64 (standard or URL-safe alphabet, padded or not, as Entra and servers
/// send it) of a JSON object; nullopt when it is not.
[[nodiscard]] std::optional<std::string> decode_claims(std::string_view encoded);

}  // namespace deputy::client
