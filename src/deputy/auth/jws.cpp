#include "deputy/auth/jws.hpp"

#include "deputy/auth/openssl_ptr.hpp"
#include "deputy/auth/base64url.hpp"

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <memory>

namespace deputy::auth {

namespace {


/// The digest of each algorithm, fetched once (OpenSSL 3 recommends explicit fetching over looking the
/// name up on every call). Held for the life of the process.
const EVP_MD* digest_of(Alg alg) {
  static const std::array<EVP_MD*, 3> kDigests = {
      EVP_MD_fetch(nullptr, "SHA2-256", nullptr),
      EVP_MD_fetch(nullptr, "SHA2-384", nullptr),
      EVP_MD_fetch(nullptr, "SHA2-512", nullptr),
  };
  switch (alg) {
    case Alg::kRs256:
    case Alg::kPs256:
    case Alg::kEs256:
      return kDigests[0];
    case Alg::kRs384:
    case Alg::kPs384:
    case Alg::kEs384:
      return kDigests[1];
    case Alg::kRs512:
    case Alg::kPs512:
    case Alg::kEs512:
      return kDigests[2];
  }
  return nullptr;
}

bool is_pss(Alg alg) { return alg == Alg::kPs256 || alg == Alg::kPs384 || alg == Alg::kPs512; }

/// The group order of each curve, big-endian and padded to the coordinate size, computed once from
/// OpenSSL's own curve data (no hand-copied constants).
struct CurveOrders {
  std::array<unsigned char, 32> p256{};
  std::array<unsigned char, 48> p384{};
  std::array<unsigned char, 66> p521{};
  bool ok = true;
};

bool load_order(int nid, unsigned char* out, std::size_t size) {
  EcGroupPtr group(EC_GROUP_new_by_curve_name(nid));
  if (!group) return false;
  const BIGNUM* order = EC_GROUP_get0_order(group.get());
  return order != nullptr && BN_bn2binpad(order, out, static_cast<int>(size)) == static_cast<int>(size);
}

const CurveOrders& curve_orders() {
  static const CurveOrders kOrders = [] {
    CurveOrders orders;
    orders.ok = load_order(NID_X9_62_prime256v1, orders.p256.data(), orders.p256.size()) &&
                load_order(NID_secp384r1, orders.p384.data(), orders.p384.size()) &&
                load_order(NID_secp521r1, orders.p521.data(), orders.p521.size());
    ERR_clear_error();
    return orders;
  }();
  return kOrders;
}

const unsigned char* order_of(Curve curve) {
  const CurveOrders& orders = curve_orders();
  if (!orders.ok) return nullptr;
  switch (curve) {
    case Curve::kP256:
      return orders.p256.data();
    case Curve::kP384:
      return orders.p384.data();
    case Curve::kP521:
      return orders.p521.data();
    case Curve::kNone:
      break;
  }
  return nullptr;
}

const unsigned char* bytes(std::string_view s) { return reinterpret_cast<const unsigned char*>(s.data()); }

/// 0 < value < order, for big-endian byte strings of the same length.
bool in_scalar_range(const unsigned char* value, const unsigned char* order, std::size_t size) {
  const bool zero = std::all_of(value, value + size, [](unsigned char b) { return b == 0; });
  return !zero && std::memcmp(value, order, size) < 0;
}

/// Longest DER ECDSA-Sig-Value we produce: SEQUENCE (3 bytes of header for P-521) of two INTEGERs of at
/// most 66 bytes plus a sign octet and two header bytes each.
constexpr std::size_t kMaxDerSignature = 3 + 2 * (2 + 1 + 66);

/// JWS carries ECDSA signatures as raw r||s (RFC 7518 §3.4); OpenSSL wants DER. Checks the raw form
/// strictly first. Returns the DER length written to `der`, or an error.
std::expected<std::size_t, JwsError> raw_to_der(std::string_view raw, Curve curve,
                                                std::array<unsigned char, kMaxDerSignature>& der) {
  const std::size_t size = coordinate_size(curve);
  // Exactly 2 x the coordinate length: this also refuses DER-encoded signatures (which are 70-72 bytes
  // for P-256, never 64), so each signature has one accepted form.
  if (raw.size() != 2 * size) return std::unexpected(JwsError::kSignatureMalformed);
  const unsigned char* order = order_of(curve);
  if (order == nullptr) return std::unexpected(JwsError::kInternal);
  const unsigned char* r = bytes(raw);
  const unsigned char* s = r + size;
  // r = 0 or s = 0 must be refused here, not left to the library: an ECDSA verifier that skips this check
  // accepts (0, 0) for every message and key (CVE-2022-21449, "psychic signatures"). Values at or past the
  // order are other spellings of a smaller value; refusing them keeps one accepted form.
  if (!in_scalar_range(r, order, size) || !in_scalar_range(s, order, size)) {
    return std::unexpected(JwsError::kSignatureMalformed);
  }
  EcdsaSigPtr sig(ECDSA_SIG_new());
  BnPtr r_bn(BN_bin2bn(r, static_cast<int>(size), nullptr));
  BnPtr s_bn(BN_bin2bn(s, static_cast<int>(size), nullptr));
  if (!sig || !r_bn || !s_bn || ECDSA_SIG_set0(sig.get(), r_bn.get(), s_bn.get()) != 1) {
    return std::unexpected(JwsError::kInternal);
  }
  (void)r_bn.release();  // owned by sig now
  (void)s_bn.release();
  const int length = i2d_ECDSA_SIG(sig.get(), nullptr);
  if (length <= 0 || static_cast<std::size_t>(length) > der.size()) {
    return std::unexpected(JwsError::kInternal);
  }
  unsigned char* out = der.data();
  if (i2d_ECDSA_SIG(sig.get(), &out) != length) return std::unexpected(JwsError::kInternal);
  return static_cast<std::size_t>(length);
}

/// RSASSA-PSS as RFC 7518 §3.5 fixes it: MGF1 with the message digest, salt as long as the digest.
bool set_pss(EVP_PKEY_CTX* pctx, const EVP_MD* md) {
  return EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) == 1 &&
         EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) == 1 &&
         EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, md) == 1;
}

