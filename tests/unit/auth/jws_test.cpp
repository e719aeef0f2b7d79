#include "deputy/auth/jws.hpp"

#include "deputy/auth/base64url.hpp"

#include <gtest/gtest.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include <set>
#include <string>
#include <vector>

// Written from the attacker's side: each row builds a token the way an attacker would and says which
// check must stop it. Keys are generated per run; tokens are built from the JSON shown at each row, so
// the decoded header and payload are in the code.

namespace deputy::auth {
namespace {

std::string b64(std::string_view bytes) { return base64url_encode(bytes); }
std::string unb64(std::string_view text) { return *base64url_decode(text); }

PkeyPtr generate(const char* type, const char* curve_or_null, std::size_t bits = 0) {
  return adopt_pkey(curve_or_null != nullptr ? EVP_PKEY_Q_keygen(nullptr, nullptr, type, curve_or_null)
                                             : EVP_PKEY_Q_keygen(nullptr, nullptr, type, bits));
}

struct Keys {
  PkeyPtr rsa = generate("RSA", nullptr, 2048);
  PkeyPtr attacker_rsa = generate("RSA", nullptr, 2048);
  PkeyPtr p256 = generate("EC", "P-256");
  PkeyPtr p384 = generate("EC", "P-384");
  PkeyPtr p521 = generate("EC", "P-521");
  PkeyPtr attacker_p256 = generate("EC", "P-256");
  // The configured verification keys: public only, as the validator would hold them.
  Jwk rsa_jwk = *make_jwk(rsa.get(), "rsa-1");
  Jwk p256_jwk = *make_jwk(p256.get(), "p256-1");
  Jwk p384_jwk = *make_jwk(p384.get(), "p384-1");
  Jwk p521_jwk = *make_jwk(p521.get(), "p521-1");
  Jwk rsa_rs256_only = *make_jwk(rsa.get(), "rsa-rs256", Alg::kRs256);
};

const Keys& keys() {
  static const Keys k;
  return k;
}

const JwsPolicy kAll{AlgSet::all()};

// Claims used by most rows.
constexpr std::string_view kClaims =
    R"({"iss":"https://login.microsoftonline.com/tid/v2.0","aud":"api://deputy","sub":"alice","exp":1900000000})";

std::string signing_input(std::string_view header, std::string_view payload) {
  return b64(header) + "." + b64(payload);
}

/// header.payload.signature with the header JSON exactly as given, signed with `key` under `alg`
/// (which need not be what the header says).
std::string signed_token(std::string_view header, std::string_view payload, EVP_PKEY* key, Alg alg) {
  const std::string input = signing_input(header, payload);
  auto signature = create_signature(input, key, alg);
  EXPECT_TRUE(signature) << to_string(signature.error());
  return input + "." + b64(signature.value_or(""));
}

std::string with_signature(std::string_view token, std::string_view signature_bytes) {
  return std::string(token.substr(0, token.rfind('.') + 1)) + b64(signature_bytes);
}

std::string signature_of(std::string_view token) { return unb64(token.substr(token.rfind('.') + 1)); }

/// parse_jws and then verify: the path the validator takes.
std::expected<void, JwsError> check(std::string_view token, const Jwk& key, const JwsPolicy& policy = kAll) {
  auto jws = parse_jws(token, policy);
  if (!jws) return std::unexpected(jws.error());
  return verify(*jws, key);
}

struct Row {
  std::string name;
  std::string token;
  const Jwk* key;
  std::optional<JwsError> expected;  // std::nullopt: accepted
  JwsPolicy policy = kAll;
};

void run(const std::vector<Row>& rows) {
  for (const Row& row : rows) {
    SCOPED_TRACE(row.name);
    auto result = check(row.token, *row.key, row.policy);
    if (!row.expected) {
      EXPECT_TRUE(result) << "refused: " << to_string(result.error());
    } else if (result) {
      ADD_FAILURE() << "accepted; expected " << to_string(*row.expected);
    } else {
      EXPECT_EQ(to_string(result.error()), to_string(*row.expected));
    }
    // Failures leave nothing in OpenSSL's per-thread error queue for later TLS calls to trip over.
    EXPECT_EQ(ERR_peek_error(), 0ul);
  }
}

TEST(Jws, EveryAlgorithmRoundTrips) {
  const Keys& k = keys();
  struct Case {
    Alg alg;
    EVP_PKEY* key;
    const Jwk* jwk;
  };
  for (const Case& c : {Case{Alg::kRs256, k.rsa.get(), &k.rsa_jwk}, Case{Alg::kRs384, k.rsa.get(), &k.rsa_jwk},
                        Case{Alg::kRs512, k.rsa.get(), &k.rsa_jwk}, Case{Alg::kPs256, k.rsa.get(), &k.rsa_jwk},
                        Case{Alg::kPs384, k.rsa.get(), &k.rsa_jwk}, Case{Alg::kPs512, k.rsa.get(), &k.rsa_jwk},
                        Case{Alg::kEs256, k.p256.get(), &k.p256_jwk}, Case{Alg::kEs384, k.p384.get(), &k.p384_jwk},
                        Case{Alg::kEs512, k.p521.get(), &k.p521_jwk}}) {
    SCOPED_TRACE(std::string(to_string(c.alg)));
    auto token = sign(json::object{{"typ", "JWT"}, {"kid", *c.jwk->kid}}, json::parse(kClaims).as_object(), c.key,
                      c.alg);
    ASSERT_TRUE(token) << to_string(token.error());
    auto jws = parse_jws(*token, JwsPolicy{AlgSet{c.alg}});
    ASSERT_TRUE(jws) << to_string(jws.error());
    EXPECT_EQ(jws->alg(), c.alg);
    EXPECT_TRUE(verify(*jws, *c.jwk));
    // PS* and ES* signatures are randomized; each fresh one verifies too.
    EXPECT_TRUE(check(*sign({}, json::parse(kClaims).as_object(), c.key, c.alg), *c.jwk));
  }
}

TEST(Jws, EcdsaSignaturesAreFixedLengthRawRAndS) {
  // Many signatures per curve, so r and s with leading zero bytes (padding in raw form, shorter DER
  // integers) and with the top bit set (a sign octet in DER) are all exercised both ways.
  const Keys& k = keys();
  struct Case {
    Alg alg;
    EVP_PKEY* key;
    const Jwk* jwk;
    std::size_t size;
  };
  for (const Case& c : {Case{Alg::kEs256, k.p256.get(), &k.p256_jwk, 64},
                        Case{Alg::kEs384, k.p384.get(), &k.p384_jwk, 96},
                        Case{Alg::kEs512, k.p521.get(), &k.p521_jwk, 132}}) {
    for (int i = 0; i < 200; ++i) {
      const std::string payload = R"({"n":)" + std::to_string(i) + "}";
      const std::string header = std::string(R"({"alg":")") + std::string(to_string(c.alg)) + R"("})";
      const std::string token = signed_token(header, payload, c.key, c.alg);
      ASSERT_EQ(signature_of(token).size(), c.size);
      ASSERT_TRUE(check(token, *c.jwk)) << to_string(c.alg) << " #" << i;
    }
  }
}

// RFC 7515 Appendix A.3, the specification's own ES256 example.
//   header:  {"alg":"ES256"}
//   payload: {"iss":"joe",\r\n "exp":1300819380,\r\n "http://example.com/is_root":true}
constexpr std::string_view kRfc7515A3 =
    "eyJhbGciOiJFUzI1NiJ9"
    ".eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ"
    ".DtEhU3ljbEg8L38VWAfUAqOyKAM6-Xx-F4GawxaepmXFCgfTjDxw5djxLa8ISlSApmWQxfKTUJqPP3-Kg6NU1Q";

TEST(Jws, VerifiesTheRfc7515EcdsaExample) {
  auto jwk = parse_jwk(json::parse(R"({"kty":"EC","crv":"P-256",
      "x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"})")
                           .as_object());
  ASSERT_TRUE(jwk);
  auto jws = parse_jws(kRfc7515A3, JwsPolicy{AlgSet{Alg::kEs256}});
  ASSERT_TRUE(jws) << to_string(jws.error());
  EXPECT_TRUE(verify(*jws, *jwk));
  EXPECT_EQ(jws->payload().at("iss"), "joe");
  EXPECT_EQ(jws->kid(), std::nullopt);
  // The default policy is RS256 only.
  EXPECT_EQ(parse_jws(kRfc7515A3).error(), JwsError::kAlgNotAllowed);
  // One flipped bit in s.
  std::string signature = signature_of(kRfc7515A3);
  signature[40] = static_cast<char>(signature[40] ^ 0x01);
  EXPECT_EQ(check(with_signature(kRfc7515A3, signature), *jwk).error(), JwsError::kSignatureInvalid);
}

// RFC 7515 Appendix A.2, the specification's RS256 example, and its key (public part).
//   header:  {"alg":"RS256"}
//   payload: {"iss":"joe",\r\n "exp":1300819380,\r\n "http://example.com/is_root":true}
constexpr std::string_view kRfc7515A2 =
    "eyJhbGciOiJSUzI1NiJ9"
    ".eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ"
    ".cC4hiUPoj9Eetdgtv3hF80EGrhuB__dzERat0XF9g2VtQgr9PJbu3XOiZj5RZmh7AAuHIm4Bh-0Qc_lF5YKt_O8W2Fp5jujGbds9uJdbF9CUAr7t1"
    "dnZcAcQjbKBYNX4BAynRFdiuB--f_nZLgrnbyTyWzO75vRK5h6xBArLIARNPvkSjtQBMHlb1L07Qe7K0GarZRmB_eSN9383LcOLn6_dO--xi12jzD"
    "wusC-eOkHWEsqtFZESc6BfI7noOPqvhJ1phCnvWh6IeYI2w9QOYEUipUTI8np6LbgGY9Fs98rqVt5AXLIhWkWywlVmtVrBp0igcN_IoypGlUPQGe7"
    "7Rw";
constexpr std::string_view kRfc7515A2N =
    "ofgWCuLjybRlzo0tZWJjNiuSfb4p4fAkd_wWJcyQoTbji9k0l8W26mPddxHmfHQp-Vaw-4qPCJrcS2mJPMEzP1Pt0Bm4d4QlL-yRT-SFd2lZS-pCg"
    "NMsD1W_YpRPEwOWvG6b32690r2jZ47soMZo9wGzjb_7OMg0LOL-bSf63kpaSHSXndS5z5rexMdbBYUsLA9e-KXBdQOS-UTo7WTBEMa2R2CapHg665"
    "xsmtdVMTBQY4uDZlxvb3qCo5ZwKh9kG4LT6_I5IhlJH7aGhyxXFvUK-DWNmoudF8NAco9_h9iaGNj8q2ethFkMLs91kzk2PAcDTW9gb54h4FRWyuX"
    "poQ";

TEST(Jws, VerifiesTheRfc7515RsaExample) {
  auto jwk = parse_jwk(json::object{{"kty", "RSA"}, {"n", kRfc7515A2N}, {"e", "AQAB"}, {"kid", "2010-12-29"}});
  ASSERT_TRUE(jwk) << to_string(jwk.error());
  auto jws = parse_jws(kRfc7515A2);
  ASSERT_TRUE(jws) << to_string(jws.error());
  EXPECT_TRUE(verify(*jws, *jwk));
  EXPECT_EQ(jws->payload().at("exp"), 1300819380);
  // PKCS #1 v1.5 is deterministic: signing the same input with the RFC's private key would reproduce the
  // signature byte for byte; we hold only the public half, so the check is that it verifies here and
  // fails for another key.
  EXPECT_EQ(verify(*jws, keys().rsa_jwk).error(), JwsError::kSignatureInvalid);
}

TEST(Jws, AlgorithmAttacks) {
  const Keys& k = keys();
  const std::string good = signed_token(R"({"alg":"RS256","kid":"rsa-1"})", kClaims, k.rsa.get(), Alg::kRs256);

  // HS256 with the verifier's public key as the HMAC secret (the classic key-confusion attack), in
  // both forms a careless library might use as "the key".
  auto hs256_with = [&](std::string_view secret) {
    const std::string input = signing_input(R"({"alg":"HS256","kid":"rsa-1"})", kClaims);
    unsigned char mac[EVP_MAX_MD_SIZE];
    std::size_t mac_size = 0;
    EXPECT_TRUE(EVP_Q_mac(nullptr, "HMAC", nullptr, "SHA256", nullptr, secret.data(), secret.size(),
                          reinterpret_cast<const unsigned char*>(input.data()), input.size(), mac, sizeof mac,
                          &mac_size));
    return input + "." + b64(std::string_view(reinterpret_cast<char*>(mac), mac_size));
  };
  std::string pem;
  {
    BIO* bio = BIO_new(BIO_s_mem());
    PEM_write_bio_PUBKEY(bio, k.rsa_jwk.key.get());
    char* data = nullptr;
    const long size = BIO_get_mem_data(bio, &data);
    pem.assign(data, static_cast<std::size_t>(size));
    BIO_free(bio);
  }
  std::string der;
  {
    unsigned char* data = nullptr;
    const int size = i2d_PUBKEY(k.rsa_jwk.key.get(), &data);
    der.assign(reinterpret_cast<char*>(data), static_cast<std::size_t>(size));
    OPENSSL_free(data);
  }
  const std::string payload_and_sig = good.substr(good.find('.'));

  run({
      {"good RS256", good, &k.rsa_jwk, std::nullopt},
      // {"alg":"none"} with an empty signature: the unsecured JWS of RFC 7515 Appendix A.5.
      {"alg none, empty signature", b64(R"({"alg":"none"})") + "." + b64(kClaims) + ".", &k.rsa_jwk,
       JwsError::kMalformed},
      {"alg none, the good signature kept", b64(R"({"alg":"none"})") + payload_and_sig, &k.rsa_jwk,
       JwsError::kAlgNone},
      {"alg None", b64(R"({"alg":"None"})") + payload_and_sig, &k.rsa_jwk, JwsError::kAlgNone},
      {"alg NONE", b64(R"({"alg":"NONE"})") + payload_and_sig, &k.rsa_jwk, JwsError::kAlgNone},
      {"HS256 keyed with the public key PEM", hs256_with(pem), &k.rsa_jwk, JwsError::kAlgHmac},
      {"HS256 keyed with the public key DER", hs256_with(der), &k.rsa_jwk, JwsError::kAlgHmac},
      {"HS512", b64(R"({"alg":"HS512"})") + payload_and_sig, &k.rsa_jwk, JwsError::kAlgHmac},
      {"hs256", b64(R"({"alg":"hs256"})") + payload_and_sig, &k.rsa_jwk, JwsError::kAlgHmac},
      {"EdDSA", b64(R"({"alg":"EdDSA"})") + payload_and_sig, &k.rsa_jwk, JwsError::kAlgNotAllowed},
      {"rs256 (case)", b64(R"({"alg":"rs256"})") + payload_and_sig, &k.rsa_jwk, JwsError::kAlgNotAllowed},
      {"RS256 with a trailing space", b64(R"({"alg":"RS256 "})") + payload_and_sig, &k.rsa_jwk,
       JwsError::kAlgNotAllowed},
      {"alg missing", b64(R"({"kid":"rsa-1"})") + payload_and_sig, &k.rsa_jwk, JwsError::kMalformed},
      {"alg a number", b64(R"({"alg":256})") + payload_and_sig, &k.rsa_jwk, JwsError::kMalformed},
      {"alg an array", b64(R"({"alg":["RS256"]})") + payload_and_sig, &k.rsa_jwk, JwsError::kMalformed},
      {"RS384 under the default policy",
       signed_token(R"({"alg":"RS384"})", kClaims, k.rsa.get(), Alg::kRs384), &k.rsa_jwk, JwsError::kAlgNotAllowed,
       JwsPolicy{}},
      {"RS256 under an empty policy", good, &k.rsa_jwk, JwsError::kAlgNotAllowed, JwsPolicy{AlgSet{}}},
      // Duplicate names: the last one counts (RFC 7515 §4 allows that or refusal), and it is the one
      // every check reads.
      {"duplicate alg, none last", b64(R"({"alg":"RS256","alg":"none"})") + payload_and_sig, &k.rsa_jwk,
       JwsError::kAlgNone},
      {"duplicate alg, RS256 last",
       signed_token(R"({"alg":"none","alg":"RS256"})", kClaims, k.rsa.get(), Alg::kRs256), &k.rsa_jwk,
       std::nullopt},
  });
}

TEST(Jws, KeyConfusion) {
  const Keys& k = keys();
  const std::string rs256 = signed_token(R"({"alg":"RS256"})", kClaims, k.rsa.get(), Alg::kRs256);
  const std::string rs512 = signed_token(R"({"alg":"RS512"})", kClaims, k.rsa.get(), Alg::kRs512);
  const std::string ps256 = signed_token(R"({"alg":"PS256"})", kClaims, k.rsa.get(), Alg::kPs256);
  const std::string es256 = signed_token(R"({"alg":"ES256"})", kClaims, k.p256.get(), Alg::kEs256);
  // Signed with ES256 on P-256, but the header claims ES384.
  const std::string es256_as_es384 = signed_token(R"({"alg":"ES384"})", kClaims, k.p256.get(), Alg::kEs256);
  const std::string es512 = signed_token(R"({"alg":"ES512"})", kClaims, k.p521.get(), Alg::kEs512);
  // An RS256 (PKCS #1 v1.5) signature under a header that says PS256.
  const std::string rs256_as_ps256 = signed_token(R"({"alg":"PS256"})", kClaims, k.rsa.get(), Alg::kRs256);

  // A Jwk labelled P-256 that holds the RSA key: the label alone must not decide.
  Jwk mislabelled = k.rsa_jwk;
  mislabelled.kind = KeyKind{KeyType::kEc, Curve::kP256};
  Jwk empty = k.rsa_jwk;
  empty.key = nullptr;

  run({
      {"RS256 token, EC key", rs256, &k.p256_jwk, JwsError::kKeyTypeMismatch},
      {"ES256 token, RSA key labelled P-256", es256, &mislabelled, JwsError::kKeyTypeMismatch},
      {"RS256 token, RSA key labelled P-256", rs256, &mislabelled, JwsError::kKeyTypeMismatch},
      {"RS256 token, Jwk without a key", rs256, &empty, JwsError::kKeyTypeMismatch},
      {"ES256 token, RSA key", es256, &k.rsa_jwk, JwsError::kKeyTypeMismatch},
      {"ES256 token, P-384 key", es256, &k.p384_jwk, JwsError::kKeyTypeMismatch},
      {"ES512 token, P-256 key", es512, &k.p256_jwk, JwsError::kKeyTypeMismatch},
      {"ES256-signed, header ES384, P-256 key", es256_as_es384, &k.p256_jwk, JwsError::kKeyTypeMismatch},
      {"ES256-signed, header ES384, P-384 key", es256_as_es384, &k.p384_jwk, JwsError::kSignatureMalformed},
      {"RS512 token, key fixed to RS256", rs512, &k.rsa_rs256_only, JwsError::kKeyAlgMismatch},
      {"PS256 token, key fixed to RS256", ps256, &k.rsa_rs256_only, JwsError::kKeyAlgMismatch},
      {"RS256 token, key fixed to RS256", rs256, &k.rsa_rs256_only, std::nullopt},
      {"PKCS1 signature, header PS256", rs256_as_ps256, &k.rsa_jwk, JwsError::kSignatureInvalid},
  });
}

TEST(Jws, PssParametersAreFixed) {
  // RFC 7518 §3.5: salt length = hash length, MGF1 with the same hash. Signatures with other parameters
  // (valid RSASSA-PSS, just not PS256) are refused.
  const Keys& k = keys();
  const std::string input = signing_input(R"({"alg":"PS256"})", kClaims);
  auto pss = [&](int salt, const char* mgf1) {
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    EVP_PKEY_CTX* pctx = nullptr;
    EXPECT_EQ(EVP_DigestSignInit_ex(ctx, &pctx, "SHA256", nullptr, nullptr, k.rsa.get(), nullptr), 1);
    EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING);
    EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, salt);
    EVP_PKEY_CTX_set_rsa_mgf1_md_name(pctx, mgf1, nullptr);
    std::string signature(256, '\0');
    std::size_t size = signature.size();
    EXPECT_EQ(EVP_DigestSign(ctx, reinterpret_cast<unsigned char*>(signature.data()), &size,
                             reinterpret_cast<const unsigned char*>(input.data()), input.size()),
              1);
    EVP_MD_CTX_free(ctx);
    return input + "." + b64(signature);
  };
  run({
      {"salt 32, MGF1-SHA256", pss(32, "SHA256"), &k.rsa_jwk, std::nullopt},
      {"salt max", pss(RSA_PSS_SALTLEN_MAX, "SHA256"), &k.rsa_jwk, JwsError::kSignatureInvalid},
      {"salt 0", pss(0, "SHA256"), &k.rsa_jwk, JwsError::kSignatureInvalid},
      {"MGF1-SHA1", pss(32, "SHA1"), &k.rsa_jwk, JwsError::kSignatureInvalid},
  });
}

