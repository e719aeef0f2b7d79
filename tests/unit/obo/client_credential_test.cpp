// Client credentials: secrets from each source (and never in describe()), certificate assertions decoded and
// checked claim by claim and verified with the certificate's key, federated token files re-read at each use,
// and what goes wrong with keys and files.
#include "deputy/obo/client_credential.hpp"

#include "deputy/auth/base64url.hpp"
#include "deputy/auth/jws.hpp"
#include "deputy/devidp/pki.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

namespace deputy::obo {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;
namespace pki = devidp::pki;

constexpr std::string_view kClientId = "d894da85-e1f8-4202-b8d8-bbfc24cbe604";
constexpr std::string_view kAudience = "https://login.example.test/tenant/oauth2/v2.0/token";
/// 2027-01-15T08:00:00Z.
constexpr Clock::time_point kNow{std::chrono::seconds(1'800'000'000)};

void write(const fs::path& path, std::string_view text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
}

std::string read(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

std::string_view str(const json::value& value) {
  return value.is_string() ? std::string_view(value.get_string()) : std::string_view();
}

std::string value_of(const std::vector<FormField>& fields, std::string_view name) {
  for (const auto& field : fields) {
    if (field.name == name) return field.value;
  }
  return {};
}

/// A self-signed certificate and its key on disk (made once: RSA key generation is slow), and a second key.
class Credential : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = fs::temp_directory_path() / ("deputy-obo-credential-" + std::to_string(::getpid()));
    fs::create_directories(dir_);
    key_ = pki::generate_rsa_key();
    certificate_ =
        pki::issue_certificate({.common_name = "deputy test app"}, key_.get(), nullptr, key_.get());
    pki::write_private_key(dir_ / "app.key", key_.get());
    pki::write_certificates(dir_ / "app.pem", {certificate_.get()});
    write(dir_ / "combined.pem", read(dir_ / "app.pem") + read(dir_ / "app.key"));
    auto other = pki::generate_rsa_key();
    pki::write_private_key(dir_ / "other.key", other.get());
    auto ec = pki::generate_p256_key();
    pki::write_private_key(dir_ / "ec.key", ec.get());
  }
  static void TearDownTestSuite() {
    certificate_.reset();
    key_.reset();
    fs::remove_all(dir_);
  }

  /// The assertion of `credential`, parsed (RS256 and PS256 allowed) and verified with the certificate's key.
  static auth::Jws assertion_of(const ClientCredential& credential) {
    auto fields = credential.form_fields(kClientId, kAudience, kNow);
    EXPECT_TRUE(fields);
    if (!fields) throw std::runtime_error("no fields");
    EXPECT_EQ(fields->size(), 2U);
    EXPECT_EQ(value_of(*fields, "client_assertion_type"),
              "urn:ietf:params:oauth:client-assertion-type:jwt-bearer");
    auto jws = auth::parse_jws(value_of(*fields, "client_assertion"),
                               {.algorithms = {auth::Alg::kRs256, auth::Alg::kPs256}});
    EXPECT_TRUE(jws);
    if (!jws) throw std::runtime_error("not a JWS");
    auto jwk = auth::make_jwk(pki::public_key(certificate_.get()).get(), std::nullopt);
    EXPECT_TRUE(jwk);
    EXPECT_TRUE(auth::verify(*jws, *jwk));
    return std::move(*jws);
  }

  static fs::path dir_;
  static auth::PkeyPtr key_;
  static pki::X509Ptr certificate_;
};

fs::path Credential::dir_;
auth::PkeyPtr Credential::key_;
pki::X509Ptr Credential::certificate_;

TEST_F(Credential, AnInlineSecretIsSentButNeverDescribed) {
  const auto credential = ClientCredential::secret("inline-secret-value");
  EXPECT_EQ(credential.kind(), ClientCredential::Kind::secret);
  auto fields = credential.form_fields(kClientId, kAudience, kNow);
  ASSERT_TRUE(fields);
  ASSERT_EQ(fields->size(), 1U);
  EXPECT_EQ((*fields)[0].name, "client_secret");
  EXPECT_EQ((*fields)[0].value, "inline-secret-value");
  EXPECT_EQ(credential.describe().find("inline-secret-value"), std::string::npos);
}

TEST_F(Credential, ASecretFromTheEnvironmentIsReadAtEachUse) {
  const auto credential = ClientCredential::secret_from_environment("DEPUTY_OBO_TEST_SECRET");
  ::unsetenv("DEPUTY_OBO_TEST_SECRET");
  auto missing = credential.form_fields(kClientId, kAudience, kNow);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().error, Error::credential_unavailable);
  EXPECT_NE(missing.error().description.find("DEPUTY_OBO_TEST_SECRET"), std::string::npos);
  ::setenv("DEPUTY_OBO_TEST_SECRET", "first-secret", 1);
  EXPECT_EQ(value_of(*credential.form_fields(kClientId, kAudience, kNow), "client_secret"), "first-secret");
  ::setenv("DEPUTY_OBO_TEST_SECRET", "rotated-secret", 1);
  EXPECT_EQ(value_of(*credential.form_fields(kClientId, kAudience, kNow), "client_secret"), "rotated-secret");
  EXPECT_EQ(credential.describe(), "client secret from environment variable DEPUTY_OBO_TEST_SECRET");
  EXPECT_EQ(credential.describe().find("rotated-secret"), std::string::npos);
  ::unsetenv("DEPUTY_OBO_TEST_SECRET");
}

TEST_F(Credential, ASecretFileIsTrimmedAndReReadAndNeverDescribed) {
  const auto path = dir_ / "secret.txt";
  write(path, "  file-secret\n");
  const auto credential = ClientCredential::secret_from_file(path);
  EXPECT_EQ(value_of(*credential.form_fields(kClientId, kAudience, kNow), "client_secret"), "file-secret");
  write(path, "rotated\n");
  EXPECT_EQ(value_of(*credential.form_fields(kClientId, kAudience, kNow), "client_secret"), "rotated");
  EXPECT_EQ(credential.describe().find("rotated"), std::string::npos);
  write(path, "\n");
  auto empty = credential.form_fields(kClientId, kAudience, kNow);
  ASSERT_FALSE(empty);
  EXPECT_EQ(empty.error().error, Error::credential_unavailable);
  fs::remove(path);
  auto gone = credential.form_fields(kClientId, kAudience, kNow);
  ASSERT_FALSE(gone);
  EXPECT_EQ(gone.error().error, Error::credential_unavailable);
  write(path, std::string(kMaxCredentialFileSize + 1, 'x'));
  auto huge = credential.form_fields(kClientId, kAudience, kNow);
  ASSERT_FALSE(huge);
  EXPECT_EQ(huge.error().error, Error::credential_unavailable);
  EXPECT_EQ(huge.error().description.find("xxxx"), std::string::npos);
}

TEST_F(Credential, ACertificateAssertionHasEntrasHeaderAndClaims) {
  std::uint8_t counter = 0;
  auto credential = ClientCredential::certificate(dir_ / "app.pem", dir_ / "app.key", auth::Alg::kRs256,
                                                  [&](std::span<unsigned char> out) {
                                                    for (auto& byte : out) byte = counter++;
                                                  });
  ASSERT_TRUE(credential) << credential.error().description;
  EXPECT_EQ(credential->kind(), ClientCredential::Kind::certificate);
  const auto jws = assertion_of(*credential);
  const std::string der = pki::der(certificate_.get());
  EXPECT_EQ(jws.alg(), auth::Alg::kRs256);
  EXPECT_EQ(str(jws.header().at("typ")), "JWT");
  EXPECT_EQ(str(jws.header().at("x5t")), auth::x5t_sha1(der));
  EXPECT_EQ(str(jws.header().at("x5t#S256")), auth::x5t_sha256(der));
  EXPECT_EQ(credential->x5t_s256(), auth::x5t_sha256(der));
  const auto& claims = jws.payload();
  EXPECT_EQ(str(claims.at("aud")), kAudience);
  EXPECT_EQ(str(claims.at("iss")), kClientId);
  EXPECT_EQ(str(claims.at("sub")), kClientId);
  EXPECT_EQ(str(claims.at("jti")),
            "00010203-0405-4607-8809-0a0b0c0d0e0f");  // a version 4 GUID of the random bytes
  EXPECT_EQ(claims.at("nbf"), 1'800'000'000);
  EXPECT_EQ(claims.at("iat"), 1'800'000'000);
  EXPECT_EQ(claims.at("exp"), 1'800'000'000 + kClientAssertionLifetime.count());
  // Each assertion is new: another jti.
  const auto second = assertion_of(*credential);
  EXPECT_NE(str(second.payload().at("jti")), str(claims.at("jti")));
  // describe() names the thumbprint and the file, never the key.
  EXPECT_NE(credential->describe().find(pki::sha1_hex(der)), std::string::npos);
  EXPECT_EQ(credential->describe().find("PRIVATE"), std::string::npos);
}

TEST_F(Credential, Ps256AndACombinedPemFile) {
  auto credential = ClientCredential::certificate(dir_ / "combined.pem", {}, auth::Alg::kPs256);
  ASSERT_TRUE(credential) << credential.error().description;
  const auto jws = assertion_of(*credential);
  EXPECT_EQ(jws.alg(), auth::Alg::kPs256);
  EXPECT_EQ(jws.payload().at("jti").as_string().size(), 36U);
}

TEST_F(Credential, CertificateProblemsAreCredentialUnavailable) {
  const auto refused = [](const fs::path& certificate, const fs::path& key,
                          auth::Alg alg = auth::Alg::kRs256) {
    auto credential = ClientCredential::certificate(certificate, key, alg);
    EXPECT_FALSE(credential);
    return credential ? Error::invalid_client : credential.error().error;
  };
  EXPECT_EQ(refused(dir_ / "missing.pem", dir_ / "app.key"), Error::credential_unavailable);
  EXPECT_EQ(refused(dir_ / "app.pem", dir_ / "missing.key"), Error::credential_unavailable);
  EXPECT_EQ(refused(dir_ / "app.key", dir_ / "app.key"),
            Error::credential_unavailable);                                 // no certificate there
  EXPECT_EQ(refused(dir_ / "app.pem", {}), Error::credential_unavailable);  // no key in the file
  EXPECT_EQ(refused(dir_ / "app.pem", dir_ / "other.key"), Error::credential_unavailable);  // not its key
  EXPECT_EQ(refused(dir_ / "app.pem", dir_ / "ec.key"), Error::credential_unavailable);     // not RSA
  EXPECT_EQ(refused(dir_ / "app.pem", dir_ / "app.key", auth::Alg::kEs256), Error::credential_unavailable);
}

TEST_F(Credential, AFederatedTokenFileIsReReadAtEachUse) {
  const auto path = dir_ / "federated-token";
  write(path, "eyJfederated.one.sig\n");
  const auto credential = ClientCredential::federated_token_file(path);
  EXPECT_EQ(credential.kind(), ClientCredential::Kind::federated_token);
  auto first = credential.form_fields(kClientId, kAudience, kNow);
  ASSERT_TRUE(first);
  EXPECT_EQ(value_of(*first, "client_assertion_type"),
            "urn:ietf:params:oauth:client-assertion-type:jwt-bearer");
  EXPECT_EQ(value_of(*first, "client_assertion"), "eyJfederated.one.sig");
  write(path, "eyJfederated.two.sig");
  EXPECT_EQ(value_of(*credential.form_fields(kClientId, kAudience, kNow), "client_assertion"),
            "eyJfederated.two.sig");
  EXPECT_EQ(credential.describe().find("eyJ"), std::string::npos);
  fs::remove(path);
  auto gone = credential.form_fields(kClientId, kAudience, kNow);
  ASSERT_FALSE(gone);
  EXPECT_EQ(gone.error().error, Error::credential_unavailable);
}

TEST_F(Credential, TheFederatedTokenFileComesFromAzureFederatedTokenFile) {
  ::unsetenv("AZURE_FEDERATED_TOKEN_FILE");
  auto unset = ClientCredential::federated_token_from_environment();
  ASSERT_FALSE(unset);
  EXPECT_EQ(unset.error().error, Error::credential_unavailable);
  const auto path = dir_ / "azure-token";
  write(path, "eyJazure.token.sig");
  ::setenv("AZURE_FEDERATED_TOKEN_FILE", path.c_str(), 1);
  auto credential = ClientCredential::federated_token_from_environment();
  ::unsetenv("AZURE_FEDERATED_TOKEN_FILE");
  ASSERT_TRUE(credential);
  EXPECT_EQ(value_of(*credential->form_fields(kClientId, kAudience, kNow), "client_assertion"),
            "eyJazure.token.sig");
}

}  // namespace
}  // namespace deputy::obo
