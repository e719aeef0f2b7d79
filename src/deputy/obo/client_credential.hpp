#pragma once
// How deputy's own app proves itself at the token endpoint when it exchanges a user's token: a client secret
// (from an environment variable, a file or the configuration), a certificate (a client_assertion JWT it
// signs, RFC 7523 §2.2 as Entra wants it), or a federated token file (workload identity: Kubernetes writes a
// fresh token to AZURE_FEDERATED_TOKEN_FILE, sent as the client_assertion). The result is the form fields to
// add to a token request.
//
// Secrets, keys and assertions are never printed: describe() names the kind and where it comes from. Sources
// that can change under us (variables, files: secret rotation, the kubelet's token refresh) are read at each
// use; a certificate's key is loaded once, at configuration time. A copy shares the loaded key.

#include "deputy/auth/jwk.hpp"
#include "deputy/obo/error.hpp"

#include <chrono>
#include <expected>
#include <filesystem>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace deputy::obo {

using Clock = std::chrono::system_clock;
/// Fills the span with random bytes (the assertion's jti). Default: OpenSSL's RAND_bytes.
using Random = std::function<void(std::span<unsigned char>)>;

inline constexpr std::string_view kClientAssertionType =
    "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
/// The workload identity variable (Azure Workload Identity, AKS) naming the federated token file.
inline constexpr std::string_view kFederatedTokenFileVariable = "AZURE_FEDERATED_TOKEN_FILE";
/// A signed client assertion lives this long: one token request uses it at once, and a short life limits what
/// a copy that leaked (a proxy's log) is worth. Entra allows five minutes of clock skew besides.
inline constexpr std::chrono::seconds kClientAssertionLifetime{300};
/// Largest secret, PEM or federated token file read: secrets are ~40 bytes, certificate chains a few KiB,
/// projected service account tokens ~1-2 KiB. A bigger file is the wrong file.
inline constexpr std::size_t kMaxCredentialFileSize = 64 * 1024;

struct FormField {
  std::string name;
  std::string value;
};

class ClientCredential {
 public:
  enum class Kind { secret, certificate, federated_token };

  /// A secret given as is (configuration, tests).
  [[nodiscard]] static ClientCredential secret(std::string value);
  /// A secret read from environment variable `name` at each use.
  [[nodiscard]] static ClientCredential secret_from_environment(std::string name);
  /// A secret read from `path` at each use (surrounding whitespace and a final newline dropped).
  [[nodiscard]] static ClientCredential secret_from_file(std::filesystem::path path);
  /// A certificate credential: the first certificate of `certificate_pem` and its private key, from
  /// `private_key_pem` or, when that is empty, from the certificate file itself (the combined PEM Azure
  /// tooling writes). `alg` is RS256 or PS256 (what Entra accepts for client assertions) and needs an RSA
  /// key. credential_unavailable when a file is unreadable, the key is encrypted or does not match the
  /// certificate.
  [[nodiscard]] static std::expected<ClientCredential, Failure> certificate(
      const std::filesystem::path& certificate_pem, const std::filesystem::path& private_key_pem = {},
      auth::Alg alg = auth::Alg::kRs256, Random random = {});
  /// A federated token read from `path` at each use and sent as the client assertion.
  [[nodiscard]] static ClientCredential federated_token_file(std::filesystem::path path);
  /// federated_token_file() at the path AZURE_FEDERATED_TOKEN_FILE names; credential_unavailable when unset.
  [[nodiscard]] static std::expected<ClientCredential, Failure> federated_token_from_environment();

  [[nodiscard]] Kind kind() const;

  /// The fields proving `client_id` to the token endpoint `audience` (a client assertion's aud), at `now`:
  /// client_secret, or client_assertion_type + client_assertion. client_id itself is the caller's.
  /// credential_unavailable when the source cannot be read or the assertion cannot be signed.
  [[nodiscard]] std::expected<std::vector<FormField>, Failure> form_fields(std::string_view client_id,
                                                                           std::string_view audience,
                                                                           Clock::time_point now) const;

  /// For logs and check-config: the kind and source, never the value ("client secret from environment
  /// variable DEPUTY_CLIENT_SECRET", "certificate C0FFEE… (x5t#S256 …) from /etc/deputy/app.pem").
  [[nodiscard]] std::string describe() const;

  /// The certificate's x5t#S256 (empty for other kinds), for tests and describe().
  [[nodiscard]] std::string x5t_s256() const;

  struct Impl;

 private:
  explicit ClientCredential(std::shared_ptr<const Impl> impl) : impl_(std::move(impl)) {}
  std::shared_ptr<const Impl> impl_;
};

}  // namespace deputy::obo
