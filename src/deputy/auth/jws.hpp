#pragma once
// JWS in compact serialization (RFC 7515 §7.1): parsing under an algorithm allowlist, verifying with a key
// from configuration or a JWKS, and signing (the dev identity provider; tests). JWS JSON serialization and
// unencoded payloads (RFC 7797) are not supported.

#include "deputy/auth/jwk.hpp"

#include <openssl/types.h>
#include <boost/json.hpp>

#include <cstddef>
#include <cstdint>
#include <expected>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>

namespace deputy::auth {

namespace json = boost::json;

/// Why a token was refused or could not be signed.
enum class JwsError : std::uint8_t {
  kTokenTooLarge,     // longer than kMaxTokenSize; refused before any decoding
  kMalformed,         // not three non-empty parts joined by two dots, or alg/kid/typ/crit of the wrong shape
  kBadBase64url,      // a part is not strict, unpadded base64url
  kHeaderNotObject,   // the header is not JSON, or JSON but not an object
  kPayloadNotObject,  // the payload is not JSON, or JSON but not an object (claims are an object)
  kAlgNone,           // alg "none" (any case): an unsecured JWS
  kAlgHmac,           // alg HS*: a shared-secret MAC, which a public key must never serve as
  kAlgNotAllowed,     // alg is unknown or not in the caller's allowlist
  kCritUnsupported,   // crit names an extension; we understand none, so RFC 7515 §4.1.11 says refuse
  kKeyTypeMismatch,   // the algorithm needs another kind of key (RS256 with an EC key, ES384 with P-256)
  kKeyAlgMismatch,    // the key is fixed to another algorithm by its own `alg`
  kSignatureMalformed,  // wrong length, DER instead of raw r||s, or r or s zero or not below the order
  kSignatureInvalid,    // the signature does not verify
  kInternal,            // OpenSSL failed (allocation, missing algorithm): our fault, not the token's
};

/// A stable reason string ("token_too_large", "alg_none"...) for metrics, logs and audit records.
[[nodiscard]] std::string_view to_string(JwsError error);

/// Entra access tokens are 1.5-4 KiB; group overage keeps them from growing with group count. 16 KiB is
/// room for any real token and bounds the work (and memory) an attacker gets from one bearer header.
inline constexpr std::size_t kMaxTokenSize = 16 * 1024;

/// Header and payload nesting limit. Entra claims nest three levels at most (`_claim_sources`); deep
/// nesting only costs us.
inline constexpr std::size_t kMaxJwsJsonDepth = 16;

/// A set of algorithms, for the caller's allowlist.
class AlgSet {
 public:
  constexpr AlgSet() = default;
  constexpr AlgSet(std::initializer_list<Alg> algs) {
    for (Alg alg : algs) insert(alg);
  }
  constexpr AlgSet& insert(Alg alg) {
    bits_ |= bit(alg);
    return *this;
  }
  [[nodiscard]] constexpr bool contains(Alg alg) const { return (bits_ & bit(alg)) != 0; }
  [[nodiscard]] constexpr bool empty() const { return bits_ == 0; }
  [[nodiscard]] static constexpr AlgSet all() {
    return {Alg::kRs256, Alg::kRs384, Alg::kRs512, Alg::kPs256, Alg::kPs384,
            Alg::kPs512, Alg::kEs256, Alg::kEs384, Alg::kEs512};
  }

 private:
  static constexpr std::uint16_t bit(Alg alg) {
    return static_cast<std::uint16_t>(1u << static_cast<unsigned>(alg));
  }
  std::uint16_t bits_ = 0;
};

struct JwsPolicy {
  /// Entra signs with RS256 only; anything else must be asked for.
  AlgSet algorithms{Alg::kRs256};
};

/// A parsed, not yet verified, JWS. Made only by parse_jws; self-contained (owns copies of what it needs).
class Jws {
 public:
  [[nodiscard]] Alg alg() const { return alg_; }
  /// The header's kid / typ (parse_jws has checked they are strings when present). Views into header().
  [[nodiscard]] std::optional<std::string_view> kid() const { return string_member("kid"); }
  [[nodiscard]] std::optional<std::string_view> typ() const { return string_member("typ"); }
  [[nodiscard]] const json::object& header() const { return header_; }
  [[nodiscard]] const json::object& payload() const { return payload_; }
  /// The claims, moved out (for the validator, after verification, to avoid a copy).
  [[nodiscard]] json::object take_payload() && { return std::move(payload_); }
  /// The first two parts and the dot between them, exactly as they appeared in the token: what was signed.
  [[nodiscard]] std::string_view signing_input() const { return signing_input_; }
  /// The decoded signature (raw r||s for ES*).
  [[nodiscard]] std::string_view signature() const { return signature_; }

 private:
  friend std::expected<Jws, JwsError> parse_jws(std::string_view token, const JwsPolicy& policy);
  // Members are move-constructed: json::object's move *assignment* deep-copies across memory resources.
  Jws(Alg alg, json::object&& header, json::object&& payload, std::string signing_input,
      std::string signature)
      : alg_(alg),
        header_(std::move(header)),
        payload_(std::move(payload)),
        signing_input_(std::move(signing_input)),
        signature_(std::move(signature)) {}
  [[nodiscard]] std::optional<std::string_view> string_member(std::string_view name) const;

  Alg alg_;
  json::object header_;
  json::object payload_;
  std::string signing_input_;
  std::string signature_;
};

/// Splits, decodes and checks a compact JWS: size, shape, strict base64url, JSON objects, alg against the
/// allowlist (none and HS* never), no crit. The signature is not checked here: see verify().
[[nodiscard]] std::expected<Jws, JwsError> parse_jws(std::string_view token, const JwsPolicy& policy = {});

/// Checks the signature of `jws` with `key`. The algorithm is bound to the key: the key must be of the kind
/// the algorithm needs, and a key with its own alg only verifies that one.
[[nodiscard]] std::expected<void, JwsError> verify(const Jws& jws, const Jwk& key);

/// The JWS signature of `signing_input` with the private `key` (raw r||s for ES*; PSS with salt length =
/// hash length). For the dev identity provider and tests; kKeyTypeMismatch when `key` does not fit `alg`.
[[nodiscard]] std::expected<std::string, JwsError> create_signature(std::string_view signing_input,
                                                                    EVP_PKEY* key, Alg alg);

/// A compact JWS of `payload` under `header`, whose alg member is set to `alg` (placed first; any alg the
/// caller put there is replaced).
[[nodiscard]] std::expected<std::string, JwsError> sign(const json::object& header,
                                                        const json::object& payload, EVP_PKEY* key, Alg alg);

}  // namespace deputy::auth
