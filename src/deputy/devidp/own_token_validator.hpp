#pragma once
// Verifying tokens the provider issued itself (On-Behalf-Of and token-exchange subject tokens, the dev
// Graph's bearer tokens): Tier 1's TokenValidator, checked against the provider's own key set as it is now.
// The validator's cache of verified tokens belongs to one key generation: after a rotation a fresh validator
// takes over, so that a token signed by a key that left the set is not accepted from the cache.

#include "deputy/auth/token_validator.hpp"
#include "deputy/devidp/signing_keys.hpp"

#include <expected>
#include <memory>
#include <mutex>
#include <string_view>

namespace deputy::devidp {

class OwnTokenValidator {
 public:
  OwnTokenValidator(auth::ValidatorOptions options, const SigningKeys& keys, auth::TokenValidator::Now now);

  [[nodiscard]] std::expected<std::shared_ptr<const auth::Principal>, auth::Error> verify(
      std::string_view token) const;

 private:
  struct Bound {
    std::shared_ptr<const KeyGeneration> keys;
    std::shared_ptr<auth::TokenValidator> validator;
  };
  [[nodiscard]] Bound bound() const;

  auth::ValidatorOptions options_;
  const SigningKeys& keys_;
  auth::TokenValidator::Now now_;
  mutable std::mutex mutex_;
  mutable Bound bound_;
};

}  // namespace deputy::devidp
