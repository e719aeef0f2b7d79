#include "deputy/devidp/pki.hpp"

#include "deputy/auth/base64url.hpp"

#include <fmt/format.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>

namespace deputy::devidp::pki {

namespace {

struct BioDeleter {
  void operator()(BIO* bio) const noexcept { BIO_free(bio); }
};
using BioPtr = std::unique_ptr<BIO, BioDeleter>;

[[noreturn]] void fail(std::string_view what) { throw PkiError(std::string(what)); }

/// The bytes a memory BIO holds.
std::string drain(BIO* bio) {
  char* data = nullptr;
  const long size = BIO_get_mem_data(bio, &data);
  return size > 0 ? std::string(data, static_cast<std::size_t>(size)) : std::string();
}

/// Writes `text` to `path` through a temporary file in the same directory and a rename, so a reader never
/// sees half a key and a crash never leaves one. `mode` applies from creation (0600 keys are never readable
/// by others, not even for a moment).
void write_atomically(const std::filesystem::path& path, std::string_view text, mode_t mode) {
  const auto temporary = path.string() + ".tmp";
  const int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) fail(fmt::format("{}: cannot be written: {}", temporary, std::strerror(errno)));
  bool ok = ::fchmod(fd, mode) == 0;  // O_CREAT's mode is filtered by the umask; fchmod is not
  for (std::size_t written = 0; ok && written < text.size();) {
    const auto n = ::write(fd, text.data() + written, text.size() - written);
    if (n < 0 && errno == EINTR) continue;
    ok = n > 0;
    if (ok) written += static_cast<std::size_t>(n);
  }
  ok = ok && ::fsync(fd) == 0;
  ::close(fd);
  if (!ok || std::rename(temporary.c_str(), path.c_str()) != 0) {
    ::unlink(temporary.c_str());
    fail(fmt::format("{}: cannot be written: {}", path.string(), std::strerror(errno)));
  }
}

std::string read_text(const std::filesystem::path& path) {
  BioPtr bio(BIO_new_file(path.c_str(), "r"));
  if (!bio) fail(fmt::format("{}: cannot be read", path.string()));
  BioPtr memory(BIO_new(BIO_s_mem()));
  std::array<char, 4096> buffer{};
  int n = 0;
  while ((n = BIO_read(bio.get(), buffer.data(), buffer.size())) > 0) BIO_write(memory.get(), buffer.data(), n);
  return drain(memory.get());
}

/// Adds one X509v3 extension written in OpenSSL's configuration syntax.
void add_extension(X509* certificate, X509* issuer, int nid, const std::string& value) {
  X509V3_CTX context;
  X509V3_set_ctx_nodb(&context);
  X509V3_set_ctx(&context, issuer, certificate, nullptr, nullptr, 0);
  X509_EXTENSION* extension = X509V3_EXT_conf_nid(nullptr, &context, nid, value.c_str());
  if (extension == nullptr) fail(fmt::format("certificate extension {} = {} refused", OBJ_nid2sn(nid), value));
  const int added = X509_add_ext(certificate, extension, -1);
  X509_EXTENSION_free(extension);
  if (added != 1) fail("a certificate extension could not be added");
}

std::string digest_hex(const EVP_MD* md, std::string_view bytes) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int length = 0;
  if (EVP_Digest(bytes.data(), bytes.size(), digest.data(), &length, md, nullptr) != 1) fail("digest failed");
  std::string out;
  for (unsigned i = 0; i < length; ++i) out += fmt::format("{:02X}", digest[i]);
  return out;
}

}  // namespace

void X509Deleter::operator()(X509* certificate) const noexcept { X509_free(certificate); }

auth::PkeyPtr generate_rsa_key(unsigned bits) {
  auto key = auth::adopt_pkey(EVP_RSA_gen(bits));
  if (!key) fail("RSA key generation failed");
  return key;
}

auth::PkeyPtr generate_p256_key() {
  auto key = auth::adopt_pkey(EVP_EC_gen("P-256"));
  if (!key) fail("P-256 key generation failed");
  return key;
}

