#include "deputy/devidp/authorize_endpoint.hpp"

#include "deputy/audit/metrics.hpp"
#include "deputy/auth/base64url.hpp"
#include "deputy/devidp/delegation.hpp"
#include "deputy/devidp/directory_yaml.hpp"
#include "deputy/devidp/form.hpp"
#include "deputy/devidp/pages.hpp"
#include "deputy/devidp/scopes.hpp"

#include <boost/json.hpp>
#include <fmt/format.h>
#include <openssl/crypto.h>
#include <spdlog/spdlog.h>

#include <algorithm>

namespace deputy::devidp {

namespace json = boost::json;

namespace {

/// Echoed request values are cut short: they are the caller's text.
std::string shown(std::string_view text) { return std::string(text.substr(0, std::min<std::size_t>(text.size(), 200))); }

/// A checked authorization request.
struct Authorization {
  const Application* app = nullptr;
  std::string redirect_uri;
  std::string response_mode;  // query or form_post
  std::string state;
  std::string scope;
  ScopeRequest scopes;
  std::string nonce;
  std::string code_challenge;
  std::string prompt;
  std::string login_hint;
  bool client_info = false;
};

/// Why a request is refused: sent back to the client when its redirect URI is trusted, else shown.
struct Refusal {
  Failure failure;
  const Authorization* to_client = nullptr;  // null: an error page
};

constexpr std::string_view kPageSecurity =
    "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'";
// The form_post page submits itself (inline script) to the client's redirect URI.
constexpr std::string_view kFormPostSecurity =
    "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; frame-ancestors 'none'";

HttpAnswer html(unsigned status, std::string body, std::string_view policy = kPageSecurity) {
  return {.status = status,
          .content_type = "text/html; charset=utf-8",
          .body = std::move(body),
          .headers = {{"Content-Security-Policy", std::string(policy)},
                      {"X-Frame-Options", "DENY"},
                      {"Referrer-Policy", "no-referrer"}}};
}

/// The answer that carries `fields` to the client: a 302 with them in the redirect URI's query, or a page that
/// posts them.
HttpAnswer send_to_client(const Authorization& authorization, const Params& fields) {
  if (authorization.response_mode == "form_post") {
    return html(200, form_post_page(authorization.redirect_uri, fields), kFormPostSecurity);
  }
  std::string location = authorization.redirect_uri;
  char separator = location.find('?') == std::string::npos ? '?' : '&';
  for (const auto& [name, value] : fields) {
    location += fmt::format("{}{}={}", separator, form_encode(name), form_encode(value));
    separator = '&';
  }
  return {.status = 302,
          .content_type = "text/plain; charset=utf-8",
          .body = "Redirecting\n",
          .headers = {{"Location", std::move(location)}, {"Referrer-Policy", "no-referrer"}}};
}

void count(std::string_view labels) {
  audit::Metrics::global()
      .counter("deputy_devidp_authorize_total", labels, "Authorization requests of the development identity provider")
      .add();
}

HttpAnswer refuse(const IdentityProvider& provider, const Refusal& refusal) {
  const auto& error = info(refusal.failure.error);
  const std::string trace_id = random_guid(provider.random());
  spdlog::info("devidp authorization refused: {} (AADSTS{})", error.reason, error.code);
  count(fmt::format(R"(result="refused",reason="{}")", error.reason));
  if (refusal.to_client == nullptr) return html(400, error_page(error.code, refusal.failure.message, trace_id));
  Params fields{{"error", std::string(error.oauth_error)},
                {"error_description", fmt::format("AADSTS{}: {}\r\nTrace ID: {}\r\nCorrelation ID: {}\r\nTimestamp: {}",
                                                  error.code, refusal.failure.message, trace_id,
                                                  random_guid(provider.random()), entra_timestamp(provider.now()))},
                {"error_uri", fmt::format("{}/error?code={}", provider.base_url(), error.code)}};
  if (!refusal.to_client->state.empty()) fields.emplace_back("state", refusal.to_client->state);
  return send_to_client(*refusal.to_client, fields);
}

Failure missing(std::string_view name) {
  return {IdpError::kMissingParameter, fmt::format("The request must contain the following parameter: '{}'.", name)};
}

/// Checks an authorization request. `out` is filled as far as it got, so that a refusal after the redirect URI
/// is trusted can go back to it.
std::expected<void, Refusal> check(const IdentityProvider& provider, const Form& params, Authorization& out) {
  const auto& directory = provider.directory();
  // Until client and redirect URI are known, nothing may be sent anywhere: errors are shown.
  const auto client_id = params.value("client_id");
  if (client_id.empty()) return std::unexpected(Refusal{missing("client_id")});
  out.app = directory.find_app_by_client_id(client_id);
  if (out.app == nullptr) {
    return std::unexpected(Refusal{{IdpError::kUnknownClient,
                                    fmt::format("Application with identifier '{}' was not found in the directory '{}'.",
                                                shown(client_id), directory.tenant.display_name)}});
  }
  out.redirect_uri = params.value("redirect_uri");
  if (out.redirect_uri.empty()) return std::unexpected(Refusal{missing("redirect_uri")});
  // Exact match with a registered URI: a prefix or pattern match would let a code be sent to a look-alike.
  if (std::ranges::find(out.app->redirect_uris, out.redirect_uri) == out.app->redirect_uris.end()) {
    return std::unexpected(Refusal{
        {IdpError::kRedirectUriNotRegistered,
         fmt::format("The redirect URI '{}' specified in the request does not match the redirect URIs configured for "
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
    return std::unexpected(Refusal{{IdpError::kMalformedRequest,
                                    fmt::format("Invalid request. response_mode '{}' is not supported here; use query "
                                                "or form_post.",
                                                shown(mode))},
                                   &out});
  }
  // From here on errors go back to the client.
  const auto response_type = params.value("response_type");
  if (response_type.empty()) return std::unexpected(Refusal{missing("response_type"), &out});
  if (response_type != "code") {
    return std::unexpected(Refusal{{IdpError::kUnsupportedResponseType,
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
    return std::unexpected(Refusal{{IdpError::kInvalidScope,
                                    "The provided value for the input parameter 'scope' is not valid. It names neither "
                                    "a resource nor openid."},
                                   &out});
  }
  out.code_challenge = params.value("code_challenge");
  const auto method = params.value("code_challenge_method");
  if (!out.code_challenge.empty() || !method.empty()) {
    // S256 only: "plain" would hand the verifier to anyone who sees the authorization request.
    const bool well_formed = out.code_challenge.size() == 43 && auth::base64url_decode(out.code_challenge).has_value();
    if (method != "S256" || !well_formed) {
      return std::unexpected(Refusal{{IdpError::kMalformedRequest,
                                      "Invalid request. PKCE needs code_challenge_method S256 and a 43-character "
                                      "base64url code_challenge."},
                                     &out});
    }
  }
  // A public client has no secret: PKCE is what binds the code to the app that asked for it.
  if (out.code_challenge.empty() && (out.app->public_client || !out.app->confidential())) {
    return std::unexpected(Refusal{{IdpError::kPkceRequired, "Proof Key for Code Exchange is required for public clients."},
                                   &out});
  }
  out.nonce = params.value("nonce");
  out.prompt = params.value("prompt");
  out.login_hint = params.value("login_hint");
  out.client_info = params.value("client_info") == "1";
  if (out.prompt == "none") {
    // TODO(next slice): a sign-in session cookie, so that prompt=none can succeed.
    return std::unexpected(Refusal{{IdpError::kLoginRequired,
                                    "A silent sign-in request was sent but no user is signed in."},
                                   &out});
  }
  return {};
}

/// The request's own parameters, to travel through the sign-in form.
Params carried(const Form& params) {
  Params out;
  for (const auto& [name, value] : params.fields()) {
    if (name != "login" && name != "passwd") out.emplace_back(name, value);
  }
  return out;
}

HttpAnswer show_login(std::string_view tenant, const IdentityProvider& provider, const Form& params,
                      const Authorization& authorization, std::string login, std::string error) {
  return html(200, login_page({.action = fmt::format("{}/{}/oauth2/v2.0/authorize", provider.base_url(), tenant),
                               .hidden = carried(params),
                               .login = std::move(login),
                               .client_name = authorization.app->display_name,
                               .error = std::move(error)}));
}

bool password_matches(std::string_view given, std::string_view expected) {
  return given.size() == expected.size() && CRYPTO_memcmp(given.data(), expected.data(), given.size()) == 0;
}

}  // namespace

HttpAnswer authorize(const IdentityProvider& provider, const AuthorizeRequest& request) {
  const auto& directory = provider.directory();
  if (!directory.names_tenant(request.tenant)) {
    return refuse(provider, {{IdpError::kTenantNotFound,
                              fmt::format("Tenant '{}' not found. Check to make sure you have the correct tenant ID and "
                                          "are signing into the correct cloud.",
                                          shown(request.tenant))}});
  }
  if (request.post && !is_form_content_type(request.content_type)) {
    return refuse(provider, {missing("client_id")});
  }
  auto params = parse_form(request.post ? request.body : request.query);
  if (!params) {
    return refuse(provider, {{IdpError::kMalformedRequest, "Invalid request. The request is not a valid form encoding, "
                                                           "or repeats a parameter."}});
  }
  Authorization authorization;
  if (auto checked = check(provider, *params, authorization); !checked) return refuse(provider, checked.error());
  if (!request.post || !params->get("passwd")) {
    return show_login(request.tenant, provider, *params, authorization, authorization.login_hint, {});
  }

  // The sign-in form came back: user name and password.
  const std::string login(params->value("login"));
  const User* user = directory.find_user(login);
  if (user == nullptr || !password_matches(params->value("passwd"), user->password)) {
    spdlog::info("devidp sign-in failed for '{}'", shown(login));
    const auto& error = info(IdpError::kInvalidCredentials);
    count(fmt::format(R"(result="refused",reason="{}")", error.reason));
    return show_login(request.tenant, provider, *params, authorization, login,
                      fmt::format("Your account or password is incorrect. (AADSTS{})", error.code));
  }
  if (authorization.scopes.resource != nullptr) {
    // TODO(next slice): a consent page the user can accept, instead of sending consent_required back.
    if (auto granted = consented(directory, *authorization.app, *user, authorization.scopes); !granted) {
      Failure failure = granted.error();
      failure.error = IdpError::kInteractiveConsentRequired;
      return refuse(provider, {failure, &authorization});
    }
  }
  const auto now = provider.now();
  const std::string code = provider.grants().issue_code({.client_id = authorization.app->client_id,
                                                         .redirect_uri = authorization.redirect_uri,
                                                         .user_oid = user->object_id,
                                                         .scope = authorization.scope,
                                                         .nonce = authorization.nonce,
                                                         .code_challenge = authorization.code_challenge,
                                                         .amr = {"pwd"},
                                                         .expires_at = now + kCodeLifetime},
                                                        provider.random(), now);
  spdlog::info("devidp sign-in: {} at {}", user->upn, authorization.app->key);
  count(R"(result="code")");
  Params fields{{"code", code}};
  if (!authorization.state.empty()) fields.emplace_back("state", authorization.state);
  fields.emplace_back("session_state", random_guid(provider.random()));
  if (authorization.client_info) {
    json::object info;
    info["uid"] = user->object_id;
    info["utid"] = directory.tenant.id;
    fields.emplace_back("client_info", auth::base64url_encode(json::serialize(info)));
  }
  return send_to_client(authorization, fields);
}

}  // namespace deputy::devidp
