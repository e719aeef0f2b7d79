#pragma once
// Why a token exchange (On-Behalf-Of or RFC 8693) gave no downstream token: one closed list, one stable
// reason string per value (metrics labels, audit records), and a Failure that carries what the layer
// answering the MCP client needs: the claims challenge to send back (interaction_required), the scopes to
// name in an admin-consent link (consent_required), and a description safe to show a user. Reasons are never
// merged: "the user must sign in again with MFA" and "our own credential was refused" call for different
// people.

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace deputy::obo {

enum class Error {
  interaction_required,  // a claims challenge (AADSTS50076/50079: MFA or Conditional Access): the user must
                         // sign in again with the claims; `Failure::claims` holds them
  consent_required,      // the user or an admin has not consented to the downstream scopes (AADSTS65001)
  invalid_grant,         // the user's token was refused as an assertion: expired, forged, misaddressed,
                         // app-only (AADSTS7000114), unknown user
  invalid_client,   // our own app's credential or registration was refused (secret, certificate, client id)
  invalid_scope,    // the downstream scopes or resource are unknown or mixed
  invalid_request,  // the provider refused the request's shape (unsupported_grant_type: RFC 8693 not
                    // enabled; a bad parameter): a configuration problem on our side
  unavailable,      // the identity provider was unreachable, timed out, answered 5xx, or 429 after retries
  malformed_response,  // a 200 without a usable token, an error that is not JSON, or a body past the limit
  credential_unavailable,  // our credential could not be read: variable unset, file missing, key unusable
};

/// A stable reason string ("interaction_required"...).
[[nodiscard]] std::string_view to_string(Error error);

/// A failed exchange. Never holds a token, a secret, or the provider's trace and correlation ids.
struct Failure {
  Error error = Error::unavailable;
  /// Entra's code, "AADSTS65001"; empty when the answer carried none (other providers, transport errors).
  std::string code;
  /// The RFC 6749 "error" as the provider sent it ("invalid_grant", "unsupported_grant_type"), empty when
  /// there was no error body.
  std::string oauth_error;
  /// The claims challenge, the provider's JSON text as is (interaction_required); empty otherwise. The MCP
  /// layer sends it back base64-encoded in `WWW-Authenticate: Bearer error="insufficient_claims", claims=…`.
  std::string claims;
  /// The scopes that were asked for (for a consent link and for audit records).
  std::vector<std::string> scopes;
  /// Safe to show a user and to log: our own words, or the first line of Entra's error_description
  /// (the lines after it are trace and correlation ids and a timestamp), bounded and without control
  /// characters.
  std::string description;
  /// The HTTP status of the provider's answer; 0 when none came.
  unsigned http_status = 0;
  /// A throttled provider's Retry-After, when it gave one.
  std::optional<std::chrono::seconds> retry_after;
};

/// Longest description kept: Entra's first lines run to a few hundred characters; more is not for a user.
inline constexpr std::size_t kMaxDescriptionLength = 512;

/// `text` made safe for a user: its first line, control characters dropped, cut to kMaxDescriptionLength.
[[nodiscard]] std::string safe_description(std::string_view text);

/// Entra's admin-consent URL for consent_required:
/// `{authority}/{tenant}/v2.0/adminconsent?client_id=…&scope=…` (authority without a trailing slash, e.g.
/// https://login.microsoftonline.com; scopes space-joined and percent-encoded). An administrator who opens it
/// grants the scopes for the whole tenant.
[[nodiscard]] std::string admin_consent_url(std::string_view authority, std::string_view tenant,
                                            std::string_view client_id,
                                            const std::vector<std::string>& scopes);

}  // namespace deputy::obo
