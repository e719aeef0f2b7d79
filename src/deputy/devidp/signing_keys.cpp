#include "deputy/devidp/signing_keys.hpp"

#include "deputy/devidp/pki.hpp"

#include <boost/json.hpp>

#include <stdexcept>

namespace deputy::devidp {

namespace json = boost::json;

SigningKeys::SigningKeys(std::vector<SigningKey> keys) : keys_(std::move(keys)) {
  if (keys_.empty()) throw std::invalid_argument("the identity provider needs at least one signing key");
  for (const auto& key : keys_) {
    auto jwk = auth::make_jwk(key.private_key.get(), key.kid);
    if (!jwk) throw std::runtime_error("a signing key cannot be published: " + std::string(auth::to_string(jwk.error())));
    jwk->x5t = auth::x5t_sha1(key.certificate_der);
    jwk->x5c = {pki::base64(key.certificate_der)};
    if (!verification_.add(std::move(*jwk))) throw std::runtime_error("two signing keys share the kid " + key.kid);
  }
}

json::object SigningKeys::jwks(std::string_view issuer) const {
  json::array keys;
  for (const auto& jwk : verification_.keys()) {
    auto entry = auth::to_json(jwk);
    if (!entry) continue;
    (*entry)["issuer"] = issuer;
    keys.emplace_back(std::move(*entry));
  }
  json::object out;
  out["keys"] = std::move(keys);
  return out;
}

}  // namespace deputy::devidp
