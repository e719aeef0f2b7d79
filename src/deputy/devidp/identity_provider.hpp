#pragma once
// The development identity provider without its HTTP server: the directory, the signing keys, the token
// issuer, the validators of On-Behalf-Of assertions, the clock and the randomness. The endpoints
// (discovery.hpp, authorize_endpoint.hpp, token_endpoint.hpp) are functions of it, so unit tests drive them
// without sockets; the HTTP server (idp_server.hpp) only routes to them. Read-only after construction except
// for the grant store (codes, refresh tokens), the token counters, the signing keys (rotation), the browser
// sign-in sessions, the authorization requests waiting for the user, and the consent users gave, each of which
// synchronizes itself: any thread may use them.

#include "deputy/auth/token_validator.hpp"
#include "deputy/devidp/directory.hpp"
#include "deputy/devidp/errors.hpp"
#include "deputy/devidp/grant_store.hpp"
#include "deputy/devidp/own_token_validator.hpp"
#include "deputy/devidp/pending_authorizations.hpp"
#include "deputy/devidp/runtime_consents.hpp"
#include "deputy/devidp/sign_in_sessions.hpp"
#include "deputy/devidp/signing_keys.hpp"
#include "deputy/devidp/token_issuer.hpp"
#include "deputy/devidp/token_stats.hpp"

#include <chrono>
#include <expected>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace deputy::devidp {

struct ProviderOptions {
  /// Scheme, host and port every URL the provider publishes starts with, without a trailing slash
  /// (https://127.0.0.1:8443). MSAL insists on https.
  std::string base_url;
  std::function<Clock::time_point()> now = Clock::now;
  Random random = openssl_random;
  /// Clock skew allowed on assertions (user assertions and client assertions).
  std::chrono::seconds leeway = auth::kDefaultLeeway;
  /// Makes the key a rotation puts in charge (tests hand in a key made beforehand: RSA generation is slow).
  std::function<SigningKey()> new_signing_key = generate_signing_key;
};

/// An answer of an endpoint, for the HTTP server to send.
struct HttpAnswer {
  unsigned status = 200;
  std::string content_type = "application/json; charset=utf-8";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // besides Cache-Control, which the server adds
};

/// What mint_user_token makes (tests and `deputy idp mint-token`): by default alice's token from the client
/// app (authenticated by secret) for the server app's access_as_user, exactly as the token endpoint issues it.
struct MintOptions {
  std::string client = "client";   // app key, client id or identifier
  std::string resource = "server";  // app key, client id or identifier
  std::vector<std::string> scopes{"access_as_user"};
  std::chrono::seconds lifetime = kAccessTokenLifetime;
  /// Issued this long before now (with a lifetime shorter than the offset, an expired token).
  std::chrono::seconds issued_before{0};
  bool mfa = false;  // the sign-in used MFA (amr holds "mfa")
};

class IdentityProvider {
 public:
  IdentityProvider(Directory directory, SigningKeys keys, ProviderOptions options);
  IdentityProvider(const IdentityProvider&) = delete;
  IdentityProvider& operator=(const IdentityProvider&) = delete;

  [[nodiscard]] const Directory& directory() const { return directory_; }
  [[nodiscard]] const SigningKeys& keys() const { return keys_; }
  /// Tokens issued and refused so far (token_endpoint.cpp counts; GET /_dev/stats shows).
  [[nodiscard]] TokenStats& stats() const { return *stats_; }
  [[nodiscard]] const TokenIssuer& issuer() const { return issuer_; }
  [[nodiscard]] const std::string& base_url() const { return options_.base_url; }
  [[nodiscard]] Clock::time_point now() const { return options_.now(); }
  [[nodiscard]] const Random& random() const { return options_.random; }
  [[nodiscard]] std::chrono::seconds leeway() const { return options_.leeway; }
  /// Codes and refresh tokens: the provider's only mutable state, synchronized inside.
  [[nodiscard]] GrantStore& grants() const { return *grants_; }
  /// Who is signed in in which browser (the deputy_idp_session cookie).
  [[nodiscard]] SignInSessions& sessions() const { return *sessions_; }
  /// Authorization requests whose pages are showing (their forms' CSRF tokens).
  [[nodiscard]] PendingAuthorizations& pending() const { return *pending_; }
  /// Consent given on the consent page; the directory's consent checks include it.
  [[nodiscard]] RuntimeConsents& consents() const { return *directory_.runtime_consents; }

  /// The token endpoint URLs a client assertion may be addressed to (aud): the v2 endpoint under the tenant's
  /// id, domain, common and organizations, and under `segment` as the request spelled it.
  [[nodiscard]] std::vector<std::string> token_endpoint_audiences(std::string_view segment) const;

  /// Validates a user assertion addressed to `app` (its client id or an identifier URI), issued by this
  /// tenant (v2 or v1 issuer) and signed by one of our keys; app-only tokens are refused (kAppOnlyNotAllowed).
  [[nodiscard]] std::expected<std::shared_ptr<const auth::Principal>, auth::Error> validate_assertion(
      const Application& app, std::string_view assertion) const;

  /// A new signing key signs from now on; the previous one stays published (signing_keys.hpp). In memory only:
  /// a restart signs with the state directory's keys again. kInternal when no key could be made.
  [[nodiscard]] std::expected<std::shared_ptr<const KeyGeneration>, Failure> rotate_signing_key() const;

  /// A user access token, as the token endpoint would issue it (see MintOptions). For tests and demos.
  [[nodiscard]] std::expected<std::string, Failure> mint_user_token(std::string_view user,
                                                                    const MintOptions& options = {}) const;

 private:
  Directory directory_;
  mutable SigningKeys keys_;  // rotation synchronizes itself (signing_keys.hpp)
  ProviderOptions options_;
  TokenIssuer issuer_;
  std::map<std::string, std::unique_ptr<OwnTokenValidator>, std::less<>> validators_;  // by client id
  std::unique_ptr<GrantStore> grants_ = std::make_unique<GrantStore>();
  std::unique_ptr<TokenStats> stats_ = std::make_unique<TokenStats>();
  std::unique_ptr<SignInSessions> sessions_ = std::make_unique<SignInSessions>();
  std::unique_ptr<PendingAuthorizations> pending_ = std::make_unique<PendingAuthorizations>();
};

}  // namespace deputy::devidp
