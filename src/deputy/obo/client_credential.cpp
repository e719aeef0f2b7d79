#include "deputy/obo/client_credential.hpp"

#include "deputy/auth/base64url.hpp"
#include "deputy/auth/jws.hpp"

#include <fmt/format.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <boost/json.hpp>

#include <array>
#include <cstdlib>
#include <fstream>
#include <system_error>

namespace deputy::obo {

namespace json = boost::json;

struct ClientCredential::Impl {
  enum class Source { value, environment, file };
  Kind kind = Kind::secret;
  Source source = Source::value;
  std::string value;           // a secret given as is
  std::string variable;        // Source::environment
  std::filesystem::path path;  // Source::file, the federated token file, or the certificate's file
  // Certificates:
  auth::PkeyPtr key;
  auth::Alg alg = auth::Alg::kRs256;
  std::string x5t;
  std::string x5t_s256;
  std::string sha1_hex;
  Random random;
};

namespace {

using Impl = ClientCredential::Impl;

Failure unavailable(std::string description) {
  return Failure{.error = Error::credential_unavailable, .description = std::move(description)};
}

/// The file's bytes, refusing more than kMaxCredentialFileSize. The message names the file, never its
/// content.
std::expected<std::string, Failure> read_file(const std::filesystem::path& path, std::string_view what) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    return std::unexpected(unavailable(fmt::format("the {} file {} cannot be read", what, path.string())));
  std::string content(kMaxCredentialFileSize + 1, '\0');
  in.read(content.data(), static_cast<std::streamsize>(content.size()));
  if (in.bad())
    return std::unexpected(unavailable(fmt::format("the {} file {} cannot be read", what, path.string())));
  content.resize(static_cast<std::size_t>(in.gcount()));
  if (content.size() > kMaxCredentialFileSize) {
    return std::unexpected(unavailable(
        fmt::format("the {} file {} is larger than {} bytes", what, path.string(), kMaxCredentialFileSize)));
  }
  return content;
}

std::string trimmed(std::string_view text) {
  constexpr std::string_view kSpace = " \t\r\n";
  const auto first = text.find_first_not_of(kSpace);
  if (first == std::string_view::npos) return {};
  const auto last = text.find_last_not_of(kSpace);
  return std::string(text.substr(first, last - first + 1));
}

/// A GUID (version 4) made of 16 random bytes, the form MSAL and Entra use for jti.
std::string guid(std::array<unsigned char, 16> bytes) {
  bytes[6] = static_cast<unsigned char>((bytes[6] & 0x0f) | 0x40);
  bytes[8] = static_cast<unsigned char>((bytes[8] & 0x3f) | 0x80);
  std::string hex;
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) hex.push_back('-');
    hex += fmt::format("{:02x}", bytes[i]);
  }
  return hex;
}

/// Never asks for a passphrase: OpenSSL's default callback would prompt on the terminal of a server.
int no_passphrase(char* /*buffer*/, int /*size*/, int /*rwflag*/, void* /*userdata*/) {
  return -1;
}

struct BioFree {
  void operator()(BIO* bio) const noexcept { BIO_free(bio); }
};
struct X509Free {
  void operator()(X509* certificate) const noexcept { X509_free(certificate); }
};

std::unique_ptr<BIO, BioFree> memory_bio(const std::string& bytes) {
  return std::unique_ptr<BIO, BioFree>(BIO_new_mem_buf(bytes.data(), static_cast<int>(bytes.size())));
}

std::string hex_upper(std::string_view bytes) {
  std::string out;
  for (const unsigned char c : bytes) out += fmt::format("{:02X}", c);
  return out;
}

