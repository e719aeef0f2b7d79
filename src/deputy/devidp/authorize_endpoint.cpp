#include "deputy/devidp/authorize_endpoint.hpp"

#include "deputy/auth/base64url.hpp"
#include "deputy/devidp/authorization_request.hpp"
#include "deputy/devidp/authorize_answers.hpp"
#include "deputy/devidp/delegation.hpp"
#include "deputy/devidp/form.hpp"
#include "deputy/devidp/pages.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <openssl/crypto.h>
#include <spdlog/spdlog.h>
#include <boost/json.hpp>

#include <algorithm>
#include <cctype>
#include <optional>

namespace deputy::devidp {

namespace json = boost::json;

namespace {

/// Echoed request values are cut short: they are the caller's text.
std::string shown(std::string_view text) {
  return std::string(text.substr(0, std::min<std::size_t>(text.size(), 200)));
}

bool equal_secrets(std::string_view given, std::string_view expected) {
  return given.size() == expected.size() && CRYPTO_memcmp(given.data(), expected.data(), given.size()) == 0;
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::ranges::equal(a, b, [](unsigned char x, unsigned char y) {
           return std::tolower(x) == std::tolower(y);
         });
}

bool has_mfa(const std::vector<std::string>& amr) {
  return std::ranges::find(amr, "mfa") != amr.end();
}

/// The value of cookie `name` in a Cookie header ("a=1; b=2"), empty when absent.
std::string_view cookie_value(std::string_view header, std::string_view name) {
  while (!header.empty()) {
    const auto end = header.find(';');
    auto pair = header.substr(0, end);
    while (!pair.empty() && pair.front() == ' ') pair.remove_prefix(1);
    const auto equals = pair.find('=');
    if (equals != std::string_view::npos && pair.substr(0, equals) == name) return pair.substr(equals + 1);
    if (end == std::string_view::npos) break;
    header.remove_prefix(end + 1);
  }
  return {};
}

/// A signed-in account of the browser's session, with its directory entry.
struct SignedIn {
  const User* user;
  SessionAccount account;
};

/// One exchange with the browser: a new authorization request or a page's form, and the cookies to set on
/// whichever answer it ends with.
class Flow {
 public:
  Flow(const IdentityProvider& provider, const AuthorizeRequest& request)
      : provider_(provider),
        directory_(provider.directory()),
        request_(request),
        now_(provider.now()),
        session_(cookie_value(request.cookie, kSessionCookie)),
        browser_(cookie_value(request.cookie, kBrowserCookie)) {}

  HttpAnswer start(const Form& params, std::string_view encoded);
  HttpAnswer resume(const Form& posted);
  /// The answer with the cookies this exchange set.
  HttpAnswer finish(HttpAnswer answer);

 private:
  HttpAnswer after_authentication(PendingAuthorization pending, const Authorization& authorization,
                                  const User& user, bool consent_given);
  HttpAnswer without_pages(const Authorization& authorization, const std::vector<SignedIn>& accounts);
  HttpAnswer show(PendingAuthorization pending, const Authorization& authorization, SignInStep step,
                  std::string login = {}, std::string error = {});
  HttpAnswer issue_code(const Authorization& authorization, const User& user,
                        const std::vector<std::string>& amr);
  HttpAnswer expired_page();
  HttpAnswer too_many_failures();

  void remember_sign_in(const User& user, std::vector<std::string> amr);
  void set_cookie(std::string_view name, std::string_view value, bool persistent);
  [[nodiscard]] std::vector<SignedIn> signed_in() const;
  [[nodiscard]] bool needs_mfa(const Authorization& authorization, const User& user) const;
  [[nodiscard]] std::vector<ConsentPage::Permission> permissions_to_ask(const Authorization& authorization,
                                                                        const User& user, bool all) const;

