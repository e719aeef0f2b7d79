#pragma once
// Keys and X.509 certificates for the development identity provider, on OpenSSL 3's EVP and X509 APIs: a
// local CA, the server certificate it signs for localhost, the certificates behind the token-signing keys,
// and self-signed client certificates. PEM files are written atomically; private keys with mode 0600.

#include "deputy/auth/jwk.hpp"

#include <openssl/types.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace deputy::devidp::pki {

/// A key or certificate file that cannot be made, read or written; what() names the file.
class PkiError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct X509Deleter {
  void operator()(X509* certificate) const noexcept;
};
using X509Ptr = std::unique_ptr<X509, X509Deleter>;

/// RSA keys for token signing and client certificates: RFC 7518 wants 2048 bits or more for RS256.
inline constexpr unsigned kRsaBits = 2048;

[[nodiscard]] auth::PkeyPtr generate_rsa_key(unsigned bits = kRsaBits);
[[nodiscard]] auth::PkeyPtr generate_p256_key();

struct CertificateSpec {
  std::string common_name;
  std::chrono::days validity{365};
  bool certificate_authority = false;     // CA:TRUE, keyCertSign and cRLSign
  bool server = false;                    // digitalSignature, keyEncipherment, extendedKeyUsage serverAuth
  std::vector<std::string> dns_names;     // subjectAltName DNS entries
  std::vector<std::string> ip_addresses;  // subjectAltName IP entries
};

/// A certificate for `subject_key`, signed by `issuer_key` under `issuer` (null: self-signed), SHA-256, with
/// a random serial, subject and authority key identifiers, and the extensions `spec` asks for.
[[nodiscard]] X509Ptr issue_certificate(const CertificateSpec& spec, EVP_PKEY* subject_key, X509* issuer,
                                        EVP_PKEY* issuer_key);

/// Writes atomically (a temporary file renamed into place); private keys are created with mode 0600.
void write_private_key(const std::filesystem::path& path, EVP_PKEY* key);
void write_certificates(const std::filesystem::path& path, const std::vector<X509*>& certificates);

[[nodiscard]] auth::PkeyPtr read_private_key(const std::filesystem::path& path);
[[nodiscard]] X509Ptr read_certificate(const std::filesystem::path& path);

/// The DER encoding of `certificate`.
[[nodiscard]] std::string der(X509* certificate);
/// Standard (not URL-safe) base64 of `bytes`, as x5c wants it.
[[nodiscard]] std::string base64(std::string_view bytes);
/// Uppercase hex SHA-1 of `bytes`: the certificate thumbprint as Entra's portal shows it.
[[nodiscard]] std::string sha1_hex(std::string_view bytes);

/// Whether `certificate` is signed by `issuer`'s key and still valid `margin` from now.
[[nodiscard]] bool issued_by(X509* certificate, X509* issuer);
[[nodiscard]] bool valid_for(X509* certificate, std::chrono::seconds margin);
/// Whether `certificate` certifies `key` (the private key matches the certificate's public key).
[[nodiscard]] bool matches(X509* certificate, EVP_PKEY* key);
/// The public key of `certificate`.
[[nodiscard]] auth::PkeyPtr public_key(X509* certificate);

}  // namespace deputy::devidp::pki
