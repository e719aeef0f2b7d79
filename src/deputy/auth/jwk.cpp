#include "deputy/auth/jwk.hpp"

#include "deputy/auth/openssl_ptr.hpp"
#include "deputy/auth/base64url.hpp"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>

#include <algorithm>
#include <array>

namespace deputy::auth {

namespace {


struct AlgName {
  Alg alg;
  std::string_view name;
};
constexpr std::array<AlgName, 9> kAlgNames{{
    {Alg::kRs256, "RS256"},
    {Alg::kRs384, "RS384"},
    {Alg::kRs512, "RS512"},
    {Alg::kPs256, "PS256"},
    {Alg::kPs384, "PS384"},
    {Alg::kPs512, "PS512"},
    {Alg::kEs256, "ES256"},
    {Alg::kEs384, "ES384"},
    {Alg::kEs512, "ES512"},
}};

struct CurveName {
  Curve curve;
  std::string_view jose;   // crv in a JWK
  const char* openssl;     // OpenSSL's group name
  std::string_view alias;  // the NIST name OpenSSL also accepts
};
constexpr std::array<CurveName, 3> kCurves{{
    {Curve::kP256, "P-256", "prime256v1", "P-256"},
    {Curve::kP384, "P-384", "secp384r1", "P-384"},
    {Curve::kP521, "P-521", "secp521r1", "P-521"},
}};

const CurveName* curve_by_jose(std::string_view crv) {
  for (const auto& c : kCurves) {
    if (c.jose == crv) return &c;
  }
  return nullptr;
}

const CurveName& curve_info(Curve curve) {
  for (const auto& c : kCurves) {
    if (c.curve == curve) return c;
  }
  return kCurves[0];  // unreachable for the curves a KeyKind of an EC key carries
}

/// Reading a JWK member: absent is fine, present must be a string.
bool optional_string(const json::object& object, std::string_view name,
                     std::optional<std::string_view>& out) {
  const json::value* value = object.if_contains(name);
  if (value == nullptr) return true;
  if (!value->is_string()) return false;
  out = value->get_string();
  return true;
}

std::expected<std::string, JwkError> required_base64url(const json::object& object, std::string_view name) {
  const json::value* value = object.if_contains(name);
  if (value == nullptr || !value->is_string()) return std::unexpected(JwkError::kMalformedMember);
  auto bytes = base64url_decode(value->get_string());
  if (!bytes || bytes->empty()) return std::unexpected(JwkError::kMalformedMember);
  return std::move(*bytes);
}

BnPtr to_bn(std::string_view bytes) {
  return BnPtr(BN_bin2bn(reinterpret_cast<const unsigned char*>(bytes.data()), static_cast<int>(bytes.size()),
                         nullptr));
}

std::expected<PkeyPtr, JwkError> from_data(const char* type, OSSL_PARAM_BLD* builder, JwkError refused) {
  ParamPtr params(OSSL_PARAM_BLD_to_param(builder));
  PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr));
  if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1) {
    ERR_clear_error();
    return std::unexpected(JwkError::kKeyBuildFailed);
  }
  EVP_PKEY* raw = nullptr;
  if (EVP_PKEY_fromdata(ctx.get(), &raw, EVP_PKEY_PUBLIC_KEY, params.get()) != 1) {
    ERR_clear_error();
    return std::unexpected(refused);
  }
  return adopt_pkey(raw);
}