std::expected<std::string, Failure> signed_assertion(const Impl& impl, std::string_view client_id,
                                                     std::string_view audience, Clock::time_point now) {
  json::object header;
  header["typ"] = "JWT";
  // Both thumbprints: Entra reads either, and x5t#S256 is the one that survives SHA-1's retirement.
  header["x5t"] = impl.x5t;
  header["x5t#S256"] = impl.x5t_s256;
  const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
  json::object claims;
  claims["aud"] = audience;  // the token endpoint: an assertion for one endpoint is worthless at another
  claims["iss"] = client_id;
  claims["sub"] = client_id;
  std::array<unsigned char, 16> random_bytes{};
  if (impl.random) {
    impl.random(random_bytes);
  } else if (RAND_bytes(random_bytes.data(), static_cast<int>(random_bytes.size())) != 1) {
    ERR_clear_error();
    return std::unexpected(unavailable("no random bytes for the client assertion's jti"));
  }
  claims["jti"] = guid(random_bytes);
  claims["nbf"] = seconds;
  claims["iat"] = seconds;
  claims["exp"] = seconds + kClientAssertionLifetime.count();
  auto token = auth::sign(header, claims, impl.key.get(), impl.alg);
  if (!token) {
    return std::unexpected(unavailable(
        fmt::format("the client assertion could not be signed ({})", auth::to_string(token.error()))));
  }
  return std::move(*token);
}

}  // namespace

ClientCredential ClientCredential::secret(std::string value) {
  auto impl = std::make_shared<Impl>();
  impl->value = std::move(value);
  return ClientCredential(std::move(impl));
}

ClientCredential ClientCredential::secret_from_environment(std::string name) {
  auto impl = std::make_shared<Impl>();
  impl->source = Impl::Source::environment;
  impl->variable = std::move(name);
  return ClientCredential(std::move(impl));
}

ClientCredential ClientCredential::secret_from_file(std::filesystem::path path) {
  auto impl = std::make_shared<Impl>();
  impl->source = Impl::Source::file;
  impl->path = std::move(path);
  return ClientCredential(std::move(impl));
}

ClientCredential ClientCredential::federated_token_file(std::filesystem::path path) {
  auto impl = std::make_shared<Impl>();
  impl->kind = Kind::federated_token;
  impl->source = Impl::Source::file;
  impl->path = std::move(path);
  return ClientCredential(std::move(impl));
}

std::expected<ClientCredential, Failure> ClientCredential::federated_token_from_environment() {
  const std::string variable(kFederatedTokenFileVariable);
  const char* path = std::getenv(variable.c_str());
  if (path == nullptr || *path == '\0') {
    return std::unexpected(unavailable(fmt::format("{} is not set", kFederatedTokenFileVariable)));
  }
  return federated_token_file(path);
}

std::expected<ClientCredential, Failure> ClientCredential::certificate(
    const std::filesystem::path& certificate_pem, const std::filesystem::path& private_key_pem, auth::Alg alg,
    Random random) {
  if (alg != auth::Alg::kRs256 && alg != auth::Alg::kPs256) {
    return std::unexpected(unavailable(
        fmt::format("client assertions are signed with RS256 or PS256, not {}", auth::to_string(alg))));
  }
  auto certificate_text = read_file(certificate_pem, "certificate");
  if (!certificate_text) return std::unexpected(certificate_text.error());
  auto certificate_bio = memory_bio(*certificate_text);
  std::unique_ptr<X509, X509Free> certificate(
      certificate_bio ? PEM_read_bio_X509(certificate_bio.get(), nullptr, no_passphrase, nullptr) : nullptr);
  if (!certificate) {
    ERR_clear_error();
    return std::unexpected(unavailable(
        fmt::format("the certificate file {} holds no PEM certificate", certificate_pem.string())));
  }

  const auto& key_path = private_key_pem.empty() ? certificate_pem : private_key_pem;
  auto key_text =
      private_key_pem.empty() ? std::move(certificate_text) : read_file(private_key_pem, "private key");
  if (!key_text) return std::unexpected(key_text.error());
  auto key_bio = memory_bio(*key_text);
  // PEM_read_bio_PrivateKey skips blocks of other kinds, so a combined certificate-and-key file works.
  auth::PkeyPtr key = auth::adopt_pkey(
      key_bio ? PEM_read_bio_PrivateKey(key_bio.get(), nullptr, no_passphrase, nullptr) : nullptr);
  OPENSSL_cleanse(key_text->data(), key_text->size());
  if (!key) {
    ERR_clear_error();
    return std::unexpected(unavailable(
        fmt::format("the file {} holds no unencrypted PEM private key (encrypted keys are not supported)",
                    key_path.string())));
  }
  const auto kind = auth::key_kind(key.get());
  if (!kind || *kind != auth::required_key_kind(alg)) {
    return std::unexpected(
        unavailable(fmt::format("the private key in {} is not an RSA key", key_path.string())));
  }
  if (X509_check_private_key(certificate.get(), key.get()) != 1) {
    ERR_clear_error();
    return std::unexpected(
        unavailable(fmt::format("the private key in {} does not belong to the certificate in {}",
                                key_path.string(), certificate_pem.string())));
  }

  unsigned char* der_bytes = nullptr;
  const int der_length = i2d_X509(certificate.get(), &der_bytes);
  if (der_length <= 0) {
    ERR_clear_error();
    return std::unexpected(unavailable("the certificate could not be encoded"));
  }
  const std::string der(reinterpret_cast<const char*>(der_bytes), static_cast<std::size_t>(der_length));
  OPENSSL_free(der_bytes);

  auto impl = std::make_shared<Impl>();
  impl->kind = Kind::certificate;
  impl->source = Impl::Source::file;
  impl->path = certificate_pem;
  impl->key = std::move(key);
  impl->alg = alg;
  impl->x5t = auth::x5t_sha1(der);
  impl->x5t_s256 = auth::x5t_sha256(der);
  impl->sha1_hex = hex_upper(auth::base64url_decode(impl->x5t).value_or(std::string()));
  impl->random = std::move(random);
  return ClientCredential(std::move(impl));
}

