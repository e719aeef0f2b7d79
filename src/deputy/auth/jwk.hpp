#pragma once
// JSON Web Keys (RFC 7517) for checking signatures: one key from a JWK object, a key set from a JWKS
// document (Entra's `discovery/v2.0/keys`), and the public JWK of a key we hold (the dev identity provider
// publishes its keys this way).

#include <openssl/types.h>
#include <boost/json.hpp>

#include <cstddef>
#include <cstdint>
#include <expected>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace deputy::auth {

namespace json = boost::json;

/// The JWS algorithms (RFC 7518 §3) deputy implements. HMAC and `none` are not here, so no allowlist can
/// name them: with keys taken from a JWKS, HS256 would let anyone holding the public key sign tokens.
enum class Alg : std::uint8_t { kRs256, kRs384, kRs512, kPs256, kPs384, kPs512, kEs256, kEs384, kEs512 };

/// The registered name ("RS256"...).
[[nodiscard]] std::string_view to_string(Alg alg);
/// Exact, case-sensitive match of a registered name (RFC 7515 §4.1.1); std::nullopt for any other.
[[nodiscard]] std::optional<Alg> alg_from_string(std::string_view name);

enum class KeyType : std::uint8_t { kRsa, kEc };
enum class Curve : std::uint8_t { kNone, kP256, kP384, kP521 };  // kNone for RSA keys

/// A key's type and, for EC keys, its curve: what an algorithm is bound to.
struct KeyKind {
  KeyType type = KeyType::kRsa;
  Curve curve = Curve::kNone;
  bool operator==(const KeyKind&) const = default;
};

/// The only kind of key `alg` may be used with: RS* and PS* an RSA key, ES256 P-256, ES384 P-384, ES512
/// P-521. Binding both ways is what stops key confusion (an RSA public key fed to another algorithm).
[[nodiscard]] KeyKind required_key_kind(Alg alg);

/// The kind of `key`; std::nullopt for anything JOSE signing here does not use (Ed25519, DSA, RSA-PSS-only
/// keys, curves other than P-256/P-384/P-521).
[[nodiscard]] std::optional<KeyKind> key_kind(const EVP_PKEY* key);

/// Byte length of one coordinate (and of r and s in a JWS signature) on `curve`: 32, 48, 66.
[[nodiscard]] std::size_t coordinate_size(Curve curve);

struct EvpPkeyDeleter {
  void operator()(EVP_PKEY* key) const noexcept;
};
/// Keys are shared: a KeySet, the verified-token cache and an in-flight verification may all hold one
/// while a JWKS refresh replaces the set.
using PkeyPtr = std::shared_ptr<EVP_PKEY>;
/// Takes ownership of `key` (which may be null).
[[nodiscard]] PkeyPtr adopt_pkey(EVP_PKEY* key);

/// A public key usable for verifying JWS signatures.
struct Jwk {
  std::optional<std::string> kid;
  KeyKind kind;
  std::optional<Alg> alg;          // when set, the only algorithm this key may verify
  std::optional<std::string> x5t;  // as published; not checked and not used for selection
  std::vector<std::string> x5c;    // as published (standard base64 DER); not checked, not trusted
  PkeyPtr key;                     // public only; never null in a Jwk made here
};

/// Why a JWK is not usable. In a JWKS the key is skipped for this reason and the rest are still used.
enum class JwkError : std::uint8_t {
  kNotObject,            // the entry is not a JSON object
  kNotForSignatures,     // `use` is not "sig", or `key_ops` lacks "verify" (encryption keys share JWKS)
  kMalformedMember,      // kty/kid/use/alg/n/e/crv/x/y/x5t/x5c missing where required, of the wrong type,
                         // or not strict base64url
  kUnsupportedKty,       // kty is not RSA or EC (oct is an HMAC secret; OKP is not implemented)
  kUnsupportedAlg,       // `alg` names an algorithm we do not verify with
  kAlgKeyMismatch,       // `alg` does not fit the key (RS256 on an EC key, ES384 on a P-256 key)
  kPrivateMaterial,      // the JWK carries private members (d, p, q...): a published private key is no key
  kUnsupportedCurve,     // crv is not P-256, P-384 or P-521 (or the key is on another curve)
  kBadCoordinateLength,  // x or y is not exactly the curve's coordinate length
  kPointNotOnCurve,      // (x, y) is not a point of the curve: invalid-curve attacks start here
  kRsaModulusTooSmall,   // fewer than kMinRsaModulusBits
  kRsaModulusTooLarge,   // more than kMaxRsaModulusBits
  kBadRsaNumbers,        // n even, or e even, below 3, or longer than kMaxRsaExponentBytes
  kDuplicateKid,         // a later JWKS entry repeats a kid already in the set (the first is kept)
  kKeyBuildFailed,       // OpenSSL could not build or read the key (an internal failure, not the input)
};
[[nodiscard]] std::string_view to_string(JwkError error);

