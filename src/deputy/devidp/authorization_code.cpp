// The authorization_code grant (grants.hpp): RFC 6749 §4.1.3 with PKCE (RFC 7636).
#include "deputy/auth/base64url.hpp"
#include "deputy/devidp/grants.hpp"

#include <boost/json.hpp>
#include <fmt/format.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <array>

namespace deputy::devidp {

namespace json = boost::json;

namespace {

/// RFC 7636 §4.1: 43 to 128 characters of [A-Z] [a-z] [0-9] - . _ ~.
bool valid_verifier(std::string_view verifier) {
  if (verifier.size() < 43 || verifier.size() > 128) return false;
  return std::ranges::all_of(verifier, [](unsigned char c) {
    return std::isalnum(c) != 0 || c == '-' || c == '.' || c == '_' || c == '~';
  });
}

/// S256: BASE64URL(SHA256(ASCII(code_verifier))) == code_challenge (RFC 7636 §4.6).
bool verifier_matches(std::string_view verifier, std::string_view challenge) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int length = 0;
  EVP_Digest(verifier.data(), verifier.size(), digest.data(), &length, EVP_sha256(), nullptr);
  const auto computed = auth::base64url_encode(std::string_view(reinterpret_cast<const char*>(digest.data()), length));
  return computed.size() == challenge.size() && CRYPTO_memcmp(computed.data(), challenge.data(), computed.size()) == 0;
}

}  // namespace

Failure redeem_failure(RedeemError error, std::string_view what) {
  switch (error) {
    case RedeemError::kUnknown:
      return {IdpError::kGrantInvalid, fmt::format("Invalid request. The {} is malformed or was not issued here.", what)};
    case RedeemError::kExpired:
      return {IdpError::kGrantExpired,
              fmt::format("The provided authorization code or refresh token has expired due to inactivity. Send a new "
                          "interactive authorization request for this user and resource. ({})",
                          what)};
    case RedeemError::kAlreadyRedeemed:
      if (what == "authorization code") {
        return {IdpError::kCodeRedeemed,
                "OAuth2 Authorization code was already redeemed, please retry with a new valid code or use an existing "
                "refresh token."};
      }
      return {IdpError::kRefreshTokenRevoked,
              "The provided grant has expired due to it being revoked, a fresh auth token is needed. The refresh token "
              "was already used and replaced by a new one."};
    case RedeemError::kWrongClient:
      return {IdpError::kGrantClientMismatch,
              fmt::format("Provided grant is invalid or malformed. The {} was issued to another client.", what)};
  }
  return {IdpError::kGrantInvalid, "Invalid request."};
}

std::expected<json::object, Failure> authorization_code_grant(const IdentityProvider& provider, const Form& form,
                                                              const AuthenticatedClient& client) {
  const auto code = form.value("code");
  if (code.empty()) return std::unexpected(missing_body_parameter("code"));
  const auto redirect_uri = form.value("redirect_uri");
  if (redirect_uri.empty()) return std::unexpected(missing_body_parameter("redirect_uri"));
  if (auto credential = require_credential_if_confidential(client, "authorization_code"); !credential) {
    return std::unexpected(credential.error());
  }
  const auto now = provider.now();
  auto grant = provider.grants().redeem_code(code, client.app->client_id, now);
  if (!grant) return std::unexpected(redeem_failure(grant.error(), "authorization code"));
  // RFC 6749 §4.1.3: the redirect_uri must be the one the code was sent to, or a code stolen from a redirect
  // could be redeemed through another.
  if (redirect_uri != grant->redirect_uri) {
    return std::unexpected(Failure{IdpError::kRedirectUriMismatch,
                                   "The reply address does not match the reply address provided when requesting "
                                   "Authorization code."});
  }
  if (!grant->code_challenge.empty()) {
    const auto verifier = form.value("code_verifier");
    if (!valid_verifier(verifier) || !verifier_matches(verifier, grant->code_challenge)) {
      return std::unexpected(Failure{IdpError::kPkceMismatch,
                                     "The Code_Verifier does not match the code_challenge supplied in the "
                                     "authorization request."});
    }
  }
  const auto& directory = provider.directory();
  const User* user = directory.find_user_by_oid(grant->user_oid);
  if (user == nullptr) {
    return std::unexpected(Failure{IdpError::kUserNotFound, "The user account does not exist in the directory."});
  }
  auto request = parse_scopes(directory, grant->scope);
  if (!request) return std::unexpected(request.error());
  return user_token_response(provider, form, client, *user, *request, grant->amr, grant->nonce, false);
}

}  // namespace deputy::devidp
