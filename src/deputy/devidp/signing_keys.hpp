#pragma once
// The keys the identity provider signs tokens with: two RSA-2048 keys, each with a certificate from the local
// CA, published as a JWKS (kid = x5t, as Entra does). The first signs; the second is published ahead of a
// rotation, so relying parties already hold it when it takes over.

#include "deputy/auth/jwk.hpp"

#include <boost/json/object.hpp>

#include <string>
#include <vector>

namespace deputy::devidp {

struct SigningKey {
  std::string kid;               // base64url SHA-1 of the certificate (Entra's kid equals its x5t)
  auth::PkeyPtr private_key;
  std::string certificate_der;
};

class SigningKeys {
 public:
  /// `keys` must not be empty; the first one signs.
  explicit SigningKeys(std::vector<SigningKey> keys);

  [[nodiscard]] const SigningKey& active() const { return keys_.front(); }
  [[nodiscard]] const std::vector<SigningKey>& all() const { return keys_; }
  /// The public keys as a JWKS document: kty, use "sig", kid, x5t, n, e, x5c, and Entra's `issuer` member.
  [[nodiscard]] boost::json::object jwks(std::string_view issuer) const;
  /// The same keys, for verifying our own tokens (On-Behalf-Of assertions).
  [[nodiscard]] const auth::KeySet& verification_keys() const { return verification_; }

 private:
  std::vector<SigningKey> keys_;
  auth::KeySet verification_;
};

}  // namespace deputy::devidp
