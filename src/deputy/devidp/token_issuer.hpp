#pragma once
// Access tokens as Entra ID issues them, signed RS256 by the active signing key (header kid and x5t):
//  - v2 (the resource's access_token_version is 2): iss https://<host>/<tid>/v2.0, aud = the resource's
//    client id, azp/azpacr, name, oid, preferred_username, roles, scp, sub, tid, uti, ver "2.0";
//  - v1 (Graph): iss https://sts.windows.net/<tid>/, aud = the identifier URI, appid/appidacr, upn,
//    unique_name, scp, ver "1.0";
//  - app-only tokens of either version: roles = the application permissions granted, idtyp "app", no scp.
// sub is pairwise: the same user has a different sub for each client application.
//
// One deviation from Entra, on purpose: v2 user tokens carry `amr` (Entra puts it in v1 tokens only), because
// the provider is stateless across tokens and an On-Behalf-Of request must know whether the user's sign-in
// satisfied MFA.

#include "deputy/devidp/directory.hpp"
#include "deputy/devidp/errors.hpp"
#include "deputy/devidp/signing_keys.hpp"

#include <boost/json/object.hpp>

#include <chrono>
#include <cstdint>
#include <expected>
#include <functional>
#include <span>
#include <string>
#include <vector>

namespace deputy::devidp {

using Clock = std::chrono::system_clock;
using Random = std::function<void(std::span<unsigned char>)>;

/// Entra's access tokens live 60-90 minutes (randomized); a fixed hour keeps tests exact.
inline constexpr std::chrono::seconds kAccessTokenLifetime{3600};

/// How the client authenticated: azpacr (v2) / appidacr (v1) say "0", "1" or "2".
enum class ClientAuthMethod : std::uint8_t { kNone, kSecret, kCertificate };

struct UserGrant {
  const User* user = nullptr;
  const Application* client = nullptr;    // azp / appid
  const Application* resource = nullptr;  // aud; its access_token_version picks the shape
  std::vector<std::string> scopes;        // scp
  ClientAuthMethod client_auth = ClientAuthMethod::kSecret;
  std::vector<std::string> amr{"pwd"};
};

struct IssuedToken {
  std::string token;
  std::chrono::seconds expires_in{0};
};

class TokenIssuer {
 public:
  TokenIssuer(const Directory& directory, const SigningKeys& keys, std::string base_url);

  /// https://<host>/<tid>/v2.0 and https://sts.windows.net/<tid>/.
  [[nodiscard]] const std::string& issuer_v2() const { return issuer_v2_; }
  [[nodiscard]] const std::string& issuer_v1() const { return issuer_v1_; }

  /// A user's token for grant.resource, issued at `now` and living `lifetime`.
  [[nodiscard]] std::expected<IssuedToken, Failure> user_token(const UserGrant& grant, Clock::time_point now,
                                                               const Random& random,
                                                               std::chrono::seconds lifetime = kAccessTokenLifetime) const;
  /// An app-only token of `client` for `resource`.
  [[nodiscard]] std::expected<IssuedToken, Failure> app_token(const Application& client, const Application& resource,
                                                              ClientAuthMethod client_auth, Clock::time_point now,
                                                              const Random& random) const;

  /// An OpenID Connect id_token (v2) of `user` for `client`: aud = the client id, the nonce of the
  /// authorization request when there was one.
  [[nodiscard]] std::expected<IssuedToken, Failure> id_token(const User& user, const Application& client,
                                                             std::string_view nonce, Clock::time_point now,
                                                             const Random& random) const;

  /// Entra's pairwise subject of `object_id` for `client_id`.
  [[nodiscard]] std::string pairwise_subject(std::string_view object_id, std::string_view client_id) const;

 private:
  [[nodiscard]] std::expected<IssuedToken, Failure> sign(boost::json::object claims, std::int64_t lifetime) const;

  const Directory& directory_;
  const SigningKeys& keys_;
  std::string issuer_v2_;
  std::string issuer_v1_;
};

/// 16 random bytes, base64url: the shape of Entra's uti.
[[nodiscard]] std::string random_token_id(const Random& random);
/// A random version-4 GUID (trace and correlation ids).
[[nodiscard]] std::string random_guid(const Random& random);
/// OpenSSL's CSPRNG.
void openssl_random(std::span<unsigned char> out);

}  // namespace deputy::devidp
