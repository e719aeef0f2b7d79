#pragma once
// Token exchange on behalf of the calling user: the user's access token (validated by auth/, addressed to
// us) is traded at the identity provider for a token for a downstream API, which then enforces the user's own
// permissions. The user's token itself never goes downstream.
//
// One interface, two protocols:
//   - Entra On-Behalf-Of (RFC 7523 jwt-bearer as Entra does it: grant_type=…:jwt-bearer, assertion=<user
//   token>,
//     requested_token_use=on_behalf_of, scope space-joined);
//   - RFC 8693 token exchange (grant_type=…:token-exchange, subject_token, subject_token_type, scope, and
//     optionally audience / resource) for other identity providers.
// Errors come back as a Failure (error.hpp); the caller decides the answer to its own client (a claims
// challenge, a consent link). Caching and single-flight are a decorator (token_cache.hpp).
//
// Never logged: the subject token, the issued token, secrets and assertions. Debug lines carry the protocol,
// the endpoint's host, the status, the provider's error code and the milliseconds.

#include "deputy/net/http_client.hpp"
#include "deputy/obo/client_credential.hpp"
#include "deputy/obo/error.hpp"

#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <expected>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace deputy::obo {

/// A token for a downstream API, obtained for one user. Held in memory only.
struct DownstreamToken {
  std::string access_token;  // never logged
  Clock::time_point expires_at;
  std::string scope;  // as granted (the response's scope), else as asked
  std::string
      audience;  // the token's aud, when it is a JWT we could decode (not verified: not ours to verify)
  std::string token_id;  // uti or jti of the token, from the JWT payload if decodable (for audit records)
  bool from_cache =
      false;  // served from the cache or by another caller's exchange, not by an exchange of ours
};

struct ExchangeRequest {
  /// The user's access token (Principal::raw_token). Must stay alive until exchange() completes.
  std::string_view subject_token;
  /// Principal::key(): the cache partition, so that one user's token is never served for another.
  std::string_view subject_key;
  /// Downstream scopes ("https://graph.microsoft.com/.default"), sent space-joined.
  std::vector<std::string> scopes;
  /// A claims challenge to satisfy (the JSON the client came back with after interaction_required): passed as
  /// claims=, and the cache is bypassed (its entry replaced by the fresh token).
  std::string claims;
};

class TokenExchanger {
 public:
  virtual ~TokenExchanger() = default;
  /// Never throws for network or protocol failures; safe to call from coroutines on any io_context.
  [[nodiscard]] virtual boost::asio::awaitable<std::expected<DownstreamToken, Failure>> exchange(
      ExchangeRequest request) = 0;
};

enum class Protocol {
  entra_obo,       // Entra ID On-Behalf-Of (RFC 7523 jwt-bearer, requested_token_use=on_behalf_of)
  token_exchange,  // RFC 8693 OAuth 2.0 Token Exchange
};
[[nodiscard]] std::string_view to_string(Protocol protocol);

/// The network, passed in: production is http_sender(client); unit tests answer from memory.
using Sender = std::function<boost::asio::awaitable<std::expected<net::ClientResponse, net::ClientError>>(
    net::ClientRequest)>;
/// Waiting between attempts; default: a timer on the calling coroutine's executor.
using Sleeper = std::function<boost::asio::awaitable<void>(std::chrono::milliseconds)>;

/// One exchange, retries included: a token request is a tool call's first step, and the MCP client waits for
/// the whole call about net::kDefaultTotalTimeout; Entra answers OBO in well under a second.
inline constexpr std::chrono::seconds kDefaultExchangeTimeout{15};
/// Attempts of one exchange (the first included). Retried: 429 and 503 (Retry-After honoured up to
/// kMaxExchangeRetryWait) and a keep-alive connection closed under us. Repeating a token request is safe: it
/// changes nothing at the provider that a second token would harm.
inline constexpr unsigned kDefaultExchangeAttempts = 2;
/// A throttled provider asking for a longer wait gets its answer passed on (Failure::retry_after) instead.
inline constexpr std::chrono::seconds kMaxExchangeRetryWait{5};
/// The wait before a retry when the provider gave no Retry-After.
inline constexpr std::chrono::milliseconds kExchangeRetryDelay{500};
/// Largest token response taken: an access token (a few KiB; Entra's stay under auth::kMaxTokenSize), maybe
/// a refresh token and an id token. More is not a token response.
inline constexpr std::size_t kMaxTokenResponseSize = 256 * 1024;
/// An issued token is believed for at most this long whatever expires_in says: Entra's live 60-90 minutes,
/// and a provider claiming days must not pin a token in our cache for as long.
inline constexpr std::chrono::hours kMaxTokenLifetime{24};

inline constexpr std::string_view kJwtBearerGrant = "urn:ietf:params:oauth:grant-type:jwt-bearer";
inline constexpr std::string_view kTokenExchangeGrant = "urn:ietf:params:oauth:grant-type:token-exchange";
inline constexpr std::string_view kAccessTokenType = "urn:ietf:params:oauth:token-type:access_token";

struct ExchangeOptions {
  Protocol protocol = Protocol::entra_obo;
  /// https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token. https only (http for loopback hosts,
  /// tests).
  std::string token_endpoint;
  /// Our app's client id (the middle tier: the audience of the users' tokens).
  std::string client_id;
  /// How our app authenticates. nullopt: none (a public client, which RFC 8693 providers may allow; Entra OBO
  /// requires a confidential client, so make_exchanger refuses entra_obo without one).
  std::optional<ClientCredential> credential;
  /// A client assertion's aud; empty: token_endpoint (what Entra expects).
  std::string assertion_audience;
  /// RFC 8693 only: audience= and resource= (each sent when not empty).
  std::string audience;
  std::string resource;
  /// RFC 8693 only: subject_token_type=.
  std::string subject_token_type = std::string(kAccessTokenType);
  std::chrono::milliseconds timeout = kDefaultExchangeTimeout;
  unsigned max_attempts = kDefaultExchangeAttempts;
  std::function<Clock::time_point()> now = Clock::now;
  Sleeper sleep;
};

/// The exchanger for `options.protocol`, sending through `send`. Throws std::invalid_argument (a
/// configuration error, found at startup) when the endpoint is not an https URL (http only to loopback), the
/// client id is empty, or entra_obo has no credential.
[[nodiscard]] std::unique_ptr<TokenExchanger> make_exchanger(ExchangeOptions options, Sender send);

/// A Sender over `client` (which must outlive it).
[[nodiscard]] Sender http_sender(net::HttpClient& client);

}  // namespace deputy::obo