  const IdentityProvider& provider_;
  const Directory& directory_;
  const AuthorizeRequest& request_;
  Clock::time_point now_;
  std::string session_;  // the session cookie's value, as it stands after this exchange
  std::string browser_;
  std::vector<std::pair<std::string, std::string>> set_cookies_;
};

void Flow::set_cookie(std::string_view name, std::string_view value, bool persistent) {
  // SameSite=None: the form_post response and clients embedding the sign-in in their own flows post across
  // sites; Secure is what browsers require of it, and HttpOnly keeps scripts away from it. The path is the
  // tenant's, as the request spelled it (the tenant segment is one the directory names, so it is plain text).
  set_cookies_.emplace_back(
      "Set-Cookie",
      fmt::format("{}={}; Path=/{}; Secure; HttpOnly; SameSite=None{}", name, value, request_.tenant,
                  persistent ? fmt::format("; Max-Age={}", std::chrono::seconds(kSessionLifetime).count())
                             : std::string()));
}

void Flow::remember_sign_in(const User& user, std::vector<std::string> amr) {
  session_ = provider_.sessions().sign_in(
      session_, {.user_oid = user.object_id, .authenticated_at = now_, .amr = std::move(amr)},
      provider_.random(), now_);
  std::erase_if(set_cookies_, [](const auto& header) { return header.second.starts_with(kSessionCookie); });
  set_cookie(kSessionCookie, session_, true);
}

std::vector<SignedIn> Flow::signed_in() const {
  std::vector<SignedIn> out;
  for (auto& account : provider_.sessions().accounts(session_, now_)) {
    // A user gone from the directory (another directory file since) is not signed in.
    if (const User* user = directory_.find_user_by_oid(account.user_oid))
      out.push_back({user, std::move(account)});
  }
  return out;
}

bool Flow::needs_mfa(const Authorization& authorization, const User& user) const {
  if (authorization.claims_demand_mfa) return true;
  if (authorization.scopes.resource == nullptr) return false;
  const auto* condition = directory_.condition(user, *authorization.scopes.resource);
  return condition != nullptr && condition->require_mfa;
}

std::vector<ConsentPage::Permission> Flow::permissions_to_ask(const Authorization& authorization,
                                                              const User& user, bool all) const {
  const auto* resource = authorization.scopes.resource;
  if (resource == nullptr) return {};
  // Named scopes ask for themselves; .default asks for what the client's registration requires of the
  // resource.
  std::vector<std::string> wanted = authorization.scopes.scopes;
  if (authorization.scopes.default_scope) {
    for (const auto& required : authorization.app->required_permissions) {
      if (required.resource == resource->key) wanted = required.delegated;
    }
  }
  const auto consented = directory_.consented_scopes(*authorization.app, *resource, user);
  std::vector<ConsentPage::Permission> out;
  for (const auto& value : wanted) {
    const bool given =
        std::ranges::any_of(consented, [&](const std::string& scope) { return iequals(scope, value); });
    if (given && !all) continue;
    out.push_back({.resource_name = resource->display_name,
                   .scope = fmt::format("{}/{}", resource->primary_identifier(), value),
                   .value = value});
  }
  return out;
}

HttpAnswer Flow::finish(HttpAnswer answer) {
  for (auto& header : set_cookies_) answer.headers.push_back(std::move(header));
  set_cookies_.clear();
  return answer;
}

HttpAnswer Flow::expired_page() {
  // Not redirected: without a live request there is no trusted redirect URI.
  return refuse_authorization(
      provider_, {{IdpError::kMalformedRequest,
                   "Invalid request. This sign-in page has expired, was already used, or was opened in "
                   "another browser. Go back to the application and sign in again."}});
}

HttpAnswer Flow::too_many_failures() {
  return refuse_authorization(
      provider_, {{IdpError::kInvalidCredentials,
                   "You've tried to sign in too many times with an incorrect user ID, password or code. Go "
                   "back to the application and sign in again."}});
}

HttpAnswer Flow::show(PendingAuthorization pending, const Authorization& authorization, SignInStep step,
                      std::string login, std::string error) {
  if (browser_.empty()) {
    browser_ = random_secret(provider_.random());
    set_cookie(kBrowserCookie, browser_, false);
  }
  pending.browser = secret_hash(browser_);
  pending.step = step;
  pending.expires_at = now_ + kPendingLifetime;
  const User* user = pending.user_oid.empty() ? nullptr : directory_.find_user_by_oid(pending.user_oid);
  const bool all_permissions = authorization.prompt == "consent";
  auto permissions = step == SignInStep::kConsent && user != nullptr
                         ? permissions_to_ask(authorization, *user, all_permissions)
                         : std::vector<ConsentPage::Permission>{};
  const PageForm form{
      .action = fmt::format("{}/{}/oauth2/v2.0/authorize", provider_.base_url(), pending.tenant),
      .csrf = provider_.pending().put(std::move(pending), provider_.random(), now_)};
  const std::string& client = authorization.app->display_name;
  switch (step) {
    case SignInStep::kPassword:
      count_authorization(R"(result="page",page="password")");
      return page_answer(
          login_page(
              {.form = form, .login = std::move(login), .client_name = client, .error = std::move(error)}),
          authorization);
    case SignInStep::kAccount: {
      count_authorization(R"(result="page",page="account")");
      AccountPickerPage picker{.form = form, .client_name = client, .accounts = {}};
      for (const auto& account : signed_in()) {
        picker.accounts.push_back({.upn = account.user->upn, .display_name = account.user->display_name});
      }
      return page_answer(account_picker_page(picker), authorization);
    }
    case SignInStep::kMfa:
      count_authorization(R"(result="page",page="mfa")");
      return page_answer(
          mfa_page({.form = form, .upn = user != nullptr ? user->upn : "", .error = std::move(error)}),
          authorization);
    case SignInStep::kConsent:
      count_authorization(R"(result="page",page="consent")");
      return page_answer(consent_page({.form = form,
                                       .client_name = client,
                                       .upn = user != nullptr ? user->upn : "",
                                       .permissions = std::move(permissions)}),
                         authorization);
  }
  return expired_page();
}

HttpAnswer Flow::issue_code(const Authorization& authorization, const User& user,
                            const std::vector<std::string>& amr) {
  if (authorization.scopes.resource != nullptr) {
    if (auto granted = consented(directory_, *authorization.app, user, authorization.scopes); !granted) {
      Failure failure = granted.error();
      failure.error = IdpError::kInteractiveConsentRequired;
      return refuse_authorization(provider_, {failure, &authorization});
    }
  }
  const std::string code = provider_.grants().issue_code({.client_id = authorization.app->client_id,
                                                          .redirect_uri = authorization.redirect_uri,
                                                          .user_oid = user.object_id,
                                                          .scope = authorization.scope,
                                                          .nonce = authorization.nonce,
                                                          .code_challenge = authorization.code_challenge,
                                                          .amr = amr,
                                                          .expires_at = now_ + kCodeLifetime},
                                                         provider_.random(), now_);
  spdlog::info("devidp sign-in: {} at {} (amr {})", user.upn, authorization.app->key, fmt::join(amr, ","));
  count_authorization(R"(result="code")");
  Params fields{{"code", code}};
  if (!authorization.state.empty()) fields.emplace_back("state", authorization.state);
  fields.emplace_back("session_state", random_guid(provider_.random()));
  if (authorization.client_info) {
    json::object info;
    info["uid"] = user.object_id;
    info["utid"] = directory_.tenant.id;
    fields.emplace_back("client_info", auth::base64url_encode(json::serialize(info)));
  }
  return send_to_client(authorization, fields);
}

/// The user is known and authenticated as pending.amr says: MFA if it is demanded and missing, consent if the
/// scopes lack it (or prompt=consent), then the code.
HttpAnswer Flow::after_authentication(PendingAuthorization pending, const Authorization& authorization,
                                      const User& user, bool consent_given) {
  pending.user_oid = user.object_id;
  if (needs_mfa(authorization, user) && !has_mfa(pending.amr)) {
    return show(std::move(pending), authorization, SignInStep::kMfa);
  }
  if (!consent_given && !permissions_to_ask(authorization, user, authorization.prompt == "consent").empty()) {
    return show(std::move(pending), authorization, SignInStep::kConsent);
  }
  return issue_code(authorization, user, pending.amr);
}

/// prompt=none: the session's account, or an error for the client; never a page.
HttpAnswer Flow::without_pages(const Authorization& authorization, const std::vector<SignedIn>& accounts) {
  std::optional<SignedIn> chosen;
  if (!authorization.login_hint.empty()) {
    for (const auto& account : accounts) {
      if (iequals(account.user->upn, authorization.login_hint)) chosen = account;
    }
  } else if (accounts.size() == 1) {
    chosen = accounts.front();
  } else if (accounts.size() > 1) {
    return refuse_authorization(
        provider_, {{IdpError::kAccountSelectionRequired,
                     "There are multiple user identities available for the current request. Send "
                     "login_hint, or an interactive request, to choose one."},
                    &authorization});
  }
  if (!chosen) {
    return refuse_authorization(
        provider_, {{IdpError::kLoginRequired,
                     "A silent sign-in request was sent but no user is signed in. The cookies used to "
                     "represent the user's session were not sent in the request to Azure AD. This can happen "
                     "if the user is using Internet Explorer or Edge, and the web app sending the silent "
                     "sign-in request is in different IE security zone than the Azure AD endpoint "
                     "(login.microsoftonline.com)."},
                    &authorization});
  }
  const User& user = *chosen->user;
  if (needs_mfa(authorization, user) && !has_mfa(chosen->account.amr)) {
    return refuse_authorization(
        provider_, {{IdpError::kMfaRequired,
                     "Due to a configuration change made by your administrator, or because you moved to a "
                     "new location, you must use multi-factor authentication to access this resource."},
                    &authorization});
  }
  if (!permissions_to_ask(authorization, user, false).empty()) {
    return refuse_authorization(
        provider_,
        {{IdpError::kInteractiveConsentRequired,
          fmt::format("The user or administrator has not consented to use the application with "
                      "ID '{}' named '{}'. Send an interactive authorization request for this user "
                      "and resource.",
                      authorization.app->client_id, authorization.app->display_name)},
         &authorization});
  }
  return issue_code(authorization, user, chosen->account.amr);
}

HttpAnswer Flow::start(const Form& params, std::string_view encoded) {
  Authorization authorization;
  if (auto checked = check_authorization(provider_, params, authorization); !checked) {
    return refuse_authorization(provider_, checked.error());
  }
  const auto accounts = signed_in();
  if (authorization.prompt == "none") return without_pages(authorization, accounts);

  PendingAuthorization pending{.tenant = std::string(request_.tenant), .request = std::string(encoded)};
  const std::string& hint = authorization.login_hint;
  if (authorization.prompt == "login" || accounts.empty()) {
    return show(std::move(pending), authorization, SignInStep::kPassword, hint);
  }
  if (authorization.prompt == "select_account")
    return show(std::move(pending), authorization, SignInStep::kAccount);
  // Single sign-on: the account login_hint names, or the browser's only account; several: the picker.
  const SignedIn* chosen = nullptr;
  if (!hint.empty()) {
    auto it = std::ranges::find_if(accounts,
                                   [&](const SignedIn& account) { return iequals(account.user->upn, hint); });
    if (it == accounts.end()) return show(std::move(pending), authorization, SignInStep::kPassword, hint);
    chosen = &*it;
  } else if (accounts.size() == 1) {
    chosen = &accounts.front();
  } else {
    return show(std::move(pending), authorization, SignInStep::kAccount);
  }
  pending.amr = chosen->account.amr;
  count_authorization(R"(result="single_sign_on")");
  return after_authentication(std::move(pending), authorization, *chosen->user, false);
}

HttpAnswer Flow::resume(const Form& posted) {
  auto pending = provider_.pending().take(posted.value(kCsrfField), now_);
  // One-time, and only in the browser that opened the page: a form posted from another site with a token of
  // the attacker's own flow finds the victim's browser binding different.
  if (!pending || browser_.empty() || !equal_secrets(secret_hash(browser_), pending->browser) ||
      !iequals(pending->tenant, request_.tenant)) {
    count_authorization(R"(result="refused",reason="stale_form")");
    return expired_page();
  }
  auto params = parse_form(pending->request);
  if (!params) return expired_page();
  Authorization authorization;
  if (auto checked = check_authorization(provider_, *params, authorization); !checked) {
    return refuse_authorization(provider_, checked.error());
  }

  switch (pending->step) {
    case SignInStep::kPassword: {
      const std::string login(posted.value("username"));
      const User* user = directory_.find_user(login);
      // One message for an unknown user and a wrong password: the page must not tell which accounts exist.
      if (user == nullptr || !equal_secrets(posted.value("password"), user->password)) {
        spdlog::info("devidp sign-in failed for '{}'", shown(login));
        const auto& error = info(IdpError::kInvalidCredentials);
        count_authorization(fmt::format(R"(result="refused",reason="{}")", error.reason));
        if (++pending->failures >= kMaxSignInFailures) return too_many_failures();
        return show(std::move(*pending), authorization, SignInStep::kPassword, login,
                    fmt::format("Your account or password is incorrect. (AADSTS{})", error.code));
      }
      pending->amr = {"pwd"};
      remember_sign_in(*user, pending->amr);
      return after_authentication(std::move(*pending), authorization, *user, false);
    }
    case SignInStep::kAccount: {
      const auto choice = posted.get("account");
      if (!choice) return show(std::move(*pending), authorization, SignInStep::kAccount);
      if (choice->empty())
        return show(std::move(*pending), authorization, SignInStep::kPassword, authorization.login_hint);
      for (const auto& account : signed_in()) {
        if (iequals(account.user->upn, *choice)) {
          pending->amr = account.account.amr;
          return after_authentication(std::move(*pending), authorization, *account.user, false);
        }
      }
      // Signed out meanwhile (expired), or a name that never was: the password decides.
      return show(std::move(*pending), authorization, SignInStep::kPassword, std::string(*choice));
    }
    case SignInStep::kMfa: {
      const User* user = directory_.find_user_by_oid(pending->user_oid);
      if (user == nullptr) return expired_page();
      if (!equal_secrets(posted.value("otp"), user->mfa_code)) {
        spdlog::info("devidp MFA failed for '{}'", user->upn);
        count_authorization(R"(result="refused",reason="mfa_code")");
        if (++pending->failures >= kMaxSignInFailures) return too_many_failures();
        return show(std::move(*pending), authorization, SignInStep::kMfa, {},
                    "That code didn't work. Check the code and try again.");
      }
      pending->amr = {"pwd", "mfa"};
      remember_sign_in(*user, pending->amr);
      return after_authentication(std::move(*pending), authorization, *user, false);
    }
    case SignInStep::kConsent: {
      const User* user = directory_.find_user_by_oid(pending->user_oid);
      if (user == nullptr) return expired_page();
      const auto decision = posted.value("consent");
      if (decision == "cancel") {
        count_authorization(R"(result="consent",decision="cancel")");
        return refuse_authorization(provider_,
                                    {{IdpError::kAccessDenied, "User declined to consent to access the app."},
                                     &authorization});
      }
      if (decision != "accept") return show(std::move(*pending), authorization, SignInStep::kConsent);
      std::vector<std::string> scopes;
      for (const auto& permission : permissions_to_ask(authorization, *user, true))
        scopes.push_back(permission.value);
      provider_.consents().grant(authorization.app->key, authorization.scopes.resource->key, user->key,
                                 scopes);
      spdlog::info("devidp consent: {} for {} on {}", user->upn, authorization.app->key,
                   authorization.scopes.resource->key);
      count_authorization(R"(result="consent",decision="accept")");
      return after_authentication(std::move(*pending), authorization, *user, true);
    }
  }
  return expired_page();
}

}  // namespace

HttpAnswer authorize(const IdentityProvider& provider, const AuthorizeRequest& request) {
  const auto& directory = provider.directory();
  if (!directory.names_tenant(request.tenant)) {
    return refuse_authorization(
        provider,
        {{IdpError::kTenantNotFound,
          fmt::format("Tenant '{}' not found. Check to make sure you have the correct tenant ID and "
                      "are signing into the correct cloud.",
                      shown(request.tenant))}});
  }
  if (request.post && !is_form_content_type(request.content_type)) {
    return refuse_authorization(provider, {{IdpError::kMissingParameter,
                                            "The request must contain the following parameter: "
                                            "'client_id'."}});
  }
  const std::string_view encoded = request.post ? request.body : request.query;
  auto params = parse_form(encoded);
  if (!params) {
    return refuse_authorization(provider, {{IdpError::kMalformedRequest,
                                            "Invalid request. The request is not a valid form encoding, "
                                            "or repeats a parameter."}});
  }
  Flow flow(provider, request);
  // A page's form carries its CSRF token and nothing of the request; anything else is a new request.
  HttpAnswer answer =
      request.post && params->get(kCsrfField) ? flow.resume(*params) : flow.start(*params, encoded);
  return flow.finish(std::move(answer));
}

}  // namespace deputy::devidp