std::unexpected<JwsError> openssl_failure(JwsError error) {
  // Leave nothing in this thread's OpenSSL error queue: a stale entry makes later TLS calls on the same
  // thread misreport their own errors.
  ERR_clear_error();
  return std::unexpected(error);
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return (x >= 'A' && x <= 'Z' ? x + 32 : x) == (y >= 'A' && y <= 'Z' ? y + 32 : y);
         });
}

json::parse_options jose_parse_options() {
  json::parse_options options;
  options.max_depth = kMaxJwsJsonDepth;
  return options;
}

}  // namespace

std::string_view to_string(JwsError error) {
  switch (error) {
    case JwsError::kTokenTooLarge:
      return "token_too_large";
    case JwsError::kMalformed:
      return "malformed";
    case JwsError::kBadBase64url:
      return "bad_base64url";
    case JwsError::kHeaderNotObject:
      return "header_not_object";
    case JwsError::kPayloadNotObject:
      return "payload_not_object";
    case JwsError::kAlgNone:
      return "alg_none";
    case JwsError::kAlgHmac:
      return "alg_hmac";
    case JwsError::kAlgNotAllowed:
      return "alg_not_allowed";
    case JwsError::kCritUnsupported:
      return "crit_unsupported";
    case JwsError::kKeyTypeMismatch:
      return "key_type_mismatch";
    case JwsError::kKeyAlgMismatch:
      return "key_alg_mismatch";
    case JwsError::kSignatureMalformed:
      return "signature_malformed";
    case JwsError::kSignatureInvalid:
      return "signature_invalid";
    case JwsError::kInternal:
      return "internal";
  }
  return "unknown";
}

std::optional<std::string_view> Jws::string_member(std::string_view name) const {
  const json::value* value = header_.if_contains(name);
  if (value == nullptr || !value->is_string()) return std::nullopt;
  return std::string_view(value->get_string());
}

