#include "deputy/devidp/identity_provider.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

namespace deputy::devidp {

namespace {

const Application* find_app(const Directory& directory, std::string_view name) {
  if (const auto* app = directory.find_app(name)) return app;
  if (const auto* app = directory.find_app_by_client_id(name)) return app;
  return directory.find_resource(name);
}

}  // namespace

IdentityProvider::IdentityProvider(Directory directory, SigningKeys keys, ProviderOptions options)
    : directory_(std::move(directory)),
      keys_(std::move(keys)),
      options_(std::move(options)),
      issuer_(directory_, keys_, options_.base_url) {
  // Each provider its own: a directory copied before it was handed over shares nothing with this one.
  directory_.runtime_consents = std::make_shared<RuntimeConsents>();
  for (const auto& app : directory_.applications) {
    // An assertion is good for the app it was issued to, and only that one (shared/entra.md: "The assertion's
    // aud must be the middle-tier app itself"): its client id, or one of its identifier URIs.
    auth::ValidatorOptions validation;
    validation.issuers = {issuer_.issuer_v2(), issuer_.issuer_v1()};
    validation.audiences = app.identifier_uris;
    validation.audiences.push_back(app.client_id);
    validation.leeway = options_.leeway;
    validation.allow_app_only = false;  // AADSTS7000114: an app cannot act on behalf of an app
    validators_.emplace(app.client_id, std::make_unique<OwnTokenValidator>(std::move(validation), keys_,
                                                                           [this] { return options_.now(); }));
  }
}

std::vector<std::string> IdentityProvider::token_endpoint_audiences(std::string_view segment) const {
  std::vector<std::string> out;
  for (std::string_view tenant : {std::string_view(directory_.tenant.id), std::string_view(directory_.tenant.domain),
                                  std::string_view("common"), std::string_view("organizations"), segment}) {
    out.push_back(fmt::format("{}/{}/oauth2/v2.0/token", options_.base_url, tenant));
  }
  return out;
}

std::expected<std::shared_ptr<const auth::Principal>, auth::Error> IdentityProvider::validate_assertion(
    const Application& app, std::string_view assertion) const {
  const auto it = validators_.find(app.client_id);
  if (it == validators_.end()) return std::unexpected(auth::Error::kWrongAudience);
  return it->second->verify(assertion);
}

std::expected<std::shared_ptr<const KeyGeneration>, Failure> IdentityProvider::rotate_signing_key() const {
  // Key generation and publication may throw (OpenSSL); an admin request gets an error, not a crash.
  try {
    auto generation = keys_.rotate(options_.new_signing_key());
    spdlog::info("devidp: signing key rotated; {} signs now", generation->keys.front().kid);
    return generation;
  } catch (const std::exception& e) {
    spdlog::error("devidp: signing key rotation failed: {}", e.what());
    return std::unexpected(Failure{IdpError::kInternal, "The signing key could not be rotated."});
  }
}

std::expected<std::string, Failure> IdentityProvider::mint_user_token(std::string_view user_name,
                                                                      const MintOptions& options) const {
  UserGrant grant;
  grant.user = directory_.find_user(user_name);
  grant.client = find_app(directory_, options.client);
  grant.resource = find_app(directory_, options.resource);
  if (grant.user == nullptr) {
    return std::unexpected(Failure{IdpError::kUserNotFound, fmt::format("No user '{}' in this directory.", user_name)});
  }
  if (grant.client == nullptr || grant.resource == nullptr) {
    return std::unexpected(Failure{IdpError::kUnknownClient, "No such client or resource application in this directory."});
  }
  for (const auto& scope : options.scopes) {
    const auto* exposed = grant.resource->find_scope(scope);
    if (exposed == nullptr) {
      return std::unexpected(Failure{IdpError::kInvalidScope, fmt::format("The scope '{}' does not exist on '{}'.", scope,
                                                                           grant.resource->primary_identifier())});
    }
    grant.scopes.push_back(exposed->value);
  }
  grant.client_auth = grant.client->confidential() ? ClientAuthMethod::kSecret : ClientAuthMethod::kNone;
  grant.amr = options.mfa ? std::vector<std::string>{"pwd", "mfa"} : std::vector<std::string>{"pwd"};
  auto issued = issuer_.user_token(grant, now() - options.issued_before, options_.random, options.lifetime);
  if (!issued) return std::unexpected(issued.error());
  return std::move(issued->token);
}

}  // namespace deputy::devidp
