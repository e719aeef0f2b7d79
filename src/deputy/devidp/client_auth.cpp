#include "deputy/devidp/client_auth.hpp"

#include "deputy/auth/base64url.hpp"
#include "deputy/auth/claims.hpp"
#include "deputy/auth/jws.hpp"

#include <fmt/format.h>
#include <openssl/crypto.h>

namespace deputy::devidp {

namespace {

/// Entra accepts RS256 and PS256 client assertions.
const auth::JwsPolicy kAssertionPolicy{.algorithms = {auth::Alg::kRs256, auth::Alg::kPs256}};

std::string header_string(const auth::Jws& jws, std::string_view name) {
  const auto* value = jws.header().if_contains(name);
  return value != nullptr && value->is_string() ? std::string(value->get_string()) : std::string();
}

/// MSAL Python sends x5t padded (base64.urlsafe_b64encode); the thumbprint is the same without the '='.
std::string_view unpadded(std::string_view text) {
  while (!text.empty() && text.back() == '=') text.remove_suffix(1);
  return text;
}

/// Constant-time comparison: a secret check must not tell, by its timing, how much of a guess was right.
bool secret_equals(std::string_view given, std::string_view expected) {
  return given.size() == expected.size() && CRYPTO_memcmp(given.data(), expected.data(), given.size()) == 0;
}

std::string hex_of(std::string_view bytes) {
  std::string out;
  for (unsigned char c : bytes) out += fmt::format("{:02X}", c);
  return out;
}

Failure assertion_failure(IdpError error, std::string message) { return {error, std::move(message)}; }

std::expected<ClientAuthMethod, Failure> check_assertion(const IdentityProvider& provider, const Application& app,
                                                         std::string_view assertion, std::string_view tenant) {
  auto jws = auth::parse_jws(assertion, kAssertionPolicy);
  if (!jws) {
    return std::unexpected(assertion_failure(
        IdpError::kClientAssertionMalformed,
        fmt::format("JWT token is invalid or malformed ({}). Review the documentation at "
                    "https://learn.microsoft.com/entra/identity-platform/certificate-credentials .",
                    auth::to_string(jws.error()))));
  }
  // The certificate is named by its thumbprint: x5t (SHA-1) or x5t#S256.
  const std::string x5t = header_string(*jws, "x5t");
  const std::string x5t_s256 = header_string(*jws, "x5t#S256");
  const CertificateCredential* credential = nullptr;
  for (const auto& candidate : app.certificates) {
    if ((!x5t.empty() && unpadded(x5t) == candidate.x5t) ||
        (!x5t_s256.empty() && unpadded(x5t_s256) == candidate.x5t_s256)) {
      credential = &candidate;
    }
  }
  if (credential == nullptr || !credential->public_key) {
    const auto decoded = auth::base64url_decode(unpadded(x5t.empty() ? x5t_s256 : x5t));
    return std::unexpected(assertion_failure(
        IdpError::kClientAssertionSignature,
        fmt::format("Client assertion failed signature validation. [Reason - The key was not found., Thumbprint of key "
                    "used by client: '{}']",
                    decoded ? hex_of(*decoded) : std::string())));
  }
  auto jwk = auth::make_jwk(credential->public_key.get(), std::nullopt);
  if (!jwk || !auth::verify(*jws, *jwk)) {
    return std::unexpected(assertion_failure(
        IdpError::kClientAssertionSignature,
        fmt::format("Client assertion failed signature validation. [Reason - The provided signature value did not "
                    "match the expected signature value., Thumbprint of key used by client: '{}']",
                    credential->sha1_hex)));
  }
  // The claims: the app is both issuer and subject, the audience is this token endpoint, and it expires.
  // MSAL sends iat and exp as floats; the claims policy reads NumericDates of either kind.
  auth::ValidatorOptions options;
  options.issuers = {app.client_id};
  options.audiences = provider.token_endpoint_audiences(tenant);
  options.leeway = provider.leeway();
  options.allow_app_only = true;
  const auth::ClaimsPolicy policy(options);
  auto checked = policy.check(jws->payload(), provider.now());
  if (!checked) {
    switch (checked.error()) {
      case auth::Error::kWrongIssuer:
        return std::unexpected(assertion_failure(
            IdpError::kClientAssertionSubject,
            "Client assertion application identifier doesn't match 'client_id' parameter. Review the documentation at "
            "https://learn.microsoft.com/entra/identity-platform/certificate-credentials ."));
      case auth::Error::kWrongAudience:
        return std::unexpected(assertion_failure(
            IdpError::kClientAssertionAudience,
            "Client assertion audience claim does not match Realm issuer. Review the documentation at "
            "https://learn.microsoft.com/entra/identity-platform/certificate-credentials ."));
      case auth::Error::kMissingExpiry:
      case auth::Error::kExpired:
      case auth::Error::kNotYetValid:
        return std::unexpected(assertion_failure(
            IdpError::kClientAssertionTime,
            "Client assertion is not within its valid time range. Review the documentation at "
            "https://learn.microsoft.com/entra/identity-platform/certificate-credentials ."));
      default:
        return std::unexpected(assertion_failure(IdpError::kClientAssertionMalformed,
                                                 "JWT token is invalid or malformed."));
    }
  }
  if (checked->subject != app.client_id) {
    return std::unexpected(assertion_failure(
        IdpError::kClientAssertionSubject,
        "Client assertion subject doesn't match 'client_id' parameter. Review the documentation at "
        "https://learn.microsoft.com/entra/identity-platform/certificate-credentials ."));
  }
  if (checked->token_id.empty()) {
    return std::unexpected(
        assertion_failure(IdpError::kClientAssertionMalformed, "The client assertion must contain a 'jti' claim."));
  }
  // No replay check on jti: MSAL reuses one assertion for up to ten minutes (AutoRefresher), and Entra takes it.
  return ClientAuthMethod::kCertificate;
}

}  // namespace

std::expected<AuthenticatedClient, Failure> authenticate_client(const IdentityProvider& provider, const Form& form,
                                                                std::string_view tenant) {
  const auto client_id = form.value("client_id");
  if (client_id.empty()) {
    return std::unexpected(
        Failure{IdpError::kMissingParameter, "The request body must contain the following parameter: 'client_id'."});
  }
  const auto& directory = provider.directory();
  const Application* app = directory.find_app_by_client_id(client_id);
  if (app == nullptr) {
    const std::string_view shown = client_id.substr(0, std::min<std::size_t>(client_id.size(), 100));
    return std::unexpected(Failure{
        IdpError::kUnknownClient,
        fmt::format("Application with identifier '{}' was not found in the directory '{}'. This can happen if the "
                    "application has not been installed by the administrator of the tenant or consented to by any "
                    "user in the tenant. You may have sent your authentication request to the wrong tenant.",
                    shown, directory.tenant.display_name)});
  }
  const auto secret = form.get("client_secret");
  const auto assertion = form.get("client_assertion");
  const auto assertion_type = form.get("client_assertion_type");
  if (secret && assertion) {
    return std::unexpected(Failure{IdpError::kMalformedRequest,
                                   "Only one client credential may be sent: client_secret or client_assertion."});
  }
  if (secret) {
    const bool known = std::ranges::any_of(app->secrets, [&](const std::string& s) { return secret_equals(*secret, s); });
    if (!known) {
      return std::unexpected(Failure{
          IdpError::kInvalidClientSecret,
          fmt::format("Invalid client secret provided. Ensure the secret being sent in the request is the client secret "
                      "value, not the client secret ID, for a secret added to app '{}'.",
                      app->client_id)});
    }
    return AuthenticatedClient{app, ClientAuthMethod::kSecret};
  }
  if (assertion || assertion_type) {
    if (!assertion || assertion->empty()) {
      return std::unexpected(Failure{IdpError::kMissingParameter,
                                     "The request body must contain the following parameter: 'client_assertion'."});
    }
    if (assertion_type != kClientAssertionType) {
      return std::unexpected(Failure{
          IdpError::kMalformedRequest,
          fmt::format("The client_assertion_type must be '{}'.", kClientAssertionType)});
    }
    auto method = check_assertion(provider, *app, *assertion, tenant);
    if (!method) return std::unexpected(method.error());
    return AuthenticatedClient{app, *method};
  }
  return AuthenticatedClient{app, ClientAuthMethod::kNone};
}

}  // namespace deputy::devidp