/// Why a JWKS document is refused as a whole (the previous key set should stay in use).
enum class JwksError : std::uint8_t {
  kTooLarge,     // more than kMaxJwksSize bytes
  kNotJson,      // not JSON (or nested deeper than kMaxJwksDepth)
  kNotObject,    // JSON, but not an object
  kNoKeysArray,  // no "keys" member, or it is not an array
  kTooManyKeys,  // more than kMaxJwksKeys entries
};
[[nodiscard]] std::string_view to_string(JwksError error);

/// RFC 7518 §3.3: "A key of size 2048 bits or larger MUST be used" with RS*/PS*.
inline constexpr int kMinRsaModulusBits = 2048;
/// A verification costs time quadratic in the modulus size; no identity provider publishes keys larger
/// than 4096 bits, and a 16384-bit key would make every first-seen token ~60 times as dear as Entra's.
inline constexpr int kMaxRsaModulusBits = 8192;
/// A public exponent is 65537 in practice; a huge one would make each verification cost as much as
/// signing. OpenSSL caps it at 64 bits for large moduli too.
inline constexpr std::size_t kMaxRsaExponentBytes = 8;
/// Entra's key set, with certificate chains, is about 10 KiB; this leaves room for any real one and
/// bounds what a misbehaving endpoint makes us parse.
inline constexpr std::size_t kMaxJwksSize = 256 * 1024;
/// Entra publishes fewer than ten keys; every key costs a public-key build on each refresh.
inline constexpr std::size_t kMaxJwksKeys = 64;
/// {"keys":[{"x5c":[...]}]} is four levels; anything far deeper is not a key set.
inline constexpr std::size_t kMaxJwksDepth = 16;

/// One JWK object to a public key. Members we do not use are ignored; private members refuse the key.
[[nodiscard]] std::expected<Jwk, JwkError> parse_jwk(const json::object& object);

/// The public part of `key` (RSA of kMinRsaModulusBits or more, or EC on P-256/P-384/P-521) as a Jwk with
/// the given kid and, optionally, a fixed alg (which must fit the key). `key` may hold a private key; the
/// Jwk never does. For keys from configuration and for the dev identity provider's own keys.
[[nodiscard]] std::expected<Jwk, JwkError> make_jwk(const EVP_PKEY* key, std::optional<std::string> kid,
                                                    std::optional<Alg> alg = std::nullopt);

/// The public JWK (kty, use "sig", kid, alg, n/e or crv/x/y, x5t, x5c) for publishing in a JWKS.
/// std::nullopt only when OpenSSL cannot read the key's numbers.
[[nodiscard]] std::optional<json::object> to_json(const Jwk& jwk);

/// RFC 7638 JWK thumbprint (SHA-256, base64url). std::nullopt only when OpenSSL fails.
[[nodiscard]] std::optional<std::string> thumbprint(const Jwk& jwk);

/// The `x5t` and `x5t#S256` values (RFC 7515 §4.1.7-8) for a DER certificate: base64url SHA-1 / SHA-256.
[[nodiscard]] std::string x5t_sha1(std::string_view der);
[[nodiscard]] std::string x5t_sha256(std::string_view der);

/// A key entry of a JWKS that was left out, and why.
struct SkippedKey {
  std::size_t index = 0;           // position in the "keys" array
  std::optional<std::string> kid;  // when the entry had a string kid
  JwkError reason = JwkError::kNotObject;
};

/// Why no key was chosen for a token.
enum class KeySelectError : std::uint8_t {
  kKidUnknown,   // no key has the token's kid (or the set is empty): worth one rate-limited JWKS refetch
  kKidRequired,  // the token has no kid and the set has more than one key: a refetch would not help
};
[[nodiscard]] std::string_view to_string(KeySelectError error);

/// Verification keys from one JWKS document or from configuration.
class KeySet {
 public:
  KeySet() = default;

  /// Adds a key; kDuplicateKid when one with the same kid is already here (kid-less keys never clash).
  [[nodiscard]] std::expected<void, JwkError> add(Jwk jwk);

  /// The key whose kid is exactly `kid` (byte for byte), or null.
  [[nodiscard]] const Jwk* find(std::string_view kid) const;

  /// The key for a token: by kid when the token names one, else the only key when there is exactly one.
  /// A token naming a kid never falls back to a key with another kid or none.
  [[nodiscard]] std::expected<const Jwk*, KeySelectError> select(std::optional<std::string_view> kid) const;

  [[nodiscard]] std::size_t size() const { return keys_.size(); }
  [[nodiscard]] bool empty() const { return keys_.empty(); }
  [[nodiscard]] const std::vector<Jwk>& keys() const { return keys_; }
  /// Entries of the document that were not taken, in document order.
  [[nodiscard]] const std::vector<SkippedKey>& skipped() const { return skipped_; }

 private:
  friend std::expected<KeySet, JwksError> parse_jwks(std::string_view document);

  std::vector<Jwk> keys_;
  std::vector<SkippedKey> skipped_;
};

/// A JWKS document (`{"keys":[...]}`) to a key set. Unusable entries are skipped with a reason, not an
/// error: a provider adding an encryption key or a new key type must not break sign-in. A document whose
/// keys are all skipped gives an empty set; whether to keep the previous set then is the caller's choice.
[[nodiscard]] std::expected<KeySet, JwksError> parse_jwks(std::string_view document);

}  // namespace deputy::auth
