#include "deputy/devidp/state_dir.hpp"

#include "deputy/auth/jwk.hpp"
#include "deputy/devidp/directory_yaml.hpp"
#include "deputy/devidp/pki.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cstdlib>
#include <system_error>

namespace deputy::devidp {

namespace fs = std::filesystem;

namespace {

/// An exclusive lock on the state directory for as long as it lives.
class DirectoryLock {
 public:
  explicit DirectoryLock(const fs::path& dir) {
    const auto path = dir / "lock";
    fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd_ < 0 || ::flock(fd_, LOCK_EX) != 0) throw pki::PkiError(path.string() + ": cannot be locked");
  }
  ~DirectoryLock() {
    if (fd_ >= 0) ::close(fd_);  // closing releases the lock
  }
  DirectoryLock(const DirectoryLock&) = delete;
  DirectoryLock& operator=(const DirectoryLock&) = delete;

 private:
  int fd_ = -1;
};

void make_private_directory(const fs::path& dir) {
  std::error_code error;
  fs::create_directories(dir, error);
  if (error) throw pki::PkiError(fmt::format("{}: cannot be created: {}", dir.string(), error.message()));
  // Keys live here: nobody else may list or enter it.
  fs::permissions(dir, fs::perms::owner_all, fs::perm_options::replace, error);
}

/// A key and certificate pair on disk, made by `issue` when missing, unreadable, mismatched or expiring.
struct Pair {
  auth::PkeyPtr key;
  pki::X509Ptr certificate;
  bool created = false;
};

template <typename Issue, typename Usable>
Pair load_or_make(const fs::path& key_path, const fs::path& certificate_path, Issue issue, Usable usable) {
  if (fs::exists(key_path) && fs::exists(certificate_path)) {
    try {
      Pair pair{pki::read_private_key(key_path), pki::read_certificate(certificate_path)};
      if (pki::matches(pair.certificate.get(), pair.key.get()) && usable(pair.certificate.get())) return pair;
      spdlog::info("{}: expiring or not matching its key; making a new one", certificate_path.string());
    } catch (const pki::PkiError& e) {
      spdlog::warn("{}; making a new one", e.what());
    }
  }
  Pair pair = issue();
  pair.created = true;
  pki::write_private_key(key_path, pair.key.get());
  pki::write_certificates(certificate_path, {pair.certificate.get()});
  return pair;
}

/// Fills in a certificate credential: a generated one is made (or reused) in apps/, a file is read.
void attach_certificate(const fs::path& dir, const Application& app, CertificateCredential& credential) {
  pki::X509Ptr certificate;
  if (credential.source == "generated") {
    const auto apps = dir / "apps";
    make_private_directory(apps);
    credential.private_key_path = (apps / (app.client_id + "-key.pem")).string();
    credential.certificate_path = (apps / (app.client_id + ".pem")).string();
    auto pair = load_or_make(
        credential.private_key_path, credential.certificate_path,
        [&] {
          auto key = pki::generate_rsa_key();
          auto cert = pki::issue_certificate({.common_name = app.display_name, .validity = kLeafValidity}, key.get(),
                                             nullptr, key.get());
          return Pair{std::move(key), std::move(cert)};
        },
        [](X509* cert) { return pki::valid_for(cert, kRenewBefore); });
    certificate = std::move(pair.certificate);
  } else {
    credential.certificate_path = credential.source;
    try {
      certificate = pki::read_certificate(credential.source);
    } catch (const pki::PkiError& e) {
      throw DirectoryError(fmt::format("applications.{}.certificates: {}", app.key, e.what()));
    }
  }
  const auto der = pki::der(certificate.get());
  credential.sha1_hex = pki::sha1_hex(der);
  credential.x5t = auth::x5t_sha1(der);
  credential.x5t_s256 = auth::x5t_sha256(der);
  credential.public_key = pki::public_key(certificate.get());
}

}  // namespace

fs::path default_state_dir() {
  if (const char* state = std::getenv("XDG_STATE_HOME"); state != nullptr && *state == '/') {
    return fs::path(state) / "deputy" / "dev";
  }
  const char* home = std::getenv("HOME");
  return fs::path(home != nullptr ? home : ".") / ".local" / "state" / "deputy" / "dev";
}

DevState open_state(const fs::path& dir, Directory& directory) {
  make_private_directory(dir);
  DirectoryLock lock(dir);
  DevState state;
  state.dir = dir;

  // The local CA. A new CA invalidates everything it signed, so the server certificate follows.
  state.ca_certificate = dir / "ca.pem";
  auto ca = load_or_make(
      dir / "ca-key.pem", state.ca_certificate,
      [] {
        auto key = pki::generate_p256_key();
        auto cert = pki::issue_certificate(
            {.common_name = "deputy development CA", .validity = kCaValidity, .certificate_authority = true},
            key.get(), nullptr, key.get());
        return Pair{std::move(key), std::move(cert)};
      },
      [](X509* cert) { return pki::valid_for(cert, kRenewBefore); });
  if (ca.created) spdlog::info("created a local CA: {}", state.ca_certificate.string());

  const auto server_key = dir / "server-key.pem";
  const auto server_chain = dir / "server.pem";
  X509* ca_certificate = ca.certificate.get();
  auto server = load_or_make(
      server_key, server_chain,
      [&] {
        auto key = pki::generate_p256_key();
        auto cert = pki::issue_certificate({.common_name = "localhost",
                                            .validity = kLeafValidity,
                                            .server = true,
                                            .dns_names = {"localhost"},
                                            .ip_addresses = {"127.0.0.1", "::1"}},
                                           key.get(), ca_certificate, ca.key.get());
        return Pair{std::move(key), std::move(cert)};
      },
      [&](X509* cert) { return !ca.created && pki::issued_by(cert, ca_certificate) && pki::valid_for(cert, kRenewBefore); });
  // server.pem holds the chain a TLS server sends: the leaf, then the CA.
  pki::write_certificates(server_chain, {server.certificate.get(), ca_certificate});
  state.tls = {.certificate_chain = server_chain.string(), .private_key = server_key.string()};

  std::vector<SigningKey> keys;
  for (int n = 1; n <= kSigningKeyCount; ++n) {
    auto pair = load_or_make(
        dir / fmt::format("signing-{}-key.pem", n), dir / fmt::format("signing-{}.pem", n),
        [&] {
          auto key = pki::generate_rsa_key();
          auto cert = pki::issue_certificate(
              {.common_name = fmt::format("deputy development token signing {}", n), .validity = kLeafValidity},
              key.get(), ca_certificate, ca.key.get());
          return Pair{std::move(key), std::move(cert)};
        },
        [](X509* cert) { return pki::valid_for(cert, kRenewBefore); });
    auto der = pki::der(pair.certificate.get());
    keys.push_back({.kid = auth::x5t_sha1(der), .private_key = std::move(pair.key), .certificate_der = std::move(der)});
  }
  state.signing_keys.emplace(std::move(keys));

  for (auto& app : directory.applications) {
    for (auto& credential : app.certificates) attach_certificate(dir, app, credential);
  }
  return state;
}

}  // namespace deputy::devidp
