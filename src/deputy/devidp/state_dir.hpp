#pragma once
// The identity provider's state directory: what it makes on first start and reuses afterwards, so that
// tokens, trusted CAs and client certificates survive restarts.
//
//   ca.pem, ca-key.pem                  the local CA (EC P-256, CA:TRUE): trust ca.pem (REQUESTS_CA_BUNDLE)
//   server.pem, server-key.pem          the HTTPS certificate for localhost, 127.0.0.1 and ::1, with the CA
//   signing-N.pem, signing-N-key.pem    the two RSA-2048 token-signing keys and their certificates
//   apps/<client id>.pem, -key.pem      generated certificate credentials of applications
//
// Keys are 0600 and the directory 0700. A lock file serializes two processes starting on one directory.

#include "deputy/devidp/directory.hpp"
#include "deputy/devidp/signing_keys.hpp"
#include "deputy/net/http_server.hpp"

#include <filesystem>
#include <optional>

namespace deputy::devidp {

/// The CA lives long (it is trusted once); what it signs is remade when fewer than kRenewBefore days remain.
inline constexpr std::chrono::days kCaValidity{3650};
inline constexpr std::chrono::days kLeafValidity{397};  // the longest life browsers accept for a server cert
inline constexpr std::chrono::days kRenewBefore{30};
/// Token-signing keys published at once: the one that signs and the next one.
inline constexpr int kSigningKeyCount = 2;

struct DevState {
  std::filesystem::path dir;
  std::filesystem::path ca_certificate;
  net::TlsFiles tls;
  std::optional<SigningKeys> signing_keys;  // always set by open_state
};

/// $XDG_STATE_HOME/deputy/dev, or ~/.local/state/deputy/dev.
[[nodiscard]] std::filesystem::path default_state_dir();

/// Creates what is missing (or expiring) in `dir` and loads the rest; fills in the certificate credentials of
/// `directory`'s applications. Throws pki::PkiError or DirectoryError (a start-up failure) naming the file.
[[nodiscard]] DevState open_state(const std::filesystem::path& dir, Directory& directory);

}  // namespace deputy::devidp
