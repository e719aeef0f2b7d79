#include "deputy/devidp/token_issuer.hpp"

#include "deputy/auth/base64url.hpp"
#include "deputy/auth/jws.hpp"

#include <boost/json.hpp>
#include <fmt/format.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <spdlog/spdlog.h>

#include <array>
#include <stdexcept>

namespace deputy::devidp {

namespace json = boost::json;

namespace {

std::string_view acr(ClientAuthMethod method) {
  switch (method) {
    case ClientAuthMethod::kNone: return "0";
    case ClientAuthMethod::kSecret: return "1";
    case ClientAuthMethod::kCertificate: return "2";
  }
  return "0";
}

std::string join(const std::vector<std::string>& values) {
  std::string out;
  for (const auto& value : values) out += (out.empty() ? "" : " ") + value;
  return out;
}

json::array array_of(const std::vector<std::string>& values) {
  json::array out;
  for (const auto& value : values) out.emplace_back(value);
  return out;
}

}  // namespace

void openssl_random(std::span<unsigned char> out) {
  if (RAND_bytes(out.data(), static_cast<int>(out.size())) != 1) throw std::runtime_error("RAND_bytes failed");
}

std::string random_token_id(const Random& random) {
  std::array<unsigned char, 16> bytes{};
  random(bytes);
  return auth::base64url_encode(std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
}

std::string random_guid(const Random& random) {
  std::array<unsigned char, 16> bytes{};
  random(bytes);
  bytes[6] = static_cast<unsigned char>((bytes[6] & 0x0F) | 0x40);
  bytes[8] = static_cast<unsigned char>((bytes[8] & 0x3F) | 0x80);
  std::string out;
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out += '-';
    out += fmt::format("{:02x}", bytes[i]);
  }
  return out;
}

TokenIssuer::TokenIssuer(const Directory& directory, const SigningKeys& keys, std::string base_url)
    : directory_(directory),
      keys_(keys),
      issuer_v2_(fmt::format("{}/{}/v2.0", base_url, directory.tenant.id)),
      issuer_v1_(fmt::format("https://sts.windows.net/{}/", directory.tenant.id)) {}

std::string TokenIssuer::pairwise_subject(std::string_view object_id, std::string_view client_id) const {
  // Entra's sub differs per application so that two apps cannot correlate a user by it; a keyed hash of
  // (tenant, user, app) has that property and is stable across restarts.
  const std::string input = fmt::format("{}|{}|{}", directory_.tenant.id, object_id, client_id);
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int length = 0;
  EVP_Digest(input.data(), input.size(), digest.data(), &length, EVP_sha256(), nullptr);
  return auth::base64url_encode(std::string_view(reinterpret_cast<const char*>(digest.data()), length));
}

std::expected<IssuedToken, Failure> TokenIssuer::sign(json::object claims, std::int64_t lifetime) const {
  const auto& key = keys_.active();
  json::object header;
  header["typ"] = "JWT";
  header["x5t"] = key.kid;  // Entra's kid is the certificate's x5t, and it sends both
  header["kid"] = key.kid;
  auto token = auth::sign(header, claims, key.private_key.get(), auth::Alg::kRs256);
  if (!token) {
    spdlog::error("token signing failed: {}", auth::to_string(token.error()));
    return std::unexpected(Failure{IdpError::kInternal, "The token could not be signed. Try again later."});
  }
  return IssuedToken{.token = std::move(*token), .expires_in = std::chrono::seconds(lifetime)};
}

std::expected<IssuedToken, Failure> TokenIssuer::user_token(const UserGrant& grant, Clock::time_point now,
                                                            const Random& random, std::chrono::seconds lifetime) const {
  const auto& user = *grant.user;
  const auto& client = *grant.client;
  const auto& resource = *grant.resource;
  const std::int64_t iat = std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
  const auto roles = directory_.user_roles(user, resource);
  json::object claims;
  if (resource.access_token_version == 2) {
    claims["aud"] = resource.client_id;
    claims["iss"] = issuer_v2_;
    claims["iat"] = iat;
    claims["nbf"] = iat;
    claims["exp"] = iat + lifetime.count();
    claims["amr"] = array_of(grant.amr);
    claims["azp"] = client.client_id;
    claims["azpacr"] = acr(grant.client_auth);
    claims["name"] = user.display_name;
    claims["oid"] = user.object_id;
    claims["preferred_username"] = user.upn;
    if (!roles.empty()) claims["roles"] = array_of(roles);
    claims["scp"] = join(grant.scopes);
    claims["sub"] = pairwise_subject(user.object_id, client.client_id);
    claims["tid"] = directory_.tenant.id;
    claims["uti"] = random_token_id(random);
    claims["ver"] = "2.0";
  } else {
    claims["aud"] = resource.primary_identifier();
    claims["iss"] = issuer_v1_;
    claims["iat"] = iat;
    claims["nbf"] = iat;
    claims["exp"] = iat + lifetime.count();
    claims["acct"] = 0;
    claims["acr"] = "1";
    claims["amr"] = array_of(grant.amr);
    claims["app_displayname"] = client.display_name;
    claims["appid"] = client.client_id;
    claims["appidacr"] = acr(grant.client_auth);
    claims["idtyp"] = "user";
    claims["name"] = user.display_name;
    claims["oid"] = user.object_id;
    if (!roles.empty()) claims["roles"] = array_of(roles);
    claims["scp"] = join(grant.scopes);
    claims["sub"] = pairwise_subject(user.object_id, client.client_id);
    claims["tid"] = directory_.tenant.id;
    claims["unique_name"] = user.upn;
    claims["upn"] = user.upn;
    claims["uti"] = random_token_id(random);
    claims["ver"] = "1.0";
  }
  return sign(std::move(claims), lifetime.count());
}

std::expected<IssuedToken, Failure> TokenIssuer::id_token(const User& user, const Application& client,
                                                          std::string_view nonce, Clock::time_point now,
                                                          const Random& random) const {
  const std::int64_t iat = std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
  const std::int64_t lifetime = kAccessTokenLifetime.count();
  json::object claims;
  claims["aud"] = client.client_id;
  claims["iss"] = issuer_v2_;
  claims["iat"] = iat;
  claims["nbf"] = iat;
  claims["exp"] = iat + lifetime;
  claims["name"] = user.display_name;
  if (!nonce.empty()) claims["nonce"] = nonce;
  claims["oid"] = user.object_id;
  claims["preferred_username"] = user.upn;
  claims["sub"] = pairwise_subject(user.object_id, client.client_id);
  claims["tid"] = directory_.tenant.id;
  claims["uti"] = random_token_id(random);
  claims["ver"] = "2.0";
  return sign(std::move(claims), lifetime);
}

std::expected<IssuedToken, Failure> TokenIssuer::app_token(const Application& client, const Application& resource,
                                                           ClientAuthMethod client_auth, Clock::time_point now,
                                                           const Random& random) const {
  const std::int64_t iat = std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
  const std::int64_t lifetime = kAccessTokenLifetime.count();
  const auto roles = directory_.application_roles(client, resource);
  json::object claims;
  const bool v2 = resource.access_token_version == 2;
  claims["aud"] = v2 ? resource.client_id : resource.primary_identifier();
  claims["iss"] = v2 ? issuer_v2_ : issuer_v1_;
  claims["iat"] = iat;
  claims["nbf"] = iat;
  claims["exp"] = iat + lifetime;
  if (v2) {
    claims["azp"] = client.client_id;
    claims["azpacr"] = acr(client_auth);
  } else {
    claims["app_displayname"] = client.display_name;
    claims["appid"] = client.client_id;
    claims["appidacr"] = acr(client_auth);
    claims["idp"] = issuer_v1_;
  }
  claims["idtyp"] = "app";
  claims["oid"] = client.object_id;
  if (!roles.empty()) claims["roles"] = array_of(roles);
  claims["sub"] = client.object_id;
  claims["tid"] = directory_.tenant.id;
  claims["uti"] = random_token_id(random);
  claims["ver"] = v2 ? "2.0" : "1.0";
  return sign(std::move(claims), lifetime);
}

}  // namespace deputy::devidp
