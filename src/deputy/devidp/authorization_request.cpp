#include "deputy/devidp/authorization_request.hpp"

#include "deputy/auth/base64url.hpp"

#include <fmt/format.h>
#include <boost/json.hpp>

#include <algorithm>
#include <array>

namespace deputy::devidp {

namespace json = boost::json;

namespace {

/// Echoed request values are cut short: they are the caller's text.
std::string shown(std::string_view text) {
  return std::string(text.substr(0, std::min<std::size_t>(text.size(), 200)));
}

Failure missing(std::string_view name) {
  return {IdpError::kMissingParameter,
          fmt::format("The request must contain the following parameter: '{}'.", name)};
}

/// The prompt values Entra takes (create, for self-service sign-up, is not among a dev directory's).
constexpr std::array<std::string_view, 5> kPrompts{"", "none", "login", "consent", "select_account"};

bool names_mfa(const json::value& value) {
  return value.is_string() && value.get_string() == "mfa";
}

/// {"values":["mfa"]} or {"value":"mfa"}.
bool amr_demands_mfa(const json::value& amr) {
  const auto* request = amr.if_object();
  if (request == nullptr) return false;
  if (const auto* value = request->if_contains("value"); value != nullptr && names_mfa(*value)) return true;
  const auto* values = request->if_contains("values");
  return values != nullptr && values->is_array() && std::ranges::any_of(values->get_array(), names_mfa);
}

}  // namespace

std::expected<bool, Failure> claims_demand_mfa(std::string_view claims) {
  boost::system::error_code error;
  const auto value = json::parse(claims, error);
  if (error || !value.is_object()) {
    return std::unexpected(
        Failure{IdpError::kMalformedRequest,
                "Invalid request. The claims parameter must be a JSON object (OpenID Connect "
                "section 5.5)."});
  }
  for (std::string_view target : {"access_token", "id_token"}) {
    const auto* requested = value.get_object().if_contains(target);
    if (requested == nullptr || !requested->is_object()) continue;
    const auto& members = requested->get_object();
    // Conditional Access names its policies (capolids) or authentication contexts (acrs): in this directory
    // every such policy is an MFA policy.
    if (members.contains("capolids") || members.contains("acrs")) return true;
    if (const auto* amr = members.if_contains("amr"); amr != nullptr && amr_demands_mfa(*amr)) return true;
  }
  return false;
}

std::expected<void, Refusal> check_authorization(const IdentityProvider& provider, const Form& params,
                                                 Authorization& out) {
  const auto& directory = provider.directory();
  // Until client and redirect URI are known, nothing may be sent anywhere: errors are shown.
  const auto client_id = params.value("client_id");
  if (client_id.empty()) return std::unexpected(Refusal{missing("client_id")});
  out.app = directory.find_app_by_client_id(client_id);
  if (out.app == nullptr) {
    return std::unexpected(
        Refusal{{IdpError::kUnknownClient,
                 fmt::format("Application with identifier '{}' was not found in the directory '{}'.",
                             shown(client_id), directory.tenant.display_name)}});
  }
  out.redirect_uri = params.value("redirect_uri");
  if (out.redirect_uri.empty()) return std::unexpected(Refusal{missing("redirect_uri")});
  // Exact match with a registered URI: a prefix or pattern match would let a code be sent to a look-alike.
  if (std::ranges::find(out.app->redirect_uris, out.redirect_uri) == out.app->redirect_uris.end()) {
    return std::unexpected(Refusal{
        {IdpError::kRedirectUriNotRegistered,
         fmt::format(
             "The redirect URI '{}' specified in the request does not match the redirect URIs configured for "
             "the application '{}'. Make sure the redirect URI sent in the request matches one added to your "
             "application in the Azure portal.",
             shown(out.redirect_uri), out.app->client_id)}});
  }
  out.state = params.value("state");
  out.response_mode = params.value("response_mode");
  if (out.response_mode.empty()) out.response_mode = "query";
  if (out.response_mode != "query" && out.response_mode != "form_post") {
    const std::string mode = out.response_mode;
    out.response_mode = "query";
    return std::unexpected(
        Refusal{{IdpError::kMalformedRequest,
                 fmt::format("Invalid request. response_mode '{}' is not supported here; use query "
                             "or form_post.",
                             shown(mode))},
                &out});
  }
  // From here on errors go back to the client.
  const auto response_type = params.value("response_type");
  if (response_type.empty()) return std::unexpected(Refusal{missing("response_type"), &out});
  if (response_type != "code") {
    return std::unexpected(
        Refusal{{IdpError::kUnsupportedResponseType,
                 fmt::format("The provided value for the input parameter 'response_type' is not "
                             "allowed for this request. Expected value: 'code'. Received: '{}'.",
                             shown(response_type))},
                &out});
  }
  out.scope = params.value("scope");
  if (out.scope.empty()) return std::unexpected(Refusal{missing("scope"), &out});
  auto scopes = parse_scopes(directory, out.scope);
  if (!scopes) return std::unexpected(Refusal{scopes.error(), &out});
  out.scopes = *scopes;
  if (out.scopes.resource == nullptr && !out.scopes.openid) {
    return std::unexpected(
        Refusal{{IdpError::kInvalidScope,
                 "The provided value for the input parameter 'scope' is not valid. It names neither "
                 "a resource nor openid."},
                &out});
  }
  out.code_challenge = params.value("code_challenge");
  const auto method = params.value("code_challenge_method");
  if (!out.code_challenge.empty() || !method.empty()) {
    // S256 only: "plain" would hand the verifier to anyone who sees the authorization request.
    const bool well_formed =
        out.code_challenge.size() == 43 && auth::base64url_decode(out.code_challenge).has_value();
    if (method != "S256" || !well_formed) {
      return std::unexpected(
          Refusal{{IdpError::kMalformedRequest,
                   "Invalid request. PKCE needs code_challenge_method S256 and a 43-character "
                   "base64url code_challenge."},
                  &out});
    }
  }
  // A public client has no secret: PKCE is what binds the code to the app that asked for it.
  if (out.code_challenge.empty() && (out.app->public_client || !out.app->confidential())) {
    return std::unexpected(Refusal{
        {IdpError::kPkceRequired, "Proof Key for Code Exchange is required for public clients."}, &out});
  }
  out.nonce = params.value("nonce");
  out.prompt = params.value("prompt");
  if (std::ranges::find(kPrompts, out.prompt) == kPrompts.end()) {
    const std::string prompt = out.prompt;
    out.prompt.clear();
    return std::unexpected(
        Refusal{{IdpError::kMalformedRequest,
                 fmt::format("Invalid request. The prompt value '{}' is not supported; use none, "
                             "login, consent or select_account.",
                             shown(prompt))},
                &out});
  }
  out.login_hint = params.value("login_hint");
  out.client_info = params.value("client_info") == "1";
  if (const auto claims = params.value("claims"); !claims.empty()) {
    auto mfa = claims_demand_mfa(claims);
    if (!mfa) return std::unexpected(Refusal{mfa.error(), &out});
    out.claims_demand_mfa = *mfa;
  }
  return {};
}

}  // namespace deputy::devidp