/// An RSA public key from the big-endian n and e (leading zero octets tolerated: some publishers emit
/// them although RFC 7518 asks for the minimum; the number is the same).
std::expected<PkeyPtr, JwkError> build_rsa(std::string_view n_bytes, std::string_view e_bytes) {
  BnPtr n = to_bn(n_bytes);
  BnPtr e = to_bn(e_bytes);
  if (!n || !e) return std::unexpected(JwkError::kKeyBuildFailed);
  const int bits = BN_num_bits(n.get());
  if (bits < kMinRsaModulusBits) return std::unexpected(JwkError::kRsaModulusTooSmall);
  if (bits > kMaxRsaModulusBits) return std::unexpected(JwkError::kRsaModulusTooLarge);
  // An even modulus is no RSA modulus; e must be odd and at least 3 (e = 1 makes "signatures" trivial).
  if (!BN_is_odd(n.get()) || !BN_is_odd(e.get()) || BN_num_bits(e.get()) < 2 ||
      static_cast<std::size_t>(BN_num_bytes(e.get())) > kMaxRsaExponentBytes) {
    return std::unexpected(JwkError::kBadRsaNumbers);
  }
  ParamBldPtr builder(OSSL_PARAM_BLD_new());
  if (!builder || OSSL_PARAM_BLD_push_BN(builder.get(), OSSL_PKEY_PARAM_RSA_N, n.get()) != 1 ||
      OSSL_PARAM_BLD_push_BN(builder.get(), OSSL_PKEY_PARAM_RSA_E, e.get()) != 1) {
    ERR_clear_error();
    return std::unexpected(JwkError::kKeyBuildFailed);
  }
  return from_data("RSA", builder.get(), JwkError::kKeyBuildFailed);
}

/// An EC public key from affine coordinates of exactly the curve's length.
std::expected<PkeyPtr, JwkError> build_ec(Curve curve, std::string_view x, std::string_view y) {
  const std::size_t size = coordinate_size(curve);
  // Exact length, as RFC 7518 §6.2.1.2 requires: a shorter or zero-padded longer coordinate is another
  // spelling of the same key, and lenient parsers have been tricked by such spellings before.
  if (x.size() != size || y.size() != size) return std::unexpected(JwkError::kBadCoordinateLength);
  std::string point;
  point.reserve(1 + 2 * size);
  point.push_back('\x04');  // SEC 1 uncompressed point
  point.append(x);
  point.append(y);
  ParamBldPtr builder(OSSL_PARAM_BLD_new());
  OSSL_PARAM_BLD* b = builder.get();
  const char* group = curve_info(curve).openssl;
  if (!b || OSSL_PARAM_BLD_push_utf8_string(b, OSSL_PKEY_PARAM_GROUP_NAME, group, 0) != 1 ||
      OSSL_PARAM_BLD_push_octet_string(b, OSSL_PKEY_PARAM_PUB_KEY, point.data(), point.size()) != 1) {
    ERR_clear_error();
    return std::unexpected(JwkError::kKeyBuildFailed);
  }
  // OpenSSL refuses coordinates that are not a point of the curve (or not below the field prime) here.
  auto key = from_data("EC", builder.get(), JwkError::kPointNotOnCurve);
  if (!key) return key;
  // And checked again explicitly, so the guarantee does not rest on what one import path happens to do:
  // an off-curve point lets an attacker learn about private keys in ECDH and breaks ECDSA's assumptions.
  PkeyCtxPtr check(EVP_PKEY_CTX_new_from_pkey(nullptr, key->get(), nullptr));
  if (!check) return std::unexpected(JwkError::kKeyBuildFailed);
  if (EVP_PKEY_public_check(check.get()) != 1) {
    ERR_clear_error();
    return std::unexpected(JwkError::kPointNotOnCurve);
  }
  return key;
}

bool fits(std::optional<Alg> alg, KeyKind kind) { return !alg || required_key_kind(*alg) == kind; }

/// The public numbers of a key, big-endian: n and e (minimal), or x and y (padded to the curve's length).
struct PublicNumbers {
  std::string first;   // n or x
  std::string second;  // e or y
};

std::optional<std::string> bn_param(const EVP_PKEY* key, const char* name, std::size_t pad) {
  BIGNUM* raw = nullptr;
  if (EVP_PKEY_get_bn_param(key, name, &raw) != 1) {
    ERR_clear_error();
    return std::nullopt;
  }
  BnPtr bn(raw);
  const std::size_t size = std::max(pad, static_cast<std::size_t>(BN_num_bytes(bn.get())));
  std::string out(size, '\0');
  if (BN_bn2binpad(bn.get(), reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(size)) < 0) {
    return std::nullopt;
  }
  return out;
}