std::string order_p256() {
  // The order of P-256 (SEC 2 §2.4.2, FIPS 186-4 D.1.2.3), big-endian.
  BIGNUM* n = nullptr;
  BN_hex2bn(&n, "FFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551");
  std::string out(32, '\0');
  BN_bn2binpad(n, reinterpret_cast<unsigned char*>(out.data()), 32);
  BN_free(n);
  return out;
}

/// n - s: the other valid s for the same (r, message). ECDSA signatures are malleable this way.
std::string negate_s(std::string_view s) {
  BIGNUM* n = BN_bin2bn(reinterpret_cast<const unsigned char*>(order_p256().data()), 32, nullptr);
  BIGNUM* v = BN_bin2bn(reinterpret_cast<const unsigned char*>(s.data()), static_cast<int>(s.size()), nullptr);
  BN_sub(v, n, v);
  std::string out(32, '\0');
  BN_bn2binpad(v, reinterpret_cast<unsigned char*>(out.data()), 32);
  BN_free(n);
  BN_free(v);
  return out;
}

std::string to_der(std::string_view raw) {
  ECDSA_SIG* sig = ECDSA_SIG_new();
  const std::size_t half = raw.size() / 2;
  ECDSA_SIG_set0(sig, BN_bin2bn(reinterpret_cast<const unsigned char*>(raw.data()), static_cast<int>(half), nullptr),
                 BN_bin2bn(reinterpret_cast<const unsigned char*>(raw.data() + half), static_cast<int>(half), nullptr));
  unsigned char* der = nullptr;
  const int size = i2d_ECDSA_SIG(sig, &der);
  std::string out(reinterpret_cast<char*>(der), static_cast<std::size_t>(size));
  OPENSSL_free(der);
  ECDSA_SIG_free(sig);
  return out;
}

