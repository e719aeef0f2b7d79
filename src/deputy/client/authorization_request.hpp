#pragma once
// The front-channel half of the authorization code flow (RFC 6749 §4.1, OpenID Connect Core §3.1.2, RFC
// 7636): the secrets a sign-in binds itself with (PKCE verifier, state, nonce), the authorize URL that
// carries them, and the redirect's answer read back.
//   - PKCE S256: the code is useless without the verifier, which never leaves this process.
//   - state: the redirect that reaches our listener belongs to the request we sent (CSRF, RFC 6749 §10.12).
//   - nonce: the id_token was issued for this sign-in, not replayed from another.

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace deputy::client {

/// Fills its argument with unpredictable bytes; injected so tests are repeatable. Default: OpenSSL's
/// RAND_bytes.
using Random = std::function<void(std::span<unsigned char>)>;
void openssl_random(std::span<unsigned char> out);

/// 32 random bytes: 256 bits, the strength RFC 7636 §7.1 recommends for the verifier; state and nonce alike.
inline constexpr std::size_t kSecretBytes = 32;

/// `bytes` random bytes, base64url (43 characters for 32 bytes: inside RFC 7636's 43..128 for a verifier).
[[nodiscard]] std::string random_secret(const Random& random, std::size_t bytes = kSecretBytes);

/// BASE64URL(SHA256(verifier)): the S256 code_challenge (RFC 7636 §4.2).
[[nodiscard]] std::string s256_challenge(std::string_view verifier);

struct FlowSecrets {
  std::string code_verifier;
  std::string state;
  std::string nonce;
};
[[nodiscard]] FlowSecrets make_flow_secrets(const Random& random);

struct AuthorizeParameters {
  std::string authorization_endpoint;
  std::string client_id;
  std::string redirect_uri;
  std::string scope;  // space-separated, openid and offline_access included
  FlowSecrets secrets;
  std::string prompt;      // select_account, login, consent, or empty
  std::string login_hint;  // prefills the user name
  std::string claims;      // a claims request (JSON), from a step-up challenge; empty for none
};

/// The authorize URL: response_type=code, response_mode=query, code_challenge_method=S256, client_info=1.
[[nodiscard]] std::string authorize_url(const AuthorizeParameters& parameters);

/// What came back to the redirect URI.
struct RedirectResult {
  std::string code;
  std::string state;
  std::string error;              // empty on success
  std::string error_description;  // the provider's text (AADSTS code and message)
};

/// Reads a redirect's query string (without '?'); nullopt when it is not a form encoding.
[[nodiscard]] std::optional<RedirectResult> parse_redirect_query(std::string_view query);

/// Query or form fields decoded ('+' as space, percent escapes); nullopt for a malformed escape.
[[nodiscard]] std::optional<std::vector<std::pair<std::string, std::string>>> parse_query(
    std::string_view query);

/// Whether two strings are equal, in time independent of where they differ (state comparison).
[[nodiscard]] bool constant_time_equal(std::string_view a, std::string_view b);

}  // namespace deputy::client