X509Ptr issue_certificate(const CertificateSpec& spec, EVP_PKEY* subject_key, X509* issuer, EVP_PKEY* issuer_key) {
  X509Ptr certificate(X509_new());
  if (!certificate) fail("X509_new failed");
  X509* cert = certificate.get();
  X509_set_version(cert, X509_VERSION_3);
  // A random 127-bit positive serial (RFC 5280 allows up to 20 octets): two certificates from one CA never
  // share one, even across state directories.
  std::array<unsigned char, 16> serial_bytes{};
  if (RAND_bytes(serial_bytes.data(), serial_bytes.size()) != 1) fail("RAND_bytes failed");
  serial_bytes[0] &= 0x7F;
  BIGNUM* serial = BN_bin2bn(serial_bytes.data(), serial_bytes.size(), nullptr);
  BN_to_ASN1_INTEGER(serial, X509_get_serialNumber(cert));
  BN_free(serial);
  // Valid from an hour ago: clocks of the machines that check it may be a little behind.
  X509_gmtime_adj(X509_getm_notBefore(cert), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert), std::chrono::duration_cast<std::chrono::seconds>(spec.validity).count());
  X509_NAME* name = X509_get_subject_name(cert);
  X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8, reinterpret_cast<const unsigned char*>("deputy development"),
                             -1, -1, 0);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                             reinterpret_cast<const unsigned char*>(spec.common_name.c_str()), -1, -1, 0);
  X509_set_issuer_name(cert, issuer != nullptr ? X509_get_subject_name(issuer) : name);
  if (X509_set_pubkey(cert, subject_key) != 1) fail("the certificate's public key could not be set");

  X509* signer = issuer != nullptr ? issuer : cert;
  add_extension(cert, signer, NID_subject_key_identifier, "hash");
  add_extension(cert, signer, NID_authority_key_identifier, "keyid:always");
  if (spec.certificate_authority) {
    // Critical basicConstraints and keyUsage: strict verifiers (Python 3.13's VERIFY_X509_STRICT) demand them.
    add_extension(cert, signer, NID_basic_constraints, "critical,CA:TRUE,pathlen:0");
    add_extension(cert, signer, NID_key_usage, "critical,keyCertSign,cRLSign");
  } else {
    add_extension(cert, signer, NID_basic_constraints, "critical,CA:FALSE");
    add_extension(cert, signer, NID_key_usage,
                  spec.server ? "critical,digitalSignature,keyEncipherment" : "critical,digitalSignature");
    if (spec.server) add_extension(cert, signer, NID_ext_key_usage, "serverAuth");
  }
  std::string alt_names;
  for (const auto& dns : spec.dns_names) alt_names += (alt_names.empty() ? "DNS:" : ",DNS:") + dns;
  for (const auto& ip : spec.ip_addresses) alt_names += (alt_names.empty() ? "IP:" : ",IP:") + ip;
  if (!alt_names.empty()) add_extension(cert, signer, NID_subject_alt_name, alt_names);

  if (X509_sign(cert, issuer_key, EVP_sha256()) <= 0) fail("the certificate could not be signed");
  return certificate;
}

void write_private_key(const std::filesystem::path& path, EVP_PKEY* key) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr) != 1) {
    fail(fmt::format("{}: the key could not be encoded", path.string()));
  }
  write_atomically(path, drain(bio.get()), 0600);
}

void write_certificates(const std::filesystem::path& path, const std::vector<X509*>& certificates) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  for (X509* certificate : certificates) {
    if (PEM_write_bio_X509(bio.get(), certificate) != 1) fail(fmt::format("{}: a certificate could not be encoded", path.string()));
  }
  write_atomically(path, drain(bio.get()), 0644);
}

auth::PkeyPtr read_private_key(const std::filesystem::path& path) {
  const auto text = read_text(path);
  BioPtr bio(BIO_new_mem_buf(text.data(), static_cast<int>(text.size())));
  auto key = auth::adopt_pkey(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
  if (!key) fail(fmt::format("{}: not a PEM private key", path.string()));
  return key;
}

X509Ptr read_certificate(const std::filesystem::path& path) {
  const auto text = read_text(path);
  BioPtr bio(BIO_new_mem_buf(text.data(), static_cast<int>(text.size())));
  X509Ptr certificate(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
  if (!certificate) fail(fmt::format("{}: not a PEM certificate", path.string()));
  return certificate;
}

std::string der(X509* certificate) {
  unsigned char* buffer = nullptr;
  const int length = i2d_X509(certificate, &buffer);
  if (length <= 0) fail("the certificate could not be DER-encoded");
  std::string out(reinterpret_cast<char*>(buffer), static_cast<std::size_t>(length));
  OPENSSL_free(buffer);
  return out;
}

std::string base64(std::string_view bytes) { return auth::base64_encode(bytes); }

std::string sha1_hex(std::string_view bytes) { return digest_hex(EVP_sha1(), bytes); }

bool issued_by(X509* certificate, X509* issuer) {
  EVP_PKEY* issuer_key = X509_get0_pubkey(issuer);
  return issuer_key != nullptr && X509_verify(certificate, issuer_key) == 1 &&
         X509_check_issued(issuer, certificate) == X509_V_OK;
}

bool valid_for(X509* certificate, std::chrono::seconds margin) {
  std::time_t then = std::time(nullptr) + margin.count();
  return X509_cmp_time(X509_get0_notAfter(certificate), &then) > 0 &&
         X509_cmp_current_time(X509_get0_notBefore(certificate)) < 0;
}

bool matches(X509* certificate, EVP_PKEY* key) { return X509_check_private_key(certificate, key) == 1; }

auth::PkeyPtr public_key(X509* certificate) { return auth::adopt_pkey(X509_get_pubkey(certificate)); }

}  // namespace deputy::devidp::pki
