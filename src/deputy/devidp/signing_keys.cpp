#include "deputy/devidp/signing_keys.hpp"

#include "deputy/devidp/pki.hpp"

#include <boost/json.hpp>

#include <stdexcept>

namespace deputy::devidp {

namespace json = boost::json;

namespace {

std::shared_ptr<const KeyGeneration> make_generation(std::vector<SigningKey> keys, std::uint64_t number) {
  if (keys.empty()) throw std::invalid_argument("the identity provider needs at least one signing key");
  auto generation = std::make_shared<KeyGeneration>();
  generation->number = number;
  for (const auto& key : keys) {
    auto jwk = auth::make_jwk(key.private_key.get(), key.kid);
    if (!jwk)
      throw std::runtime_error("a signing key cannot be published: " +
                               std::string(auth::to_string(jwk.error())));
    jwk->x5t = auth::x5t_sha1(key.certificate_der);
    jwk->x5c = {pki::base64(key.certificate_der)};
    if (!generation->verification.add(std::move(*jwk))) {
      throw std::runtime_error("two signing keys share the kid " + key.kid);
    }
  }
  generation->keys = std::move(keys);
  return generation;
}

}  // namespace

SigningKeys::SigningKeys(std::vector<SigningKey> keys) : current_(make_generation(std::move(keys), 0)) {}

SigningKeys::SigningKeys(const SigningKeys& other) : current_(other.current()) {}

std::shared_ptr<const KeyGeneration> SigningKeys::current() const {
  const std::scoped_lock lock(mutex_);
  return current_;
}

std::shared_ptr<const KeyGeneration> SigningKeys::rotate(SigningKey key) {
  const std::scoped_lock lock(mutex_);  // two rotations at once must not both start from the same set
  std::vector<SigningKey> keys{std::move(key)};
  for (const auto& previous : current_->keys) {
    if (keys.size() == kPublishedSigningKeys) break;
    keys.push_back(previous);
  }
  current_ = make_generation(std::move(keys), current_->number + 1);
  return current_;
}

json::object SigningKeys::jwks(std::string_view issuer) const {
  const auto generation = current();
  json::array keys;
  for (const auto& jwk : generation->verification.keys()) {
    auto entry = auth::to_json(jwk);
    if (!entry) continue;
    (*entry)["issuer"] = issuer;
    keys.emplace_back(std::move(*entry));
  }
  json::object out;
  out["keys"] = std::move(keys);
  return out;
}

SigningKey generate_signing_key() {
  auto key = pki::generate_rsa_key();
  auto certificate = pki::issue_certificate(
      {.common_name = "deputy development token signing (rotated)", .validity = std::chrono::days(397)},
      key.get(), nullptr, key.get());
  auto der = pki::der(certificate.get());
  return {.kid = auth::x5t_sha1(der), .private_key = std::move(key), .certificate_der = std::move(der)};
}

}  // namespace deputy::devidp