std::optional<PublicNumbers> public_numbers(const EVP_PKEY* key, KeyKind kind) {
  const bool rsa = kind.type == KeyType::kRsa;
  const std::size_t pad = rsa ? 0 : coordinate_size(kind.curve);
  auto first = bn_param(key, rsa ? OSSL_PKEY_PARAM_RSA_N : OSSL_PKEY_PARAM_EC_PUB_X, pad);
  auto second = bn_param(key, rsa ? OSSL_PKEY_PARAM_RSA_E : OSSL_PKEY_PARAM_EC_PUB_Y, pad);
  if (!first || !second) return std::nullopt;
  return PublicNumbers{std::move(*first), std::move(*second)};
}

std::string digest_base64url(const char* digest, std::string_view data) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> md{};
  std::size_t size = 0;
  if (EVP_Q_digest(nullptr, digest, nullptr, data.data(), data.size(), md.data(), &size) != 1) {
    ERR_clear_error();
    return {};
  }
  return base64url_encode(std::string_view(reinterpret_cast<const char*>(md.data()), size));
}

}  // namespace

std::string_view to_string(Alg alg) {
  for (const auto& entry : kAlgNames) {
    if (entry.alg == alg) return entry.name;
  }
  return "?";
}

std::optional<Alg> alg_from_string(std::string_view name) {
  for (const auto& entry : kAlgNames) {
    if (entry.name == name) return entry.alg;
  }
  return std::nullopt;
}

KeyKind required_key_kind(Alg alg) {
  switch (alg) {
    case Alg::kRs256:
    case Alg::kRs384:
    case Alg::kRs512:
    case Alg::kPs256:
    case Alg::kPs384:
    case Alg::kPs512:
      return {KeyType::kRsa, Curve::kNone};
    case Alg::kEs256:
      return {KeyType::kEc, Curve::kP256};
    case Alg::kEs384:
      return {KeyType::kEc, Curve::kP384};
    case Alg::kEs512:
      return {KeyType::kEc, Curve::kP521};
  }
  return {KeyType::kEc, Curve::kNone};  // unreachable; a kind no key has
}

std::optional<KeyKind> key_kind(const EVP_PKEY* key) {
  if (key == nullptr) return std::nullopt;
  // EVP_PKEY_is_a is exact: an "RSA-PSS" restricted key is not "RSA" and is not accepted.
  if (EVP_PKEY_is_a(key, "RSA") == 1) return KeyKind{KeyType::kRsa, Curve::kNone};
  if (EVP_PKEY_is_a(key, "EC") != 1) return std::nullopt;
  std::array<char, 64> group{};
  std::size_t length = 0;
  const char* name_key = OSSL_PKEY_PARAM_GROUP_NAME;
  if (EVP_PKEY_get_utf8_string_param(key, name_key, group.data(), group.size(), &length) != 1) {
    ERR_clear_error();
    return std::nullopt;  // explicit curve parameters: no named curve, not one of ours
  }
  const std::string_view name(group.data(), length);
  for (const auto& c : kCurves) {
    if (name == c.openssl || name == c.alias) return KeyKind{KeyType::kEc, c.curve};
  }
  return std::nullopt;
}

std::size_t coordinate_size(Curve curve) {
  switch (curve) {
    case Curve::kP256:
      return 32;
    case Curve::kP384:
      return 48;
    case Curve::kP521:
      return 66;
    case Curve::kNone:
      break;
  }
  return 0;
}

void EvpPkeyDeleter::operator()(EVP_PKEY* key) const noexcept { EVP_PKEY_free(key); }

PkeyPtr adopt_pkey(EVP_PKEY* key) { return PkeyPtr(key, EvpPkeyDeleter{}); }

