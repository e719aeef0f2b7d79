#pragma once
// The keys the identity provider signs tokens with: RSA-2048 keys, each with a certificate, published as a
// JWKS (kid = x5t, as Entra does). The first signs; the others are published so that relying parties hold a
// key before it signs (at start: the next one) and after it stopped signing (after a rotation: the previous
// one), as Entra rolls its keys.
//
// Rotation (POST /_dev/keys/rotate) replaces the set while other threads read it: readers take a snapshot
// (a shared pointer to an immutable generation), so a token is signed and verified against one consistent
// set, and a rotation never invalidates what a reader holds.

#include "deputy/auth/jwk.hpp"

#include <boost/json/object.hpp>

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace deputy::devidp {

/// Keys published at once after a rotation: the new signer and the one before it (tokens it signed stay
/// valid until they expire, an hour at most).
inline constexpr std::size_t kPublishedSigningKeys = 2;

struct SigningKey {
  std::string kid;  // base64url SHA-1 of the certificate (Entra's kid equals its x5t)
  auth::PkeyPtr private_key;
  std::string certificate_der;
};

/// One immutable set of keys: the first signs.
struct KeyGeneration {
  std::uint64_t number = 0;  // 0 at start, +1 per rotation
  std::vector<SigningKey> keys;
  auth::KeySet verification;  // the public keys, for verifying our own tokens
};

class SigningKeys {
 public:
  /// `keys` must not be empty; the first one signs. Throws std::invalid_argument / std::runtime_error.
  explicit SigningKeys(std::vector<SigningKey> keys);
  /// A copy starts from the other's current generation; rotations of either do not reach the other.
  SigningKeys(const SigningKeys& other);
  SigningKeys& operator=(const SigningKeys&) = delete;

  /// The current generation (a snapshot: a later rotation does not change it).
  [[nodiscard]] std::shared_ptr<const KeyGeneration> current() const;
  /// The key that signs now.
  [[nodiscard]] SigningKey active() const { return current()->keys.front(); }
  [[nodiscard]] std::vector<SigningKey> all() const { return current()->keys; }
  /// The public keys as a JWKS document: kty, use "sig", kid, x5t, n, e, x5c, and Entra's `issuer` member.
  [[nodiscard]] boost::json::object jwks(std::string_view issuer) const;

  /// `key` signs from now on; the previous signer stays published, older keys leave (kPublishedSigningKeys).
  /// Returns the new generation. Throws std::runtime_error when the key cannot be published (its kid is
  /// already in the set, or it is not an RSA key): nothing changes then.
  std::shared_ptr<const KeyGeneration> rotate(SigningKey key);

 private:
  mutable std::mutex mutex_;
  std::shared_ptr<const KeyGeneration> current_;
};

/// A fresh RSA-2048 signing key with a self-signed certificate (rotation; the state directory's keys are
/// certified by the local CA, but nothing checks a signing certificate's chain: the JWKS is what is trusted).
[[nodiscard]] SigningKey generate_signing_key();

}  // namespace deputy::devidp