TEST(Jws, SignatureTampering) {
  const Keys& k = keys();
  const std::string rs256 = signed_token(R"({"alg":"RS256"})", kClaims, k.rsa.get(), Alg::kRs256);
  const std::string es256 = signed_token(R"({"alg":"ES256"})", kClaims, k.p256.get(), Alg::kEs256);
  const std::string rs_sig = signature_of(rs256);
  const std::string es_sig = signature_of(es256);
  const std::string r = es_sig.substr(0, 32);
  const std::string s = es_sig.substr(32);
  const std::string zero(32, '\0');
  const std::string n = order_p256();
  const std::string all_ones(32, '\xff');
  // The payload changed after signing: "alice" became "admin".
  //   payload: {"iss":"https://login.microsoftonline.com/tid/v2.0","aud":"api://deputy","sub":"admin",...}
  std::string altered_claims(kClaims);
  altered_claims.replace(altered_claims.find("alice"), 5, "admin");
  auto with_payload = [](std::string_view token, std::string_view payload) {
    return std::string(token.substr(0, token.find('.') + 1)) + b64(payload) +
           std::string(token.substr(token.rfind('.')));
  };
  const std::string attacker_rs256 =
      signed_token(R"({"alg":"RS256"})", kClaims, k.attacker_rsa.get(), Alg::kRs256);
  const std::string attacker_es256 =
      signed_token(R"({"alg":"ES256"})", kClaims, k.attacker_p256.get(), Alg::kEs256);
  std::string rs_flipped = rs_sig;
  rs_flipped[100] = static_cast<char>(rs_flipped[100] ^ 0x80);

  run({
      {"RS256 payload altered", with_payload(rs256, altered_claims), &k.rsa_jwk, JwsError::kSignatureInvalid},
      {"ES256 payload altered", with_payload(es256, altered_claims), &k.p256_jwk, JwsError::kSignatureInvalid},
      {"RS256 header altered (kid added)",
       b64(R"({"alg":"RS256","kid":"rsa-1"})") + rs256.substr(rs256.find('.')), &k.rsa_jwk,
       JwsError::kSignatureInvalid},
      {"RS256 one bit flipped", with_signature(rs256, rs_flipped), &k.rsa_jwk, JwsError::kSignatureInvalid},
      {"RS256 truncated by one byte", with_signature(rs256, rs_sig.substr(1)), &k.rsa_jwk,
       JwsError::kSignatureMalformed},
      {"RS256 with a leading zero byte", with_signature(rs256, std::string(1, '\0') + rs_sig), &k.rsa_jwk,
       JwsError::kSignatureMalformed},
      {"RS256 empty signature", rs256.substr(0, rs256.rfind('.') + 1), &k.rsa_jwk, JwsError::kMalformed},
      {"RS256 one-byte signature", with_signature(rs256, "\x01"), &k.rsa_jwk, JwsError::kSignatureMalformed},
      {"RS256 from another key", attacker_rs256, &k.rsa_jwk, JwsError::kSignatureInvalid},
      {"ES256 from another key", attacker_es256, &k.p256_jwk, JwsError::kSignatureInvalid},
      {"ES256 truncated", with_signature(es256, es_sig.substr(0, 63)), &k.p256_jwk, JwsError::kSignatureMalformed},
      {"ES256 r only", with_signature(es256, r), &k.p256_jwk, JwsError::kSignatureMalformed},
      {"ES256 one byte too many", with_signature(es256, es_sig + '\0'), &k.p256_jwk, JwsError::kSignatureMalformed},
      // CVE-2022-21449: r = s = 0 "verifies" any message under a verifier that skips the range check.
      {"ES256 r = s = 0", with_signature(es256, zero + zero), &k.p256_jwk, JwsError::kSignatureMalformed},
      {"ES256 r = 0", with_signature(es256, zero + s), &k.p256_jwk, JwsError::kSignatureMalformed},
      {"ES256 s = 0", with_signature(es256, r + zero), &k.p256_jwk, JwsError::kSignatureMalformed},
      {"ES256 r = n", with_signature(es256, n + s), &k.p256_jwk, JwsError::kSignatureMalformed},
      {"ES256 s = n", with_signature(es256, r + n), &k.p256_jwk, JwsError::kSignatureMalformed},
      {"ES256 r = n = s", with_signature(es256, n + n), &k.p256_jwk, JwsError::kSignatureMalformed},
      {"ES256 r = 2^256 - 1", with_signature(es256, all_ones + s), &k.p256_jwk, JwsError::kSignatureMalformed},
      {"ES256 s = 2^256 - 1", with_signature(es256, r + all_ones), &k.p256_jwk, JwsError::kSignatureMalformed},
      {"ES256 DER-encoded", with_signature(es256, to_der(es_sig)), &k.p256_jwk, JwsError::kSignatureMalformed},
      // ECDSA's malleable twin (r, n - s) is a valid signature; JWS does not ask for low s, so it is
      // accepted. A cache keyed by token text sees two tokens; both carry the same verified claims.
      {"ES256 (r, n - s)", with_signature(es256, r + negate_s(s)), &k.p256_jwk, std::nullopt},
      {"ES256 signature swapped halves", with_signature(es256, s + r), &k.p256_jwk, JwsError::kSignatureInvalid},
  });
}