std::string_view to_string(JwkError error) {
  switch (error) {
    case JwkError::kNotObject:
      return "not_object";
    case JwkError::kNotForSignatures:
      return "not_for_signatures";
    case JwkError::kMalformedMember:
      return "malformed_member";
    case JwkError::kUnsupportedKty:
      return "unsupported_kty";
    case JwkError::kUnsupportedAlg:
      return "unsupported_alg";
    case JwkError::kAlgKeyMismatch:
      return "alg_key_mismatch";
    case JwkError::kPrivateMaterial:
      return "private_material";
    case JwkError::kUnsupportedCurve:
      return "unsupported_curve";
    case JwkError::kBadCoordinateLength:
      return "bad_coordinate_length";
    case JwkError::kPointNotOnCurve:
      return "point_not_on_curve";
    case JwkError::kRsaModulusTooSmall:
      return "rsa_modulus_too_small";
    case JwkError::kRsaModulusTooLarge:
      return "rsa_modulus_too_large";
    case JwkError::kBadRsaNumbers:
      return "bad_rsa_numbers";
    case JwkError::kDuplicateKid:
      return "duplicate_kid";
    case JwkError::kKeyBuildFailed:
      return "key_build_failed";
  }
  return "unknown";
}

std::string_view to_string(JwksError error) {
  switch (error) {
    case JwksError::kTooLarge:
      return "jwks_too_large";
    case JwksError::kNotJson:
      return "jwks_not_json";
    case JwksError::kNotObject:
      return "jwks_not_object";
    case JwksError::kNoKeysArray:
      return "jwks_no_keys_array";
    case JwksError::kTooManyKeys:
      return "jwks_too_many_keys";
  }
  return "unknown";
}

std::string_view to_string(KeySelectError error) {
  switch (error) {
    case KeySelectError::kKidUnknown:
      return "kid_unknown";
    case KeySelectError::kKidRequired:
      return "kid_required";
  }
  return "unknown";
}

std::expected<Jwk, JwkError> parse_jwk(const json::object& object) {
  // Encryption keys are published next to signing keys; a key meant for one must not serve the other.
  std::optional<std::string_view> use;
  if (!optional_string(object, "use", use)) return std::unexpected(JwkError::kMalformedMember);
  if (use && *use != "sig") return std::unexpected(JwkError::kNotForSignatures);
  if (const json::value* ops = object.if_contains("key_ops")) {
    const json::array* list = ops->if_array();
    if (list == nullptr) return std::unexpected(JwkError::kMalformedMember);
    bool verify = false;
    for (const json::value& op : *list) {
      if (!op.is_string()) return std::unexpected(JwkError::kMalformedMember);
      verify = verify || op.get_string() == "verify";
    }
    if (!verify) return std::unexpected(JwkError::kNotForSignatures);
  }

  std::optional<std::string_view> kty;
  if (!optional_string(object, "kty", kty) || !kty) return std::unexpected(JwkError::kMalformedMember);
  KeyKind kind{};
  if (*kty == "RSA") {
    kind.type = KeyType::kRsa;
  } else if (*kty == "EC") {
    kind.type = KeyType::kEc;
  } else {
    return std::unexpected(JwkError::kUnsupportedKty);
  }

  // A public key set that carries private members has leaked its keys: anyone can sign with them.
  for (std::string_view name : {"d", "p", "q", "dp", "dq", "qi", "oth", "k"}) {
    if (object.contains(name)) return std::unexpected(JwkError::kPrivateMaterial);
  }

  std::optional<std::string_view> kid;
  std::optional<std::string_view> alg_name;
  std::optional<std::string_view> x5t;
  if (!optional_string(object, "kid", kid) || !optional_string(object, "alg", alg_name) ||
      !optional_string(object, "x5t", x5t)) {
    return std::unexpected(JwkError::kMalformedMember);
  }
  std::optional<Alg> alg;
  if (alg_name) {
    alg = alg_from_string(*alg_name);
    if (!alg) return std::unexpected(JwkError::kUnsupportedAlg);
  }
  std::vector<std::string> x5c;
  if (const json::value* chain = object.if_contains("x5c")) {
    const json::array* list = chain->if_array();
    if (list == nullptr) return std::unexpected(JwkError::kMalformedMember);
    x5c.reserve(list->size());
    for (const json::value& cert : *list) {
      if (!cert.is_string()) return std::unexpected(JwkError::kMalformedMember);
      x5c.emplace_back(cert.get_string());
    }
  }

  std::expected<PkeyPtr, JwkError> key;
  if (kind.type == KeyType::kRsa) {
    // The key's own alg is checked before the numbers: a mismatch is the cheaper and clearer reason.
    if (!fits(alg, kind)) return std::unexpected(JwkError::kAlgKeyMismatch);
    auto n = required_base64url(object, "n");
    if (!n) return std::unexpected(n.error());
    auto e = required_base64url(object, "e");
    if (!e) return std::unexpected(e.error());
    key = build_rsa(*n, *e);
  } else {
    std::optional<std::string_view> crv;
    if (!optional_string(object, "crv", crv) || !crv) return std::unexpected(JwkError::kMalformedMember);
    const CurveName* curve = curve_by_jose(*crv);
    if (curve == nullptr) return std::unexpected(JwkError::kUnsupportedCurve);
    kind.curve = curve->curve;
    if (!fits(alg, kind)) return std::unexpected(JwkError::kAlgKeyMismatch);
    auto x = required_base64url(object, "x");
    if (!x) return std::unexpected(x.error());
    auto y = required_base64url(object, "y");
    if (!y) return std::unexpected(y.error());
    key = build_ec(kind.curve, *x, *y);
  }
  if (!key) return std::unexpected(key.error());

  Jwk jwk;
  if (kid) jwk.kid.emplace(*kid);
  jwk.kind = kind;
  jwk.alg = alg;
  if (x5t) jwk.x5t.emplace(*x5t);
  jwk.x5c = std::move(x5c);
  jwk.key = std::move(*key);
  return jwk;
}

