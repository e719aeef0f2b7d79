#pragma once
// An authorization request's parameters, checked as Entra checks them (authorize_endpoint.hpp): the client
// and its exact redirect URI first (until both are known nothing may be sent anywhere), then response type
// and mode, scope, PKCE, prompt and claims. Checked again at every step of the pages, from the request kept
// server-side, so that a step never trusts what an earlier one decided.

#include "deputy/devidp/form.hpp"
#include "deputy/devidp/identity_provider.hpp"
#include "deputy/devidp/scopes.hpp"

#include <expected>
#include <string>

namespace deputy::devidp {

struct Authorization {
  const Application* app = nullptr;
  std::string redirect_uri;
  std::string response_mode;  // query or form_post
  std::string state;
  std::string scope;
  ScopeRequest scopes;
  std::string nonce;
  std::string code_challenge;
  std::string prompt;  // empty, none, login, consent or select_account
  std::string login_hint;
  bool client_info = false;
  bool claims_demand_mfa = false;  // the claims parameter asks for amr mfa, acrs or capolids
};

/// Why a request is refused: sent back to the client when its redirect URI is trusted, else shown.
struct Refusal {
  Failure failure;
  const Authorization* to_client = nullptr;  // null: an error page
};

/// Checks an authorization request. `out` is filled as far as it got, so that a refusal after the redirect
/// URI is trusted can go back to it (Refusal::to_client points at `out`).
[[nodiscard]] std::expected<void, Refusal> check_authorization(const IdentityProvider& provider,
                                                               const Form& params, Authorization& out);

/// Whether a claims parameter (OpenID Connect §5.5, Entra's claims challenges) asks for a multi-factor
/// sign-in: amr with the value mfa, or any acrs or capolids (Conditional Access), in access_token or
/// id_token. Anything but a JSON object is kMalformedRequest.
[[nodiscard]] std::expected<bool, Failure> claims_demand_mfa(std::string_view claims);

}  // namespace deputy::devidp