TEST(Jws, CritIsRefused) {
  const Keys& k = keys();
  auto token = [&](std::string_view header) { return signed_token(header, kClaims, k.rsa.get(), Alg::kRs256); };
  run({
      {"crit unknown name", token(R"({"alg":"RS256","crit":["exp"],"exp":1})"), &k.rsa_jwk,
       JwsError::kCritUnsupported},
      {"crit b64 (RFC 7797)", token(R"({"alg":"RS256","crit":["b64"],"b64":false})"), &k.rsa_jwk,
       JwsError::kCritUnsupported},
      {"crit naming an absent member", token(R"({"alg":"RS256","crit":["http://x/y"]})"), &k.rsa_jwk,
       JwsError::kCritUnsupported},
      {"crit a string", token(R"({"alg":"RS256","crit":"exp"})"), &k.rsa_jwk, JwsError::kMalformed},
      {"crit empty", token(R"({"alg":"RS256","crit":[]})"), &k.rsa_jwk, JwsError::kMalformed},
      {"crit of numbers", token(R"({"alg":"RS256","crit":[1]})"), &k.rsa_jwk, JwsError::kMalformed},
      {"crit null", token(R"({"alg":"RS256","crit":null})"), &k.rsa_jwk, JwsError::kMalformed},
      {"crit an object", token(R"({"alg":"RS256","crit":{"exp":true}})"), &k.rsa_jwk, JwsError::kMalformed},
  });
}

TEST(Jws, HeaderKeyReferencesAreIgnored) {
  const Keys& k = keys();
  auto attacker_jwk = to_json(*make_jwk(k.attacker_rsa.get(), "rsa-1"));
  ASSERT_TRUE(attacker_jwk);
  const std::string embedded = json::serialize(*attacker_jwk);
  // Headers pointing at keys elsewhere; the token is signed by the configured key, so it verifies: the
  // pointers change nothing.
  const std::string pointing =
      R"({"alg":"RS256","kid":"rsa-1","jku":"https://attacker.example/jwks","x5u":"https://attacker.example/c.pem",)"
      R"("x5c":["MIIBattacker"],"jwk":)" +
      embedded + "}";
  // Signed by the attacker, whose public key rides along in `jwk` (and `jku` points at it): a verifier
  // honouring either would accept.
  const std::string forged_header = R"({"alg":"RS256","kid":"rsa-1","jku":"https://attacker.example/jwks","jwk":)" +
                                    embedded + "}";
  run({
      {"jku/x5u/x5c/jwk present, signed by the configured key",
       signed_token(pointing, kClaims, k.rsa.get(), Alg::kRs256), &k.rsa_jwk, std::nullopt},
      {"signed by the embedded jwk", signed_token(forged_header, kClaims, k.attacker_rsa.get(), Alg::kRs256),
       &k.rsa_jwk, JwsError::kSignatureInvalid},
      {"signed by the embedded jwk, no kid",
       signed_token(R"({"alg":"RS256","jwk":)" + embedded + "}", kClaims, k.attacker_rsa.get(), Alg::kRs256),
       &k.rsa_jwk, JwsError::kSignatureInvalid},
  });
}

TEST(Jws, Shapes) {
  const Keys& k = keys();
  const std::string good = signed_token(R"({"alg":"RS256"})", kClaims, k.rsa.get(), Alg::kRs256);
  const std::string h = good.substr(0, good.find('.'));
  const std::string p = good.substr(good.find('.') + 1, good.rfind('.') - good.find('.') - 1);
  const std::string s = good.substr(good.rfind('.') + 1);
  run({
      {"good", h + "." + p + "." + s, &k.rsa_jwk, std::nullopt},
      {"two parts", h + "." + p, &k.rsa_jwk, JwsError::kMalformed},
      {"four parts", h + "." + p + "." + s + "." + s, &k.rsa_jwk, JwsError::kMalformed},
      {"five parts (JWE shape)", h + "." + p + "." + p + "." + p + "." + s, &k.rsa_jwk, JwsError::kMalformed},
      {"one part", h, &k.rsa_jwk, JwsError::kMalformed},
      {"empty", "", &k.rsa_jwk, JwsError::kMalformed},
      {"dots only", "..", &k.rsa_jwk, JwsError::kMalformed},
      {"empty header", "." + p + "." + s, &k.rsa_jwk, JwsError::kMalformed},
      {"empty payload", h + ".." + s, &k.rsa_jwk, JwsError::kMalformed},
      {"empty signature", h + "." + p + ".", &k.rsa_jwk, JwsError::kMalformed},
      {"trailing dot", h + "." + p + "." + s + ".", &k.rsa_jwk, JwsError::kMalformed},
      {"leading dot", "." + h + "." + p + "." + s, &k.rsa_jwk, JwsError::kMalformed},
      {"Bearer prefix left on", "Bearer " + h + "." + p + "." + s, &k.rsa_jwk, JwsError::kBadBase64url},
  });
}

TEST(Jws, StrictBase64url) {
  const Keys& k = keys();
  const std::string good = signed_token(R"({"alg":"RS256"})", kClaims, k.rsa.get(), Alg::kRs256);
  const std::string h = good.substr(0, good.find('.'));
  const std::string p = good.substr(good.find('.') + 1, good.rfind('.') - good.find('.') - 1);
  const std::string s = good.substr(good.rfind('.') + 1);
  ASSERT_EQ(s.size() % 4, 2u);  // 256 bytes: two padding characters in standard base64
  // Standard base64 of the same header: {"alg":"RS256"} has no '+' or '/', so one is forced in by hand.
  std::string h_plus = h;
  h_plus.back() = '+';
  // 256 bytes leave 4 unused bits in the last character, so it is one of A Q g w; the next letter
  // decodes to the same bytes with an unused bit set.
  ASSERT_NE(std::string_view("AQgw").find(s.back()), std::string_view::npos);
  const char non_canonical = static_cast<char>(s.back() + 1);
  run({
      {"signature padded with ==", h + "." + p + "." + s + "==", &k.rsa_jwk, JwsError::kBadBase64url},
      {"header padded", h + "=." + p + "." + s, &k.rsa_jwk, JwsError::kBadBase64url},
      {"payload padded", h + "." + p + "=." + s, &k.rsa_jwk, JwsError::kBadBase64url},
      {"'+' in header", h_plus + "." + p + "." + s, &k.rsa_jwk, JwsError::kBadBase64url},
      {"'/' in signature", h + "." + p + "." + "/" + s.substr(1), &k.rsa_jwk, JwsError::kBadBase64url},
      {"space in payload", h + "." + p.substr(0, 8) + " " + p.substr(8) + "." + s, &k.rsa_jwk,
       JwsError::kBadBase64url},
      {"newline in signature", h + "." + p + "." + s.substr(0, 8) + "\n" + s.substr(8), &k.rsa_jwk,
       JwsError::kBadBase64url},
      {"trailing newline", h + "." + p + "." + s + "\n", &k.rsa_jwk, JwsError::kBadBase64url},
      {"header length 4k+1", h + "A." + p + "." + s, &k.rsa_jwk, JwsError::kBadBase64url},
      {"signature length 4k+1", h + "." + p + "." + s + "AAA", &k.rsa_jwk, JwsError::kBadBase64url},
      {"non-canonical last character", h + "." + p + "." + s.substr(0, s.size() - 1) + non_canonical, &k.rsa_jwk,
       JwsError::kBadBase64url},
  });
}

TEST(Jws, HeaderAndPayloadMustBeObjects) {
  const Keys& k = keys();
  const std::string sig = "." + b64(std::string(256, '\x01'));
  const std::string claims = b64(kClaims);
  const std::string header = b64(R"({"alg":"RS256"})");
  run({
      {"header array", b64(R"([{"alg":"RS256"}])") + "." + claims + sig, &k.rsa_jwk, JwsError::kHeaderNotObject},
      {"header string", b64(R"("RS256")") + "." + claims + sig, &k.rsa_jwk, JwsError::kHeaderNotObject},
      {"header number", b64("256") + "." + claims + sig, &k.rsa_jwk, JwsError::kHeaderNotObject},
      {"header null", b64("null") + "." + claims + sig, &k.rsa_jwk, JwsError::kHeaderNotObject},
      {"header not JSON", b64("alg=RS256") + "." + claims + sig, &k.rsa_jwk, JwsError::kHeaderNotObject},
      {"header with trailing garbage", b64(R"({"alg":"RS256"}x)") + "." + claims + sig, &k.rsa_jwk,
       JwsError::kHeaderNotObject},
      {"header two objects", b64(R"({"alg":"RS256"}{"alg":"none"})") + "." + claims + sig, &k.rsa_jwk,
       JwsError::kHeaderNotObject},
      {"header invalid UTF-8", b64("{\"alg\":\"RS256\",\"x\":\"\xff\"}") + "." + claims + sig, &k.rsa_jwk,
       JwsError::kHeaderNotObject},
      {"header nested too deep", b64(R"({"alg":"RS256","x":)" + std::string(40, '[') + std::string(40, ']') + "}") +
                                     "." + claims + sig,
       &k.rsa_jwk, JwsError::kHeaderNotObject},
      {"payload array", header + "." + b64(R"([{"sub":"alice"}])") + sig, &k.rsa_jwk, JwsError::kPayloadNotObject},
      {"payload string", header + "." + b64(R"("alice")") + sig, &k.rsa_jwk, JwsError::kPayloadNotObject},
      {"payload not JSON", header + "." + b64("hello") + sig, &k.rsa_jwk, JwsError::kPayloadNotObject},
      {"payload nested too deep",
       header + "." + b64(R"({"x":)" + std::string(40, '[') + std::string(40, ']') + "}") + sig, &k.rsa_jwk,
       JwsError::kPayloadNotObject},
      {"kid a number", b64(R"({"alg":"RS256","kid":1})") + "." + claims + sig, &k.rsa_jwk, JwsError::kMalformed},
      {"typ an object", b64(R"({"alg":"RS256","typ":{}})") + "." + claims + sig, &k.rsa_jwk, JwsError::kMalformed},
  });
}

/// A token signed by the RSA key whose total length is exactly `size`, grown by a filler claim and kid.
std::string token_of_size(std::size_t size) {
  const std::size_t signature_length = 342;  // 256 bytes of RS256 signature with a 2048-bit key
  for (std::size_t kid = 0; kid < 4; ++kid) {
    const std::string header = R"({"alg":"RS256","kid":")" + std::string(kid, 'k') + R"("})";
    const std::size_t fixed = b64(header).size() + 2 + signature_length;
    const std::size_t overhead = std::string_view(R"({"sub":"alice","x":""})").size();
    // Start a little below the filler length that gives `size`; step up until it is hit or passed.
    for (std::size_t filler = (size - fixed) * 3 / 4 - overhead - 4; filler < size; ++filler) {
      const std::size_t total = fixed + ((overhead + filler) * 4 + 2) / 3;
      if (total < size) continue;
      const std::string payload = R"({"sub":"alice","x":")" + std::string(filler, 'x') + R"("})";
      if (total == size) return signed_token(header, payload, keys().rsa.get(), Alg::kRs256);
      if (total > size) break;
    }
  }
  ADD_FAILURE() << "no token of size " << size;
  return {};
}

TEST(Jws, SizeIsCheckedBeforeAnythingElse) {
  const Keys& k = keys();
  const std::string at_limit = token_of_size(kMaxTokenSize);
  const std::string past_limit = token_of_size(kMaxTokenSize + 1);
  ASSERT_EQ(at_limit.size(), kMaxTokenSize);
  ASSERT_EQ(past_limit.size(), kMaxTokenSize + 1);
  // A well-formed, correctly signed 1 MiB token.
  const std::string huge_claims = R"({"sub":"alice","x":")" + std::string(768 * 1024, 'x') + R"("})";
  const std::string huge = signed_token(R"({"alg":"RS256"})", huge_claims, k.rsa.get(), Alg::kRs256);
  run({
      {"exactly kMaxTokenSize", at_limit, &k.rsa_jwk, std::nullopt},
      {"kMaxTokenSize + 1", past_limit, &k.rsa_jwk, JwsError::kTokenTooLarge},
      {"1 MiB, well-formed and signed", huge, &k.rsa_jwk, JwsError::kTokenTooLarge},
      // Garbage that every later check would also refuse: the size is what refuses it, so no decoding
      // happened.
      {"1 MiB of '!'", std::string(1024 * 1024, '!'), &k.rsa_jwk, JwsError::kTokenTooLarge},
      {"1 MiB of dots", std::string(1024 * 1024, '.'), &k.rsa_jwk, JwsError::kTokenTooLarge},
  });
}

TEST(Jws, ExposesWhatTheValidatorNeeds) {
  const Keys& k = keys();
  const std::string header = R"({"alg":"RS256","kid":"rsa-1","typ":"at+jwt","x5t":"abc"})";
  const std::string token = signed_token(header, kClaims, k.rsa.get(), Alg::kRs256);
  auto jws = parse_jws(token);
  ASSERT_TRUE(jws) << to_string(jws.error());
  EXPECT_EQ(jws->alg(), Alg::kRs256);
  EXPECT_EQ(jws->kid(), "rsa-1");
  EXPECT_EQ(jws->typ(), "at+jwt");
  EXPECT_EQ(jws->header().at("x5t"), "abc");
  EXPECT_EQ(jws->payload().at("sub"), "alice");
  EXPECT_EQ(jws->signing_input(), token.substr(0, token.rfind('.')));
  EXPECT_EQ(jws->signature(), signature_of(token));
  // Header and claims live in the parse's own arena (a regression to the default resource would mean a
  // deep copy of both on the way out of parse_jws).
  EXPECT_NE(jws->payload().storage().get(), json::storage_ptr().get());
  EXPECT_EQ(jws->payload().storage().get(), jws->header().storage().get());
  // A copy is independent of the token text and of the original.
  const Jws copy = *jws;
  EXPECT_EQ(copy.kid(), "rsa-1");
  json::object claims = std::move(*jws).take_payload();
  EXPECT_EQ(claims.at("aud"), "api://deputy");
  EXPECT_TRUE(verify(copy, k.rsa_jwk));
  // No kid, no typ.
  auto bare = parse_jws(signed_token(R"({"alg":"RS256"})", "{}", k.rsa.get(), Alg::kRs256));
  ASSERT_TRUE(bare);
  EXPECT_EQ(bare->kid(), std::nullopt);
  EXPECT_EQ(bare->typ(), std::nullopt);
  EXPECT_TRUE(bare->payload().empty());
}

TEST(Jws, SignPutsAlgFirstAndReplacesTheCallersAlg) {
  const Keys& k = keys();
  auto token = sign(json::object{{"alg", "none"}, {"typ", "JWT"}, {"kid", "rsa-1"}},
                    json::object{{"sub", "alice"}}, k.rsa.get(), Alg::kRs256);
  ASSERT_TRUE(token);
  EXPECT_EQ(unb64(token->substr(0, token->find('.'))), R"({"alg":"RS256","typ":"JWT","kid":"rsa-1"})");
  EXPECT_TRUE(check(*token, k.rsa_jwk));
}

TEST(Jws, CreateSignatureRefusesKeysThatDoNotFit) {
  const Keys& k = keys();
  PkeyPtr ed = adopt_pkey(EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519"));
  EXPECT_EQ(create_signature("x", k.rsa.get(), Alg::kEs256).error(), JwsError::kKeyTypeMismatch);
  EXPECT_EQ(create_signature("x", k.p384.get(), Alg::kEs256).error(), JwsError::kKeyTypeMismatch);
  EXPECT_EQ(create_signature("x", k.p256.get(), Alg::kRs256).error(), JwsError::kKeyTypeMismatch);
  EXPECT_EQ(create_signature("x", ed.get(), Alg::kEs256).error(), JwsError::kKeyTypeMismatch);
  EXPECT_EQ(create_signature("x", nullptr, Alg::kRs256).error(), JwsError::kKeyTypeMismatch);
  // A public-only key cannot sign: OpenSSL's failure, reported as ours.
  EXPECT_EQ(create_signature("x", k.rsa_jwk.key.get(), Alg::kRs256).error(), JwsError::kInternal);
  EXPECT_EQ(ERR_peek_error(), 0ul);
}

TEST(Jws, ReasonStringsAreStableAndDistinct) {
  EXPECT_EQ(to_string(JwsError::kTokenTooLarge), "token_too_large");
  EXPECT_EQ(to_string(JwsError::kAlgNone), "alg_none");
  EXPECT_EQ(to_string(JwsError::kAlgHmac), "alg_hmac");
  EXPECT_EQ(to_string(JwsError::kSignatureInvalid), "signature_invalid");
  std::set<std::string_view> seen;
  for (int i = 0; i <= static_cast<int>(JwsError::kInternal); ++i) {
    EXPECT_TRUE(seen.insert(to_string(static_cast<JwsError>(i))).second) << i;
  }
  EXPECT_FALSE(seen.contains("unknown"));
}

TEST(AlgSet, Membership) {
  constexpr AlgSet set{Alg::kRs256, Alg::kEs512};
  static_assert(set.contains(Alg::kRs256) && set.contains(Alg::kEs512) && !set.contains(Alg::kPs256));
  static_assert(AlgSet{}.empty() && !AlgSet::all().empty());
  static_assert(JwsPolicy{}.algorithms.contains(Alg::kRs256) && !JwsPolicy{}.algorithms.contains(Alg::kRs384));
  for (Alg alg : {Alg::kRs256, Alg::kRs384, Alg::kRs512, Alg::kPs256, Alg::kPs384, Alg::kPs512, Alg::kEs256,
                  Alg::kEs384, Alg::kEs512}) {
    EXPECT_TRUE(AlgSet::all().contains(alg));
  }
}

}  // namespace
}  // namespace deputy::auth