std::expected<Jwk, JwkError> make_jwk(const EVP_PKEY* key, std::optional<std::string> kid,
                                      std::optional<Alg> alg) {
  const auto kind = key_kind(key);
  if (!kind) {
    return std::unexpected(key != nullptr && EVP_PKEY_is_a(key, "EC") == 1 ? JwkError::kUnsupportedCurve
                                                                           : JwkError::kUnsupportedKty);
  }
  if (!fits(alg, *kind)) return std::unexpected(JwkError::kAlgKeyMismatch);
  // Rebuilt from the public numbers, by the same path as a published JWK: the Jwk never holds a private
  // key, and a configured key passes the same checks as a fetched one.
  auto numbers = public_numbers(key, *kind);
  if (!numbers) return std::unexpected(JwkError::kKeyBuildFailed);
  auto built = kind->type == KeyType::kRsa ? build_rsa(numbers->first, numbers->second)
                                           : build_ec(kind->curve, numbers->first, numbers->second);
  if (!built) return std::unexpected(built.error());
  Jwk jwk;
  jwk.kid = std::move(kid);
  jwk.kind = *kind;
  jwk.alg = alg;
  jwk.key = std::move(*built);
  return jwk;
}

std::optional<json::object> to_json(const Jwk& jwk) {
  auto numbers = public_numbers(jwk.key.get(), jwk.kind);
  if (!numbers) return std::nullopt;
  json::object out;
  const bool rsa = jwk.kind.type == KeyType::kRsa;
  out.emplace("kty", rsa ? "RSA" : "EC");
  out.emplace("use", "sig");
  if (jwk.kid) out.emplace("kid", *jwk.kid);
  if (jwk.alg) out.emplace("alg", to_string(*jwk.alg));
  if (rsa) {
    out.emplace("n", base64url_encode(numbers->first));
    out.emplace("e", base64url_encode(numbers->second));
  } else {
    out.emplace("crv", curve_info(jwk.kind.curve).jose);
    out.emplace("x", base64url_encode(numbers->first));
    out.emplace("y", base64url_encode(numbers->second));
  }
  if (jwk.x5t) out.emplace("x5t", *jwk.x5t);
  if (!jwk.x5c.empty()) {
    json::array chain;
    for (const auto& cert : jwk.x5c) chain.emplace_back(cert);
    out.emplace("x5c", std::move(chain));
  }
  return out;
}

