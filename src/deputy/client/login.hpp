#pragma once
// Signing in and keeping the user signed in, as the seed's client does with MSAL's
// ConfidentialClientApplication:
//   - login(): the authorization code flow with PKCE S256, state and nonce, through the browser and a
//   loopback
//     listener on the redirect URI's port (5 minutes to come back), or non-interactively with a user name and
//     password (form_sign_in.hpp), or the device code flow when the provider offers it; the code is redeemed
//     at the token endpoint from discovery, the id_token checked (aud, nonce, iss), and the tokens cached.
//   - access_token(): the cached token, renewed silently with the refresh token within 5 minutes of expiry.
//   - logout(), status(): the account's cache entries removed; who is signed in and until when.
// A confidential client (CLIENT_SECRET set) sends its secret with every token request; a public one relies
// on PKCE alone.

#include "deputy/client/authorization_request.hpp"
#include "deputy/client/error.hpp"
#include "deputy/client/oidc.hpp"
#include "deputy/client/settings.hpp"
#include "deputy/client/token_cache.hpp"
#include "deputy/net/http_client.hpp"

#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <expected>
#include <functional>
#include <optional>
#include <string>

namespace deputy::client {

/// How long the loopback listener waits for the browser to come back: time to type a password, approve an
/// MFA prompt on a phone, and read a consent page (the seed waits as long).
inline constexpr std::chrono::minutes kCallbackTimeout{5};

/// The scopes every sign-in adds to the API's: an id_token (openid, profile) and a refresh token
/// (offline_access), as MSAL does.
inline constexpr std::string_view kOidcScopes = "openid profile offline_access";

struct LoginOptions {
  /// Both set: the non-interactive sign-in (form_sign_in.hpp) instead of the browser.
  std::string username;
  std::string password;
  /// With username and password: the one-time code for an MFA page (the development provider's).
  std::string otp;
  bool device_code = false;
  /// A claims request (JSON) from a step-up challenge, sent with the authorize request.
  std::string claims;
  std::string prompt = "select_account";
  std::chrono::milliseconds callback_timeout = kCallbackTimeout;
  /// Opens `url` in a browser; false when none could be started (the URL is then printed for the user to
  /// open). Default: $BROWSER, else xdg-open when on PATH.
  std::function<bool(const std::string& url)> open_browser;
  /// Messages for the user (the URL to open, the device code); default: stderr.
  std::function<void(std::string_view)> say;
};

/// What time and randomness the sign-in uses; tests fix both.
struct LoginEnvironment {
  Random random = openssl_random;
  std::function<Clock::time_point()> now = Clock::now;
};

struct SignedIn {
  Account account;
  Clock::time_point access_token_expires_on;
  bool has_refresh_token = false;
};

class TokenSource {
 public:
  TokenSource(Settings settings, net::HttpClient& http, TokenCache& cache, LoginEnvironment environment = {});

  /// Signs in and caches the tokens (the cache file is saved). Errors say what the user can do about them.
  [[nodiscard]] boost::asio::awaitable<std::expected<Account, Error>> login(LoginOptions options);

  /// An access token for the scope: the cached one while it has more than kRenewBefore to live, else one got
  /// with the refresh token (cached and saved). kNotSignedIn without an account, kInteractionRequired when
  /// the refresh token was refused.
  [[nodiscard]] boost::asio::awaitable<std::expected<std::string, Error>> access_token();
  /// A new access token with the refresh token, whatever the cached one's expiry (the server refused it).
  [[nodiscard]] boost::asio::awaitable<std::expected<std::string, Error>> renew();

  /// The signed-in account of this authority and client, if any.
  [[nodiscard]] std::optional<SignedIn> status() const;
  /// Removes the account's entries from the cache and saves it; the account removed, if there was one.
  [[nodiscard]] std::expected<std::optional<Account>, Error> logout();

  [[nodiscard]] const Settings& settings() const { return settings_; }
  /// The scope string of token requests: the API scope and kOidcScopes.
  [[nodiscard]] std::string scopes() const;

 private:
  boost::asio::awaitable<std::expected<ProviderMetadata, Error>> metadata();
  boost::asio::awaitable<std::expected<std::string, Error>> authorization_code(
      const ProviderMetadata& provider, const LoginOptions& options, const FlowSecrets& secrets);
  boost::asio::awaitable<std::expected<TokenResponse, Error>> device_code(const ProviderMetadata& provider,
                                                                          const LoginOptions& options);
  std::expected<Account, Error> keep(const TokenResponse& response, std::string_view nonce,
                                     std::string_view issuer);
  std::optional<Account> current_account() const;
  void add_client_credential(FormFields& form) const;

  Settings settings_;
  net::HttpClient& http_;
  TokenCache& cache_;
  LoginEnvironment environment_;
  std::optional<ProviderMetadata> metadata_;
};

}  // namespace deputy::client
