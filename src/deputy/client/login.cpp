#include "deputy/client/login.hpp"

#include "deputy/client/browser.hpp"
#include "deputy/client/form_sign_in.hpp"
#include "deputy/net/loopback_callback.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json.hpp>
#include <boost/url/parse.hpp>

#include <cstdio>

namespace deputy::client {

namespace asio = boost::asio;
namespace json = boost::json;

namespace {

/// The device code flow polls at least this far apart (RFC 8628 §3.5's default when the provider names none).
constexpr std::chrono::seconds kDefaultDevicePollInterval{5};
/// A device code lives 15 minutes at Entra; a provider offering more is not waited for beyond this.
constexpr std::chrono::minutes kMaxDeviceCodeWait{15};

std::string first_line(std::string_view text) {
  return std::string(text.substr(0, text.find_first_of("\r\n")));
}

void say_on_stderr(std::string_view text) {
  std::fprintf(stderr, "%.*s\n", static_cast<int>(text.size()), text.data());
  std::fflush(stderr);
}

}  // namespace

TokenSource::TokenSource(Settings settings, net::HttpClient& http, TokenCache& cache,
                         LoginEnvironment environment)
    : settings_(std::move(settings)), http_(http), cache_(cache), environment_(std::move(environment)) {}

std::string TokenSource::scopes() const {
  return fmt::format("{} {}", settings_.scope, kOidcScopes);
}

void TokenSource::add_client_credential(FormFields& form) const {
  if (!settings_.client_secret.empty()) form.emplace_back("client_secret", settings_.client_secret);
}

asio::awaitable<std::expected<ProviderMetadata, Error>> TokenSource::metadata() {
  if (metadata_) co_return *metadata_;
  std::string url = settings_.discovery_url();
  auto discovered = co_await discover(http_, std::move(url));
  if (!discovered) co_return std::unexpected(discovered.error());
  metadata_ = *discovered;
  co_return *discovered;
}

std::optional<Account> TokenSource::current_account() const {
  auto accounts = cache_.accounts(environment_of(settings_.authority), settings_.client_id);
  if (accounts.empty()) return std::nullopt;
  // The account of the configured tenant first (a GUID tenant names the realm); else the first, as the seed
  // does.
  for (const auto& account : accounts) {
    if (account.realm == settings_.tenant_id) return account;
  }
  return accounts.front();
}

std::expected<Account, Error> TokenSource::keep(const TokenResponse& response, std::string_view nonce,
                                                std::string_view issuer) {
  const auto now = environment_.now();
  Account account;
  if (!response.id_token.empty()) {
    auto claims = read_id_token(response.id_token);
    if (!claims) return std::unexpected(claims.error());
    if (auto checked = check_id_token(*claims, settings_.client_id, nonce, issuer, now); !checked) {
      return std::unexpected(checked.error());
    }
    account = account_of(response, *claims, environment_of(settings_.authority));
  } else if (auto current = current_account(); current && nonce.empty()) {
    account = *current;  // a refresh without an id_token: the same account
  } else {
    return std::unexpected(Error{ErrorCode::kBadTokenResponse, "the token response has no id_token"});
  }
  cache_.store({.account = account,
                .client_id = settings_.client_id,
                .access_token = response.access_token,
                .target = response.scope.empty() ? settings_.scope : response.scope,
                .expires_on = now + response.expires_in,
                .refresh_token = response.refresh_token,
                .id_token = response.id_token},
               now);
  if (auto saved = cache_.save(); !saved) return std::unexpected(saved.error());
  return account;
}

asio::awaitable<std::expected<std::string, Error>> TokenSource::authorization_code(
    const ProviderMetadata& provider, const LoginOptions& options, const FlowSecrets& secrets) {
  const bool with_password = !options.username.empty() && !options.password.empty();
  AuthorizeParameters parameters{
      .authorization_endpoint = provider.authorization_endpoint,
      .client_id = settings_.client_id,
      .redirect_uri = settings_.redirect_uri,
      .scope = scopes(),
      .secrets = secrets,
      // The account picker needs a person; the non-interactive path names its user.
      .prompt = with_password ? std::string() : options.prompt,
      .login_hint = options.username,
      .claims = options.claims};
  const std::string url = authorize_url(parameters);
  const std::function<void(std::string_view)> say = options.say ? options.say : say_on_stderr;

  RedirectResult result;
  if (with_password) {
    // Named first: g++ 12 cannot keep a braced initializer across the suspension (docs/architecture.md).
    FormSignIn form{.authorize_url = url,
                    .redirect_uri = settings_.redirect_uri,
                    .username = options.username,
                    .password = options.password,
                    .otp = options.otp};
    auto signed_in = co_await sign_in_with_form(http_, std::move(form));
    if (!signed_in) co_return std::unexpected(signed_in.error());
    result = std::move(*signed_in);
  } else {
    auto redirect = boost::urls::parse_uri(settings_.redirect_uri);
    const std::string path = redirect->path().empty() ? "/" : std::string(redirect->path());
    net::LoopbackCallbackListener listener(co_await asio::this_coro::executor, path);
    if (auto listening = listener.listen(redirect->port_number()); !listening) {
      co_return std::unexpected(
          Error{ErrorCode::kListener,
                fmt::format("{} (the redirect URI {} needs that port; is another sign-in running?)",
                            listening.error(), settings_.redirect_uri)});
    }
    const std::string expected_state = secrets.state;
    auto answer = [&expected_state](std::string_view query) -> net::CallbackPage {
      auto got = parse_redirect_query(query);
      // A request without our state is not the provider's answer to our request (another tab, a forged link):
      // refused, and the wait goes on for the real one.
      if (!got || !constant_time_equal(got->state, expected_state)) {
        spdlog::warn("a request to the redirect URI without this sign-in's state was refused");
        return {.status = 400,
                .html = sign_in_failed_page("This answer does not belong to the sign-in in progress.", ""),
                .done = false};
      }
      if (!got->error.empty()) return {.html = sign_in_failed_page(got->error, got->error_description)};
      return {.html = signed_in_page()};
    };
    const std::function<bool(const std::string&)> open =
        options.open_browser ? options.open_browser : open_in_browser;
    const bool opened = open(url);
    say(opened ? fmt::format("Opened the browser to sign in. If it did not open, go to:\n{}", url)
               : fmt::format("Open this URL in a browser to sign in:\n{}", url));
    auto query = co_await listener.wait(answer, options.callback_timeout);
    if (!query) {
      co_return std::unexpected(Error{
          ErrorCode::kCallbackTimeout,
          fmt::format("no sign-in came back to {} within {} s; run `deputy login` again (or use "
                      "--username/--password)",
                      settings_.redirect_uri,
                      std::chrono::duration_cast<std::chrono::seconds>(options.callback_timeout).count())});
    }
    result = parse_redirect_query(*query).value_or(RedirectResult{});
  }
  // The state of the form path is checked here too: a provider that mixed up two requests is caught either
  // way.
  if (!constant_time_equal(result.state, secrets.state)) {
    co_return std::unexpected(
        Error{ErrorCode::kSignInRefused, "the provider's answer carries another sign-in's state"});
  }
  if (!result.error.empty()) {
    co_return std::unexpected(
        Error{ErrorCode::kSignInRefused,
              fmt::format("{}: {}", result.error, first_line(result.error_description))});
  }
  if (result.code.empty())
    co_return std::unexpected(Error{ErrorCode::kSignInRefused, "the provider sent no code"});
  co_return result.code;
}

asio::awaitable<std::expected<TokenResponse, Error>> TokenSource::device_code(
    const ProviderMetadata& provider, const LoginOptions& options) {
  const std::function<void(std::string_view)> say = options.say ? options.say : say_on_stderr;
  net::ClientRequest request{.method = boost::beast::http::verb::post,
                             .url = provider.device_authorization_endpoint,
                             .headers = {{"Content-Type", "application/x-www-form-urlencoded"}},
                             .body = encode_form({{"client_id", settings_.client_id}, {"scope", scopes()}})};
  auto response = co_await http_.send(std::move(request));
  if (!response) {
    co_return std::unexpected(Error{
        ErrorCode::kNetwork,
        fmt::format("{}: {}", provider.device_authorization_endpoint, net::to_string(response.error()))});
  }
  boost::system::error_code ec;
  auto document = json::parse(response->body, ec);
  const auto* object = ec ? nullptr : document.if_object();
  if (response->status != 200 || object == nullptr || !object->contains("device_code")) {
    co_return std::unexpected(Error{
        ErrorCode::kUnsupported,
        fmt::format("{} at {} (HTTP {}); sign in with the browser or --username/--password",
                    response->status == 404 ? "the identity provider advertises a device code endpoint but "
                                              "does not serve it"
                                            : "the identity provider refused the device code request",
                    provider.device_authorization_endpoint, response->status)});
  }
  auto text = [object](std::string_view name) {
    const auto* value = object->if_contains(name);
    return value != nullptr && value->is_string() ? std::string(value->get_string()) : std::string();
  };
  auto number = [object](std::string_view name, long long fallback) {
    const auto* value = object->if_contains(name);
    return value != nullptr && value->is_int64() ? value->get_int64() : fallback;
  };
  const std::string message = text("message");
  say(message.empty() ? fmt::format("To sign in, open {} and enter the code {}", text("verification_uri"),
                                    text("user_code"))
                      : message);
  std::chrono::seconds interval{
      std::max<long long>(number("interval", kDefaultDevicePollInterval.count()), 1)};
  const auto deadline =
      std::chrono::steady_clock::now() +
      std::min<std::chrono::seconds>(std::chrono::seconds(number("expires_in", 900)), kMaxDeviceCodeWait);
  asio::steady_timer timer(co_await asio::this_coro::executor);
  while (std::chrono::steady_clock::now() < deadline) {
    timer.expires_after(interval);
    auto [waited] = co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
    if (waited)
      co_return std::unexpected(Error{ErrorCode::kSignInRefused, "the device code sign-in was cancelled"});
    FormFields form{{"grant_type", "urn:ietf:params:oauth:grant-type:device_code"},
                    {"client_id", settings_.client_id},
                    {"device_code", text("device_code")},
                    {"client_info", "1"}};
    add_client_credential(form);
    TokenError refusal;
    auto token = co_await request_token(http_, provider.token_endpoint, std::move(form), &refusal);
    if (token) co_return token;
    if (refusal.error == "authorization_pending") continue;
    if (refusal.error == "slow_down") {
      interval += std::chrono::seconds(5);  // RFC 8628 §3.5
      continue;
    }
    co_return std::unexpected(token.error());
  }
  co_return std::unexpected(
      Error{ErrorCode::kCallbackTimeout, "the device code expired before the sign-in finished"});
}

asio::awaitable<std::expected<Account, Error>> TokenSource::login(LoginOptions options) {
  if (auto checked = check_for_sign_in(settings_); !checked) co_return std::unexpected(checked.error());
  auto provider = co_await metadata();
  if (!provider) co_return std::unexpected(provider.error());
  if (options.device_code) {
    if (provider->device_authorization_endpoint.empty()) {
      co_return std::unexpected(
          Error{ErrorCode::kUnsupported,
                fmt::format("the identity provider at {} offers no device code flow (its "
                            "discovery document names no device_authorization_endpoint); sign "
                            "in with the browser or --username/--password",
                            settings_.authority_url())});
    }
    auto tokens = co_await device_code(*provider, options);
    if (!tokens) co_return std::unexpected(tokens.error());
    co_return keep(*tokens, {}, provider->issuer);
  }
  const FlowSecrets secrets = make_flow_secrets(environment_.random);
  auto code = co_await authorization_code(*provider, options, secrets);
  if (!code) co_return std::unexpected(code.error());
  FormFields form{{"client_id", settings_.client_id},
                  {"grant_type", "authorization_code"},
                  {"scope", scopes()},
                  {"code", *code},
                  {"redirect_uri", settings_.redirect_uri},
                  {"code_verifier", secrets.code_verifier},
                  {"client_info", "1"}};
  add_client_credential(form);
  auto tokens = co_await request_token(http_, provider->token_endpoint, std::move(form));
  if (!tokens) co_return std::unexpected(tokens.error());
  co_return keep(*tokens, secrets.nonce, provider->issuer);
}

asio::awaitable<std::expected<std::string, Error>> TokenSource::access_token() {
  const auto account = current_account();
  if (!account) {
    co_return std::unexpected(
        Error{ErrorCode::kNotSignedIn, fmt::format("not signed in to {} as client {}: run `deputy login`",
                                                   settings_.authority_url(), settings_.client_id)});
  }
  auto cached = cache_.access_token(*account, settings_.client_id, settings_.scope);
  if (cached && !needs_renewal(cached->expires_on, environment_.now())) co_return cached->secret;
  co_return co_await renew();
}

asio::awaitable<std::expected<std::string, Error>> TokenSource::renew() {
  const auto account = current_account();
  if (!account) {
    co_return std::unexpected(Error{ErrorCode::kNotSignedIn, "not signed in: run `deputy login`"});
  }
  auto refresh = cache_.refresh_token(*account, settings_.client_id);
  if (!refresh) {
    co_return std::unexpected(Error{ErrorCode::kInteractionRequired,
                                    "no refresh token is cached: sign in again with `deputy login`"});
  }
  auto provider = co_await metadata();
  if (!provider) co_return std::unexpected(provider.error());
  FormFields form{{"client_id", settings_.client_id},
                  {"grant_type", "refresh_token"},
                  {"refresh_token", *refresh},
                  {"scope", scopes()},
                  {"client_info", "1"}};
  add_client_credential(form);
  auto tokens = co_await request_token(http_, provider->token_endpoint, std::move(form));
  if (!tokens) {
    Error error = tokens.error();
    if (error.code == ErrorCode::kInteractionRequired) {
      error.message =
          fmt::format("the refresh token was refused ({}): sign in again with `deputy login`", error.message);
    }
    co_return std::unexpected(std::move(error));
  }
  if (auto kept = keep(*tokens, {}, provider->issuer); !kept) co_return std::unexpected(kept.error());
  co_return tokens->access_token;
}

std::optional<SignedIn> TokenSource::status() const {
  auto account = current_account();
  if (!account) return std::nullopt;
  SignedIn out{.account = *account};
  if (auto cached = cache_.access_token(*account, settings_.client_id, settings_.scope)) {
    out.access_token_expires_on = cached->expires_on;
  }
  out.has_refresh_token = cache_.refresh_token(*account, settings_.client_id).has_value();
  return out;
}

std::expected<std::optional<Account>, Error> TokenSource::logout() {
  auto account = current_account();
  if (!account) return std::optional<Account>();
  cache_.remove_account(*account);
  if (auto saved = cache_.save(); !saved) return std::unexpected(saved.error());
  return account;
}

}  // namespace deputy::client