std::expected<Jws, JwsError> parse_jws(std::string_view token, const JwsPolicy& policy) {
  // First, before any decoding or allocation: the size.
  if (token.size() > kMaxTokenSize) return std::unexpected(JwsError::kTokenTooLarge);
  const std::size_t first = token.find('.');
  if (first == std::string_view::npos) return std::unexpected(JwsError::kMalformed);
  const std::size_t second = token.find('.', first + 1);
  if (second == std::string_view::npos || token.find('.', second + 1) != std::string_view::npos) {
    return std::unexpected(JwsError::kMalformed);
  }
  const std::string_view header_text = token.substr(0, first);
  const std::string_view payload_text = token.substr(first + 1, second - first - 1);
  const std::string_view signature_text = token.substr(second + 1);
  // An empty signature is an unsecured JWS (RFC 7515 Appendix A.5), refused as a shape before its header
  // is even decoded. Empty header or payload are not a JWT either.
  if (header_text.empty() || payload_text.empty() || signature_text.empty()) {
    return std::unexpected(JwsError::kMalformed);
  }

  // One buffer for the decoded header and then the payload; one arena for both JSON trees (freed with
  // the Jws), so parsing a token costs a handful of allocations instead of one per claim.
  std::string decoded;
  decoded.reserve(std::max(header_text.size(), payload_text.size()) / 4 * 3 + 3);
  if (!base64url_decode_append(header_text, decoded)) return std::unexpected(JwsError::kBadBase64url);
  json::storage_ptr storage = json::make_shared_resource<json::monotonic_resource>(2 * token.size());
  const json::parse_options options = jose_parse_options();
  std::error_code ec;
  // Boost.JSON keeps the last of duplicate member names, the behaviour RFC 7515 §4 allows; as the header
  // is parsed once and every decision reads this one tree, no two readings of {"alg":..,"alg":..} exist.
  json::value header = json::parse(decoded, ec, storage, options);
  if (ec || !header.is_object()) return std::unexpected(JwsError::kHeaderNotObject);

  const json::object& h = header.get_object();

  const json::value* alg_value = h.if_contains("alg");
  if (alg_value == nullptr || !alg_value->is_string()) return std::unexpected(JwsError::kMalformed);
  const std::string_view alg_name = alg_value->get_string();
  // Named apart from other refused algorithms because each is a known attack: "none" strips the
  // signature, HS* turns the verifier's public key into a MAC secret. Neither is in Alg, so no
  // allowlist can admit them; any case is caught, though alg names are case-sensitive.
  if (iequals(alg_name, "none")) return std::unexpected(JwsError::kAlgNone);
  if (alg_name.size() >= 2 && (alg_name[0] | 0x20) == 'h' && (alg_name[1] | 0x20) == 's') {
    return std::unexpected(JwsError::kAlgHmac);
  }
  const std::optional<Alg> alg = alg_from_string(alg_name);
  if (!alg || !policy.algorithms.contains(*alg)) return std::unexpected(JwsError::kAlgNotAllowed);

  if (const json::value* crit = h.if_contains("crit")) {
    // RFC 7515 §4.1.11: a non-empty array of names. Every name is an extension the recipient must
    // understand, and we understand none (not even b64), so any well-formed crit is refused.
    const json::array* names = crit->if_array();
    if (names == nullptr || names->empty() ||
        !std::all_of(names->begin(), names->end(), [](const json::value& v) { return v.is_string(); })) {
      return std::unexpected(JwsError::kMalformed);
    }
    return std::unexpected(JwsError::kCritUnsupported);
  }
  for (std::string_view name : {"kid", "typ"}) {
    if (const json::value* member = h.if_contains(name); member != nullptr && !member->is_string()) {
      return std::unexpected(JwsError::kMalformed);
    }
  }
  // jku, x5u, jwk and x5c are deliberately never read: the verification key comes from configuration
  // (or the configured issuer's JWKS) only. Honouring them would let a token name its own key, e.g. a jwk
  // the attacker signed with, or a jku on the attacker's server.

  std::string signature;
  if (!base64url_decode_append(signature_text, signature)) return std::unexpected(JwsError::kBadBase64url);

  decoded.clear();
  if (!base64url_decode_append(payload_text, decoded)) return std::unexpected(JwsError::kBadBase64url);
  json::value payload = json::parse(decoded, ec, storage, options);
  if (ec || !payload.is_object()) return std::unexpected(JwsError::kPayloadNotObject);

  return Jws(*alg, std::move(header.get_object()), std::move(payload.get_object()),
             std::string(token.substr(0, second)), std::move(signature));
}

