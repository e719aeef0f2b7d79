#include "deputy/auth/jwk.hpp"

#include "deputy/auth/base64url.hpp"

#include <gtest/gtest.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>

#include <string>

namespace deputy::auth {
namespace {

// Keys are generated once per run: RSA generation is the slow part of this file.
const PkeyPtr& rsa_2048() {
  static const PkeyPtr key = adopt_pkey(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", std::size_t{2048}));
  return key;
}
const PkeyPtr& ec_key(const char* curve) {
  static const PkeyPtr p256 = adopt_pkey(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
  static const PkeyPtr p384 = adopt_pkey(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-384"));
  static const PkeyPtr p521 = adopt_pkey(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-521"));
  const std::string_view name = curve;
  return name == "P-256" ? p256 : name == "P-384" ? p384 : p521;
}

json::object public_json(const EVP_PKEY* key, std::string kid) {
  auto jwk = make_jwk(key, std::move(kid));
  EXPECT_TRUE(jwk) << to_string(jwk.error());
  return *to_json(*jwk);
}

json::object object(std::string_view text) { return json::parse(text).as_object(); }

std::string b64(std::string_view bytes) { return base64url_encode(bytes); }
std::string unb64(const json::value& value) { return *base64url_decode(value.as_string()); }

// RFC 7517 Appendix A.1 / RFC 7638 §3.1 example key.
constexpr std::string_view kRfcN =
    "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3"
    "oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZ"
    "Hzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kE"
    "gU8awapJzKnqDKgw";

json::object rfc_rsa_jwk() {
  json::object jwk{{"kty", "RSA"}, {"n", kRfcN}, {"e", "AQAB"}, {"alg", "RS256"}, {"kid", "2011-04-29"}};
  return jwk;
}

TEST(Jwk, ParsesTheRfcRsaKey) {
  auto jwk = parse_jwk(rfc_rsa_jwk());
  ASSERT_TRUE(jwk) << to_string(jwk.error());
  EXPECT_EQ(jwk->kid, "2011-04-29");
  EXPECT_EQ(jwk->kind, (KeyKind{KeyType::kRsa, Curve::kNone}));
  EXPECT_EQ(jwk->alg, Alg::kRs256);
  EXPECT_EQ(EVP_PKEY_get_bits(jwk->key.get()), 2048);
}

TEST(Jwk, Rfc7638Thumbprint) {
  auto jwk = parse_jwk(rfc_rsa_jwk());
  ASSERT_TRUE(jwk);
  EXPECT_EQ(thumbprint(*jwk), "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs");
}

TEST(Jwk, EcThumbprintUsesCrvKtyXY) {
  // RFC 7515 Appendix A.3 key; the canonical form is {"crv":"P-256","kty":"EC","x":"...","y":"..."}.
  auto jwk = parse_jwk(object(R"({"kty":"EC","crv":"P-256","kid":"a3",
      "x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"})"));
  ASSERT_TRUE(jwk) << to_string(jwk.error());
  const std::string canonical =
      R"({"crv":"P-256","kty":"EC","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"})";
  EXPECT_EQ(thumbprint(*jwk), x5t_sha256(canonical));
}

TEST(Jwk, X5tHelpers) {
  // SHA-1("abc") and SHA-256("abc") from FIPS 180, base64url.
  EXPECT_EQ(x5t_sha1("abc"), "qZk-NkcGgWq6PiVxeFDCbJzQ2J0");
  EXPECT_EQ(x5t_sha256("abc"), "ungWv48Bz-pBQUDeXa4iI7ADYaOWF3qctBD_YfIAFa0");
}

TEST(Jwk, MakeAndPublishRoundTrip) {
  for (const EVP_PKEY* key : {rsa_2048().get(), ec_key("P-256").get(), ec_key("P-384").get(),
                              ec_key("P-521").get()}) {
    auto made = make_jwk(key, "k1", std::nullopt);
    ASSERT_TRUE(made) << to_string(made.error());
    // The Jwk is public only, though made from a private key.
    BIGNUM* d = nullptr;
    const char* private_name = made->kind.type == KeyType::kRsa ? OSSL_PKEY_PARAM_RSA_D : OSSL_PKEY_PARAM_PRIV_KEY;
    EXPECT_NE(EVP_PKEY_get_bn_param(made->key.get(), private_name, &d), 1);
    EXPECT_EQ(EVP_PKEY_eq(made->key.get(), key), 1);

    auto published = to_json(*made);
    ASSERT_TRUE(published);
    EXPECT_EQ(published->at("use"), "sig");
    EXPECT_EQ(published->at("kid"), "k1");
    EXPECT_FALSE(published->contains("d"));
    auto parsed = parse_jwk(*published);
    ASSERT_TRUE(parsed) << to_string(parsed.error());
    EXPECT_EQ(parsed->kind, made->kind);
    EXPECT_EQ(EVP_PKEY_eq(parsed->key.get(), key), 1);
    EXPECT_EQ(thumbprint(*parsed), thumbprint(*made));
  }
}

TEST(Jwk, EcCoordinatesArePaddedToTheCurveLength) {
  for (const char* curve : {"P-256", "P-384", "P-521"}) {
    auto published = public_json(ec_key(curve).get(), "k");
    const std::size_t size = std::string_view(curve) == "P-256" ? 32 : std::string_view(curve) == "P-384" ? 48 : 66;
    EXPECT_EQ(unb64(published.at("x")).size(), size) << curve;
    EXPECT_EQ(unb64(published.at("y")).size(), size) << curve;
    EXPECT_EQ(published.at("crv"), curve);
  }
}

TEST(Jwk, MakeJwkBindsAlgAndRefusesOtherKeys) {
  EXPECT_EQ(make_jwk(rsa_2048().get(), "k", Alg::kPs256)->alg, Alg::kPs256);
  EXPECT_EQ(make_jwk(rsa_2048().get(), "k", Alg::kEs256).error(), JwkError::kAlgKeyMismatch);
  EXPECT_EQ(make_jwk(ec_key("P-256").get(), "k", Alg::kEs384).error(), JwkError::kAlgKeyMismatch);

  PkeyPtr small = adopt_pkey(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", std::size_t{1024}));
  EXPECT_EQ(make_jwk(small.get(), "k").error(), JwkError::kRsaModulusTooSmall);
  PkeyPtr ed = adopt_pkey(EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519"));
  EXPECT_EQ(key_kind(ed.get()), std::nullopt);
  EXPECT_EQ(make_jwk(ed.get(), "k").error(), JwkError::kUnsupportedKty);
  PkeyPtr k1 = adopt_pkey(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "secp256k1"));
  EXPECT_EQ(key_kind(k1.get()), std::nullopt);
  EXPECT_EQ(make_jwk(k1.get(), "k").error(), JwkError::kUnsupportedCurve);
  EXPECT_EQ(make_jwk(nullptr, "k").error(), JwkError::kUnsupportedKty);
}

TEST(Jwk, AlgNamesAndKinds) {
  for (Alg alg : {Alg::kRs256, Alg::kRs384, Alg::kRs512, Alg::kPs256, Alg::kPs384, Alg::kPs512, Alg::kEs256,
                  Alg::kEs384, Alg::kEs512}) {
    EXPECT_EQ(alg_from_string(to_string(alg)), alg);
  }
  EXPECT_EQ(alg_from_string("rs256"), std::nullopt);  // case-sensitive
  EXPECT_EQ(alg_from_string("HS256"), std::nullopt);
  EXPECT_EQ(alg_from_string("none"), std::nullopt);
  EXPECT_EQ(required_key_kind(Alg::kPs512), (KeyKind{KeyType::kRsa, Curve::kNone}));
  EXPECT_EQ(required_key_kind(Alg::kEs512), (KeyKind{KeyType::kEc, Curve::kP521}));
}

// A JWK object with one member replaced (or removed, when `value` is null).
json::object with(json::object jwk, std::string_view name, const json::value* value) {
  if (value == nullptr) {
    jwk.erase(name);
  } else {
    jwk[name] = *value;
  }
  return jwk;
}

struct BadKey {
  const char* name;
  json::object jwk;
  JwkError expected;
};

TEST(Jwk, RefusesBadKeys) {
  const json::object rsa = public_json(rsa_2048().get(), "r");
  const json::object ec = public_json(ec_key("P-256").get(), "e");
  const std::string n = unb64(rsa.at("n"));
  const std::string x = unb64(ec.at("x"));
  const std::string y = unb64(ec.at("y"));
  std::string y_off_curve = y;
  y_off_curve.back() = static_cast<char>(y_off_curve.back() ^ 1);
  std::string n_even = n;
  n_even.back() = static_cast<char>(n_even.back() & ~1);
  PkeyPtr small = adopt_pkey(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", std::size_t{1024}));
  const json::object small_rsa = [&] {
    // make_jwk refuses it, so the JWK is written by hand from the key's numbers.
    BIGNUM* bn = nullptr;
    EVP_PKEY_get_bn_param(small.get(), OSSL_PKEY_PARAM_RSA_N, &bn);
    std::string bytes(BN_num_bytes(bn), '\0');
    BN_bn2bin(bn, reinterpret_cast<unsigned char*>(bytes.data()));
    BN_free(bn);
    return json::object{{"kty", "RSA"}, {"n", b64(bytes)}, {"e", "AQAB"}};
  }();
  json::value number = 7;
  json::value list = json::array{"AQAB"};

  std::vector<BadKey> cases = {
      {"n missing", with(rsa, "n", nullptr), JwkError::kMalformedMember},
      {"n a number", with(rsa, "n", &number), JwkError::kMalformedMember},
      {"n padded", [&] { auto j = rsa; j["n"] = std::string(j["n"].as_string()) + "="; return j; }(),
       JwkError::kMalformedMember},
      {"n standard base64", [&] {
         auto j = rsa;
         std::string text(j["n"].as_string());
         for (char& c : text) c = c == '-' ? '+' : c == '_' ? '/' : c;
         text[0] = '+';  // certainly one character outside the URL alphabet
         j["n"] = text;
         return j;
       }(),
       JwkError::kMalformedMember},
      {"n empty", [&] { auto j = rsa; j["n"] = ""; return j; }(), JwkError::kMalformedMember},
      {"n even", [&] { auto j = rsa; j["n"] = b64(n_even); return j; }(), JwkError::kBadRsaNumbers},
      {"e missing", with(rsa, "e", nullptr), JwkError::kMalformedMember},
      {"e an array", with(rsa, "e", &list), JwkError::kMalformedMember},
      {"e = 1", [&] { auto j = rsa; j["e"] = b64("\x01"); return j; }(), JwkError::kBadRsaNumbers},
      {"e = 2", [&] { auto j = rsa; j["e"] = b64("\x02"); return j; }(), JwkError::kBadRsaNumbers},
      {"e = 0", [&] { auto j = rsa; j["e"] = b64(std::string(1, '\0')); return j; }(), JwkError::kBadRsaNumbers},
      {"e of 9 bytes", [&] { auto j = rsa; j["e"] = b64("\x01\x00\x00\x00\x00\x00\x00\x00\x01"); return j; }(),
       JwkError::kBadRsaNumbers},
      {"modulus 1024 bits", small_rsa, JwkError::kRsaModulusTooSmall},
      {"modulus 2047 bits", [&] {
         auto j = rsa;
         std::string m = n;
         m[0] = static_cast<char>((static_cast<unsigned char>(m[0]) & 0x7f) | 0x40);  // top bit cleared
         j["n"] = b64(m);
         return j;
       }(),
       JwkError::kRsaModulusTooSmall},
      {"modulus 8200 bits", [&] { auto j = rsa; j["n"] = b64(std::string(1025, '\x01') + "\x01"); return j; }(),
       JwkError::kRsaModulusTooLarge},
      {"kty missing", with(rsa, "kty", nullptr), JwkError::kMalformedMember},
      {"kty oct", object(R"({"kty":"oct","k":"c2VjcmV0"})"), JwkError::kUnsupportedKty},
      {"kty OKP", object(R"({"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"})"),
       JwkError::kUnsupportedKty},
      {"kty lower case", [&] { auto j = rsa; j["kty"] = "rsa"; return j; }(), JwkError::kUnsupportedKty},
      {"use enc", [&] { auto j = rsa; j["use"] = "enc"; return j; }(), JwkError::kNotForSignatures},
      {"use not a string", with(rsa, "use", &number), JwkError::kMalformedMember},
      {"key_ops encrypt", [&] { auto j = rsa; j["key_ops"] = json::array{"encrypt"}; return j; }(),
       JwkError::kNotForSignatures},
      {"key_ops a string", [&] { auto j = rsa; j["key_ops"] = "verify"; return j; }(), JwkError::kMalformedMember},
      {"private d", [&] { auto j = rsa; j["d"] = "AQAB"; return j; }(), JwkError::kPrivateMaterial},
      {"private d on EC", [&] { auto j = ec; j["d"] = "AQAB"; return j; }(), JwkError::kPrivateMaterial},
      {"kid a number", with(rsa, "kid", &number), JwkError::kMalformedMember},
      {"x5c a string", [&] { auto j = rsa; j["x5c"] = "MIIB"; return j; }(), JwkError::kMalformedMember},
      {"x5c of numbers", [&] { auto j = rsa; j["x5c"] = json::array{1}; return j; }(), JwkError::kMalformedMember},
      {"alg HS256", [&] { auto j = rsa; j["alg"] = "HS256"; return j; }(), JwkError::kUnsupportedAlg},
      {"alg RSA-OAEP", [&] { auto j = rsa; j["alg"] = "RSA-OAEP"; return j; }(), JwkError::kUnsupportedAlg},
      {"alg ES256 on RSA", [&] { auto j = rsa; j["alg"] = "ES256"; return j; }(), JwkError::kAlgKeyMismatch},
      {"alg RS256 on EC", [&] { auto j = ec; j["alg"] = "RS256"; return j; }(), JwkError::kAlgKeyMismatch},
      {"alg ES384 on P-256", [&] { auto j = ec; j["alg"] = "ES384"; return j; }(), JwkError::kAlgKeyMismatch},
      {"crv missing", with(ec, "crv", nullptr), JwkError::kMalformedMember},
      {"crv P-192", [&] { auto j = ec; j["crv"] = "P-192"; return j; }(), JwkError::kUnsupportedCurve},
      {"crv secp256k1", [&] { auto j = ec; j["crv"] = "secp256k1"; return j; }(), JwkError::kUnsupportedCurve},
      {"crv P-384 with P-256 coordinates", [&] { auto j = ec; j["crv"] = "P-384"; return j; }(),
       JwkError::kBadCoordinateLength},
      {"x missing", with(ec, "x", nullptr), JwkError::kMalformedMember},
      {"y not base64url", [&] { auto j = ec; j["y"] = "not base64!"; return j; }(), JwkError::kMalformedMember},
      {"x one byte short", [&] { auto j = ec; j["x"] = b64(x.substr(1)); return j; }(), JwkError::kBadCoordinateLength},
      {"x zero-padded", [&] { auto j = ec; j["x"] = b64(std::string(1, '\0') + x); return j; }(),
       JwkError::kBadCoordinateLength},
      {"y one byte long", [&] { auto j = ec; j["y"] = b64(y + "A"); return j; }(), JwkError::kBadCoordinateLength},
      {"point off the curve", [&] { auto j = ec; j["y"] = b64(y_off_curve); return j; }(), JwkError::kPointNotOnCurve},
      {"x = y = 0", [&] { auto j = ec; j["x"] = j["y"] = b64(std::string(32, '\0')); return j; }(),
       JwkError::kPointNotOnCurve},
      {"x = p (past the field)", [&] {
         auto j = ec;
         // The P-256 field prime: never a coordinate.
         j["x"] = "_____wAAAAEAAAAAAAAAAAAAAAD_______________8";
         return j;
       }(),
       JwkError::kPointNotOnCurve},
  };
  for (const auto& c : cases) {
    auto jwk = parse_jwk(c.jwk);
    ASSERT_FALSE(jwk) << c.name;
    EXPECT_EQ(jwk.error(), c.expected) << c.name << ": got " << to_string(jwk.error());
  }
}

TEST(Jwk, KeepsX5tAndX5cAndAcceptsSigningUse) {
  json::object jwk = public_json(rsa_2048().get(), "r");
  jwk["x5t"] = "thumb";
  jwk["x5c"] = json::array{"MIIBcert", "MIIBca"};
  jwk["key_ops"] = json::array{"verify"};
  jwk["unknown_member"] = json::object{{"nested", true}};
  auto parsed = parse_jwk(jwk);
  ASSERT_TRUE(parsed) << to_string(parsed.error());
  EXPECT_EQ(parsed->x5t, "thumb");
  ASSERT_EQ(parsed->x5c.size(), 2u);
  EXPECT_EQ(parsed->x5c[1], "MIIBca");
  EXPECT_EQ(to_json(*parsed)->at("x5c").as_array().size(), 2u);
}

TEST(Jwk, ToleratesALeadingZeroOctetInN) {
  json::object jwk = public_json(rsa_2048().get(), "r");
  jwk["n"] = b64(std::string(1, '\0') + unb64(jwk["n"]));
  auto parsed = parse_jwk(jwk);
  ASSERT_TRUE(parsed) << to_string(parsed.error());
  EXPECT_EQ(EVP_PKEY_eq(parsed->key.get(), rsa_2048().get()), 1);
}

TEST(Jwks, ParsesAnEntraShapedDocumentAndSkipsWhatItCannotUse) {
  json::object rsa = public_json(rsa_2048().get(), "nOo3ZDrODXEK1jKWhXslHR_KXEg");
  rsa.erase("use");  // Entra's keys carry "use":"sig"; others omit it
  rsa["x5t"] = "nOo3ZDrODXEK1jKWhXslHR_KXEg";
  rsa["x5c"] = json::array{"MIIC/TCCAeWgAwIBAgIIUd7j/OIahkYwDQYJKoZIhvcNAQELBQAw"};
  rsa["issuer"] = "https://login.microsoftonline.com/{tenantid}/v2.0";
  json::object enc = public_json(rsa_2048().get(), "enc-key");
  enc["use"] = "enc";
  json::object ec = public_json(ec_key("P-384").get(), "ec-key");
  ec["alg"] = "ES384";
  json::array keys{rsa, enc, json::object{{"kty", "OKP"}, {"kid", "ed"}}, 42, ec,
                   public_json(ec_key("P-256").get(), "ec-key")};
  const std::string document = json::serialize(json::object{{"keys", keys}});

  auto set = parse_jwks(document);
  ASSERT_TRUE(set);
  ASSERT_EQ(set->size(), 2u);
  EXPECT_EQ(set->keys()[0].kid, "nOo3ZDrODXEK1jKWhXslHR_KXEg");
  EXPECT_EQ(set->keys()[0].x5t, "nOo3ZDrODXEK1jKWhXslHR_KXEg");
  EXPECT_EQ(set->keys()[0].x5c.size(), 1u);
  EXPECT_EQ(set->keys()[1].alg, Alg::kEs384);

  ASSERT_EQ(set->skipped().size(), 4u);
  EXPECT_EQ(set->skipped()[0].index, 1u);
  EXPECT_EQ(set->skipped()[0].kid, "enc-key");
  EXPECT_EQ(set->skipped()[0].reason, JwkError::kNotForSignatures);
  EXPECT_EQ(set->skipped()[1].reason, JwkError::kUnsupportedKty);
  EXPECT_EQ(set->skipped()[2].reason, JwkError::kNotObject);
  EXPECT_EQ(set->skipped()[2].kid, std::nullopt);
  // A repeated kid: the first key is kept, the later one skipped.
  EXPECT_EQ(set->skipped()[3].index, 5u);
  EXPECT_EQ(set->skipped()[3].reason, JwkError::kDuplicateKid);
  EXPECT_EQ(set->find("ec-key")->kind.curve, Curve::kP384);
}

TEST(Jwks, RefusesDocumentsThatAreNotKeySets) {
  struct Case {
    const char* name;
    std::string document;
    JwksError expected;
  };
  const std::string one_key = json::serialize(public_json(rsa_2048().get(), "k"));
  std::string many = R"({"keys":[)";
  for (std::size_t i = 0; i <= kMaxJwksKeys; ++i) many += (i ? ",{}" : "{}");
  many += "]}";
  std::string deep = R"({"keys":[)" + std::string(kMaxJwksDepth, '[') + std::string(kMaxJwksDepth, ']') + "]}";
  const std::vector<Case> cases = {
      {"empty", "", JwksError::kNotJson},
      {"html", "<html>502 Bad Gateway</html>", JwksError::kNotJson},
      {"truncated", R"({"keys":[)" + one_key, JwksError::kNotJson},
      {"too deep", deep, JwksError::kNotJson},
      {"array", "[" + one_key + "]", JwksError::kNotObject},
      {"string", R"("keys")", JwksError::kNotObject},
      {"no keys", R"({"kids":[]})", JwksError::kNoKeysArray},
      {"keys an object", R"({"keys":)" + one_key + "}", JwksError::kNoKeysArray},
      {"keys null", R"({"keys":null})", JwksError::kNoKeysArray},
      {"too many keys", many, JwksError::kTooManyKeys},
      {"too large", std::string(kMaxJwksSize + 1, ' '), JwksError::kTooLarge},
  };
  for (const auto& c : cases) {
    auto set = parse_jwks(c.document);
    ASSERT_FALSE(set) << c.name;
    EXPECT_EQ(set.error(), c.expected) << c.name << ": got " << to_string(set.error());
  }
  // An empty key list is a set, with no keys: the caller decides whether to keep its previous one.
  auto empty = parse_jwks(R"({"keys":[]})");
  ASSERT_TRUE(empty);
  EXPECT_TRUE(empty->empty());
}

TEST(KeySet, SelectsByExactKidOrTheOnlyKey) {
  KeySet set;
  EXPECT_EQ(set.select(std::nullopt).error(), KeySelectError::kKidUnknown);
  ASSERT_TRUE(set.add(*make_jwk(rsa_2048().get(), "Kid-1")));
  EXPECT_EQ(*set.select(std::nullopt), &set.keys()[0]);  // one key: no kid needed
  EXPECT_EQ(*set.select("Kid-1"), &set.keys()[0]);
  EXPECT_EQ(set.select("kid-1").error(), KeySelectError::kKidUnknown);  // exact, case-sensitive
  EXPECT_EQ(set.select("Kid-1 ").error(), KeySelectError::kKidUnknown);
  EXPECT_EQ(set.select("").error(), KeySelectError::kKidUnknown);
  EXPECT_EQ(set.find("Kid"), nullptr);

  EXPECT_EQ(set.add(*make_jwk(ec_key("P-256").get(), "Kid-1")).error(), JwkError::kDuplicateKid);
  ASSERT_TRUE(set.add(*make_jwk(ec_key("P-256").get(), "Kid-2")));
  EXPECT_EQ(set.size(), 2u);
  EXPECT_EQ(set.select(std::nullopt).error(), KeySelectError::kKidRequired);
  EXPECT_EQ((*set.select("Kid-2"))->kind.type, KeyType::kEc);
}

TEST(KeySet, AKidLessKeyIsNotChosenForATokenWithAKid) {
  KeySet set;
  ASSERT_TRUE(set.add(*make_jwk(rsa_2048().get(), std::nullopt)));
  EXPECT_TRUE(set.select(std::nullopt));
  EXPECT_EQ(set.select("anything").error(), KeySelectError::kKidUnknown);
}

TEST(Jwk, ReasonStringsAreDistinct) {
  std::set<std::string_view> seen;
  for (int i = 0; i <= static_cast<int>(JwkError::kKeyBuildFailed); ++i) {
    EXPECT_TRUE(seen.insert(to_string(static_cast<JwkError>(i))).second) << i;
  }
  for (int i = 0; i <= static_cast<int>(JwksError::kTooManyKeys); ++i) {
    EXPECT_TRUE(seen.insert(to_string(static_cast<JwksError>(i))).second) << i;
  }
  EXPECT_FALSE(seen.contains("unknown"));
}

}  // namespace
}  // namespace deputy::auth