ClientCredential::Kind ClientCredential::kind() const {
  return impl_->kind;
}

std::string ClientCredential::x5t_s256() const {
  return impl_->x5t_s256;
}

std::expected<std::vector<FormField>, Failure> ClientCredential::form_fields(std::string_view client_id,
                                                                             std::string_view audience,
                                                                             Clock::time_point now) const {
  const Impl& impl = *impl_;
  switch (impl.kind) {
    case Kind::secret: {
      std::string secret;
      if (impl.source == Impl::Source::value) {
        secret = impl.value;
      } else if (impl.source == Impl::Source::environment) {
        const char* value = std::getenv(impl.variable.c_str());
        if (value == nullptr || *value == '\0') {
          return std::unexpected(
              unavailable(fmt::format("the client secret variable {} is not set", impl.variable)));
        }
        secret = value;
      } else {
        auto content = read_file(impl.path, "client secret");
        if (!content) return std::unexpected(content.error());
        secret = trimmed(*content);
        OPENSSL_cleanse(content->data(), content->size());
      }
      if (secret.empty()) return std::unexpected(unavailable("the client secret is empty"));
      return std::vector<FormField>{{"client_secret", std::move(secret)}};
    }
    case Kind::certificate: {
      auto assertion = signed_assertion(impl, client_id, audience, now);
      if (!assertion) return std::unexpected(assertion.error());
      return std::vector<FormField>{{"client_assertion_type", std::string(kClientAssertionType)},
                                    {"client_assertion", std::move(*assertion)}};
    }
    case Kind::federated_token: {
      // Re-read each time: the kubelet replaces the projected token well before it expires.
      auto content = read_file(impl.path, "federated token");
      if (!content) return std::unexpected(content.error());
      std::string token = trimmed(*content);
      if (token.empty()) {
        return std::unexpected(
            unavailable(fmt::format("the federated token file {} is empty", impl.path.string())));
      }
      return std::vector<FormField>{{"client_assertion_type", std::string(kClientAssertionType)},
                                    {"client_assertion", std::move(token)}};
    }
  }
  return std::unexpected(unavailable("unknown credential kind"));
}

std::string ClientCredential::describe() const {
  const Impl& impl = *impl_;
  switch (impl.kind) {
    case Kind::secret:
      switch (impl.source) {
        case Impl::Source::value:
          return "client secret (configured, redacted)";
        case Impl::Source::environment:
          return fmt::format("client secret from environment variable {}", impl.variable);
        case Impl::Source::file:
          return fmt::format("client secret from file {}", impl.path.string());
      }
      break;
    case Kind::certificate:
      return fmt::format("certificate {} ({}) from {}", impl.sha1_hex, auth::to_string(impl.alg),
                         impl.path.string());
    case Kind::federated_token:
      return fmt::format("federated token from file {}", impl.path.string());
  }
  return "client credential";
}

}  // namespace deputy::obo