std::expected<void, JwsError> verify(const Jws& jws, const Jwk& key) {
  const Alg alg = jws.alg();
  if (key.alg && *key.alg != alg) return std::unexpected(JwsError::kKeyAlgMismatch);
  // The algorithm named by the (attacker-controlled) header must fit the key we chose, both ways: an RSA
  // key used under ES*/HS*, or an EC key under RS*, is a key-confusion attack, and ES256 on a P-384 key is
  // a weaker check than the key's owner intended.
  // Checked against the key itself as well as its Jwk label, so a Jwk assembled by hand with the wrong
  // label cannot open the door either (the extra lookup costs well under a microsecond).
  const KeyKind needed = required_key_kind(alg);
  EVP_PKEY* pkey = key.key.get();
  if (needed != key.kind || key_kind(pkey) != needed) return std::unexpected(JwsError::kKeyTypeMismatch);

  std::string_view signature = jws.signature();
  std::array<unsigned char, kMaxDerSignature> der{};
  const unsigned char* sig_bytes = bytes(signature);
  std::size_t sig_size = signature.size();
  if (needed.type == KeyType::kEc) {
    auto length = raw_to_der(signature, needed.curve, der);
    if (!length) return std::unexpected(length.error());
    sig_bytes = der.data();
    sig_size = *length;
  } else if (sig_size != static_cast<std::size_t>(EVP_PKEY_get_size(pkey))) {
    // RSA signatures are exactly the modulus length (RFC 8017 §8.2.2 step 1).
    return std::unexpected(JwsError::kSignatureMalformed);
  }

  const EVP_MD* md = digest_of(alg);
  MdCtxPtr ctx(EVP_MD_CTX_new());
  EVP_PKEY_CTX* pctx = nullptr;  // owned by ctx
  if (md == nullptr || !ctx || EVP_DigestVerifyInit(ctx.get(), &pctx, md, nullptr, pkey) != 1) {
    return openssl_failure(JwsError::kInternal);
  }
  if (is_pss(alg) && !set_pss(pctx, md)) return openssl_failure(JwsError::kInternal);
  const std::string_view input = jws.signing_input();
  if (EVP_DigestVerify(ctx.get(), sig_bytes, sig_size, bytes(input), input.size()) != 1) {
    // 0 is "does not verify"; negative values are errors OpenSSL also returns for malformed signatures.
    // Both refuse the token.
    return openssl_failure(JwsError::kSignatureInvalid);
  }
  return {};
}

std::expected<std::string, JwsError> create_signature(std::string_view signing_input, EVP_PKEY* key,
                                                      Alg alg) {
  const KeyKind needed = required_key_kind(alg);
  if (key_kind(key) != needed) return std::unexpected(JwsError::kKeyTypeMismatch);
  const EVP_MD* md = digest_of(alg);
  MdCtxPtr ctx(EVP_MD_CTX_new());
  EVP_PKEY_CTX* pctx = nullptr;
  if (md == nullptr || !ctx || EVP_DigestSignInit(ctx.get(), &pctx, md, nullptr, key) != 1) {
    return openssl_failure(JwsError::kInternal);
  }
  if (is_pss(alg) && !set_pss(pctx, md)) return openssl_failure(JwsError::kInternal);
  std::size_t size = 0;
  if (EVP_DigestSign(ctx.get(), nullptr, &size, bytes(signing_input), signing_input.size()) != 1) {
    return openssl_failure(JwsError::kInternal);
  }
  std::string out(size, '\0');
  auto* data = reinterpret_cast<unsigned char*>(out.data());
  if (EVP_DigestSign(ctx.get(), data, &size, bytes(signing_input), signing_input.size()) != 1) {
    return openssl_failure(JwsError::kInternal);
  }
  out.resize(size);
  if (needed.type == KeyType::kRsa) return out;

  // OpenSSL signs ECDSA in DER; JWS wants r and s as fixed-length big-endian integers.
  const unsigned char* in = data;
  EcdsaSigPtr sig(d2i_ECDSA_SIG(nullptr, &in, static_cast<long>(size)));
  if (!sig) return openssl_failure(JwsError::kInternal);
  const std::size_t n = coordinate_size(needed.curve);
  std::string raw(2 * n, '\0');
  auto* raw_data = reinterpret_cast<unsigned char*>(raw.data());
  if (BN_bn2binpad(ECDSA_SIG_get0_r(sig.get()), raw_data, static_cast<int>(n)) != static_cast<int>(n) ||
      BN_bn2binpad(ECDSA_SIG_get0_s(sig.get()), raw_data + n, static_cast<int>(n)) != static_cast<int>(n)) {
    return openssl_failure(JwsError::kInternal);
  }
  return raw;
}

std::expected<std::string, JwsError> sign(const json::object& header, const json::object& payload,
                                          EVP_PKEY* key, Alg alg) {
  json::object full;
  full.reserve(header.size() + 1);
  full.emplace("alg", to_string(alg));
  for (const auto& member : header) {
    if (member.key() != "alg") full.emplace(member.key(), member.value());
  }
  std::string token = base64url_encode(json::serialize(full));
  token.push_back('.');
  token += base64url_encode(json::serialize(payload));
  auto signature = create_signature(token, key, alg);
  if (!signature) return std::unexpected(signature.error());
  token.push_back('.');
  token += base64url_encode(*signature);
  return token;
}

}  // namespace deputy::auth
