// The state directory: made once, reused after, private, and a TLS setup that verifies.
#include "deputy/devidp/directory_yaml.hpp"
#include "deputy/devidp/pki.hpp"
#include "deputy/devidp/state_dir.hpp"

#include <gtest/gtest.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace deputy::devidp {
namespace {

namespace fs = std::filesystem;

class StateDir : public ::testing::Test {
 protected:
  StateDir() : dir_(fs::temp_directory_path() / ("deputy-state-" + std::to_string(::getpid()) + "-" +
                                                 ::testing::UnitTest::GetInstance()->current_test_info()->name())) {
    fs::remove_all(dir_);
  }
  ~StateDir() override { fs::remove_all(dir_); }
  static unsigned mode(const fs::path& path) {
    struct stat info {};
    ::stat(path.c_str(), &info);
    return info.st_mode & 0777;
  }
  fs::path dir_;
};

TEST_F(StateDir, FirstStartMakesEverythingWithPrivateKeys) {
  auto directory = default_directory();
  const auto state = open_state(dir_, directory);
  EXPECT_EQ(mode(dir_), 0700U);
  for (const char* key : {"ca-key.pem", "server-key.pem", "signing-1-key.pem", "signing-2-key.pem"}) {
    EXPECT_EQ(mode(dir_ / key), 0600U) << key;
  }
  EXPECT_EQ(state.ca_certificate, dir_ / "ca.pem");
  ASSERT_TRUE(state.signing_keys);
  EXPECT_EQ(state.signing_keys->all().size(), 2U);
  EXPECT_NE(state.signing_keys->all()[0].kid, state.signing_keys->all()[1].kid);
  const auto& credential = directory.find_app("server")->certificates.front();
  EXPECT_TRUE(fs::exists(credential.certificate_path));
  EXPECT_EQ(mode(credential.private_key_path), 0600U);
  EXPECT_EQ(credential.sha1_hex.size(), 40U);
  EXPECT_TRUE(credential.public_key);
}

TEST_F(StateDir, TheCaIsACaAndTheServerCertificateVerifiesForLoopbackNames) {
  auto directory = default_directory();
  const auto state = open_state(dir_, directory);
  auto ca = pki::read_certificate(state.ca_certificate);
  auto server = pki::read_certificate(state.tls.certificate_chain);  // the leaf comes first
  EXPECT_EQ(X509_check_ca(ca.get()), 1);
  EXPECT_TRUE(pki::issued_by(server.get(), ca.get()));
  EXPECT_EQ(X509_check_host(server.get(), "localhost", 0, 0, nullptr), 1);
  EXPECT_EQ(X509_check_ip_asc(server.get(), "127.0.0.1", 0), 1);
  EXPECT_EQ(X509_check_ip_asc(server.get(), "::1", 0), 1);
  EXPECT_NE(X509_check_host(server.get(), "example.com", 0, 0, nullptr), 1);
  // A chain check as a TLS client makes it, with only our CA trusted.
  X509_STORE* store = X509_STORE_new();
  X509_STORE_add_cert(store, ca.get());
  X509_STORE_CTX* context = X509_STORE_CTX_new();
  X509_STORE_CTX_init(context, store, server.get(), nullptr);
  X509_STORE_CTX_set_purpose(context, X509_PURPOSE_SSL_SERVER);
  EXPECT_EQ(X509_verify_cert(context), 1) << X509_verify_cert_error_string(X509_STORE_CTX_get_error(context));
  X509_STORE_CTX_free(context);
  X509_STORE_free(store);
  auto key = pki::read_private_key(state.tls.private_key);
  EXPECT_TRUE(pki::matches(server.get(), key.get()));
}

TEST_F(StateDir, ALaterStartReusesWhatIsThere) {
  auto first_directory = default_directory();
  const auto first = open_state(dir_, first_directory);
  const auto ca_before = pki::der(pki::read_certificate(dir_ / "ca.pem").get());
  const auto server_before = pki::der(pki::read_certificate(dir_ / "server.pem").get());
  auto second_directory = default_directory();
  const auto second = open_state(dir_, second_directory);
  EXPECT_EQ(first.signing_keys->all()[0].kid, second.signing_keys->all()[0].kid);
  EXPECT_EQ(first.signing_keys->all()[1].kid, second.signing_keys->all()[1].kid);
  EXPECT_EQ(first_directory.find_app("server")->certificates.front().sha1_hex,
            second_directory.find_app("server")->certificates.front().sha1_hex);
  EXPECT_EQ(pki::der(pki::read_certificate(dir_ / "ca.pem").get()), ca_before);
  EXPECT_EQ(pki::der(pki::read_certificate(dir_ / "server.pem").get()), server_before);
}

TEST_F(StateDir, ADamagedFileIsRemade) {
  auto directory = default_directory();
  const auto first = open_state(dir_, directory);
  const auto ca_before = pki::der(pki::read_certificate(dir_ / "ca.pem").get());
  std::ofstream(dir_ / "signing-2.pem") << "not a certificate";
  std::ofstream(dir_ / "server-key.pem") << "not a key";
  auto again = default_directory();
  const auto second = open_state(dir_, again);
  EXPECT_EQ(first.signing_keys->all()[0].kid, second.signing_keys->all()[0].kid);
  EXPECT_NE(first.signing_keys->all()[1].kid, second.signing_keys->all()[1].kid);
  EXPECT_EQ(pki::der(pki::read_certificate(dir_ / "ca.pem").get()), ca_before);  // the CA stays trusted
  auto server = pki::read_certificate(second.tls.certificate_chain);
  EXPECT_TRUE(pki::matches(server.get(), pki::read_private_key(second.tls.private_key).get()));
}

TEST_F(StateDir, AMissingCertificateFileIsADirectoryError) {
  auto directory = parse_directory(R"(
tenant: {id: 11111111-2222-4333-8444-555555555555, domain: t.test}
applications:
  api: {client_id: 21111111-2222-4333-8444-555555555555, certificates: [/nonexistent/cert.pem]}
)",
                                   "test.yaml");
  EXPECT_THROW((void)open_state(dir_, directory), DirectoryError);
}

}  // namespace
}  // namespace deputy::devidp