std::optional<std::string> thumbprint(const Jwk& jwk) {
  auto numbers = public_numbers(jwk.key.get(), jwk.kind);
  if (!numbers) return std::nullopt;
  // RFC 7638 §3: the required members only, in lexicographic order, no whitespace. The values are
  // base64url or fixed names, so nothing needs escaping.
  std::string canonical;
  if (jwk.kind.type == KeyType::kRsa) {
    canonical = R"({"e":")" + base64url_encode(numbers->second) + R"(","kty":"RSA","n":")" +
                base64url_encode(numbers->first) + R"("})";
  } else {
    canonical = R"({"crv":")" + std::string(curve_info(jwk.kind.curve).jose) + R"(","kty":"EC","x":")" +
                base64url_encode(numbers->first) + R"(","y":")" + base64url_encode(numbers->second) + R"("})";
  }
  std::string out = digest_base64url("SHA256", canonical);
  if (out.empty()) return std::nullopt;
  return out;
}

std::string x5t_sha1(std::string_view der) { return digest_base64url("SHA1", der); }

std::string x5t_sha256(std::string_view der) { return digest_base64url("SHA256", der); }

std::expected<void, JwkError> KeySet::add(Jwk jwk) {
  if (jwk.kid && find(*jwk.kid) != nullptr) return std::unexpected(JwkError::kDuplicateKid);
  keys_.push_back(std::move(jwk));
  return {};
}

const Jwk* KeySet::find(std::string_view kid) const {
  // A linear scan: sets hold a handful of keys (kMaxJwksKeys at most), and it keeps no second index in step.
  for (const Jwk& jwk : keys_) {
    if (jwk.kid && *jwk.kid == kid) return &jwk;
  }
  return nullptr;
}

std::expected<const Jwk*, KeySelectError> KeySet::select(std::optional<std::string_view> kid) const {
  if (kid) {
    const Jwk* jwk = find(*kid);
    if (jwk == nullptr) return std::unexpected(KeySelectError::kKidUnknown);
    return jwk;
  }
  if (keys_.empty()) return std::unexpected(KeySelectError::kKidUnknown);
  // Without a kid, trying every key would make each bad token cost one verification per key.
  if (keys_.size() > 1) return std::unexpected(KeySelectError::kKidRequired);
  return &keys_.front();
}

std::expected<KeySet, JwksError> parse_jwks(std::string_view document) {
  if (document.size() > kMaxJwksSize) return std::unexpected(JwksError::kTooLarge);
  json::parse_options options;
  options.max_depth = kMaxJwksDepth;
  std::error_code ec;
  json::value root = json::parse(document, ec, {}, options);
  if (ec) return std::unexpected(JwksError::kNotJson);
  const json::object* object = root.if_object();
  if (object == nullptr) return std::unexpected(JwksError::kNotObject);
  const json::value* keys = object->if_contains("keys");
  if (keys == nullptr || !keys->is_array()) return std::unexpected(JwksError::kNoKeysArray);
  const json::array& entries = keys->get_array();
  if (entries.size() > kMaxJwksKeys) return std::unexpected(JwksError::kTooManyKeys);

  KeySet set;
  set.keys_.reserve(entries.size());
  for (std::size_t i = 0; i < entries.size(); ++i) {
    const json::object* entry = entries[i].if_object();
    if (entry == nullptr) {
      set.skipped_.push_back({i, std::nullopt, JwkError::kNotObject});
      continue;
    }
    std::optional<std::string> kid;
    if (const json::value* k = entry->if_contains("kid"); k != nullptr && k->is_string()) {
      kid.emplace(k->get_string());
    }
    auto jwk = parse_jwk(*entry);
    if (!jwk) {
      set.skipped_.push_back({i, std::move(kid), jwk.error()});
      continue;
    }
    if (auto added = set.add(std::move(*jwk)); !added) {
      set.skipped_.push_back({i, std::move(kid), added.error()});
    }
  }
  return set;
}

}  // namespace deputy::auth
