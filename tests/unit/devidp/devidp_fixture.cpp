#include "devidp_fixture.hpp"
#include "deputy/net/percent_encoding.hpp"

#include "deputy/auth/base64url.hpp"
#include "deputy/auth/jws.hpp"
#include "deputy/devidp/pki.hpp"

#include <gtest/gtest.h>

#include <cstring>

namespace deputy::devidp::testing {

const TestKeys& test_keys() {
  static const TestKeys keys = [] {
    TestKeys out;
    auto ca_key = pki::generate_p256_key();
    auto ca = pki::issue_certificate({.common_name = "test CA", .certificate_authority = true}, ca_key.get(), nullptr,
                                     ca_key.get());
    for (int i = 0; i < 2; ++i) {
      auto key = pki::generate_rsa_key();
      auto cert = pki::issue_certificate({.common_name = "test signing"}, key.get(), ca.get(), ca_key.get());
      auto der = pki::der(cert.get());
      out.signing.push_back({.kid = auth::x5t_sha1(der), .private_key = std::move(key), .certificate_der = der});
    }
    for (int i = 0; i < 3; ++i) out.rotation.push_back(generate_signing_key());
    out.app_key = pki::generate_rsa_key();
    auto app_cert = pki::issue_certificate({.common_name = "server app"}, out.app_key.get(), nullptr, out.app_key.get());
    out.app_certificate_der = pki::der(app_cert.get());
    out.other_key = pki::generate_rsa_key();
    return out;
  }();
  return keys;
}

Directory test_directory() {
  auto directory = default_directory();
  const auto& keys = test_keys();
  for (auto& app : directory.applications) {
    for (auto& credential : app.certificates) {
      const auto& der = keys.app_certificate_der;
      credential.sha1_hex = pki::sha1_hex(der);
      credential.x5t = auth::x5t_sha1(der);
      credential.x5t_s256 = auth::x5t_sha256(der);
      credential.public_key = keys.app_key;  // the private key holds the public one
    }
  }
  return directory;
}

TestProvider::TestProvider() {
  ProviderOptions options;
  options.base_url = kBaseUrl;
  options.now = [this] { return now_; };
  options.random = [this](std::span<unsigned char> out) {
    for (auto& byte : out) byte = static_cast<unsigned char>(++counter_ * 131);
  };
  options.new_signing_key = [this] { return test_keys().rotation[rotations_++ % test_keys().rotation.size()]; };
  provider_ = std::make_unique<IdentityProvider>(test_directory(), SigningKeys(test_keys().signing), std::move(options));
}

std::string encode(const Fields& fields) {
  std::string body;
  for (const auto& [name, value] : fields) {
    body += (body.empty() ? "" : "&") + net::percent_encode(name) + "=" + net::percent_encode(value);
  }
  return body;
}

HttpAnswer TestProvider::post(const Fields& fields, std::string_view tenant, std::string_view content_type) const {
  const std::string body = encode(fields);
  return handle_token_request(*provider_, {.tenant = tenant, .post = true, .content_type = content_type, .body = body});
}

json::object TestProvider::body(const HttpAnswer& answer) {
  auto value = json::parse(answer.body);
  return value.as_object();
}

std::string TestProvider::mint(std::string_view user, const MintOptions& options) const {
  auto token = provider_->mint_user_token(user, options);
  EXPECT_TRUE(token) << (token ? "" : token.error().message);
  return token ? *token : std::string();
}

json::object payload_of(std::string_view token) {
  auto jws = auth::parse_jws(token, {.algorithms = auth::AlgSet::all()});
  return jws ? std::move(*jws).take_payload() : json::object();
}

std::string TestProvider::client_assertion(const std::function<void(json::object&, json::object&)>& edit,
                                           EVP_PKEY* key) const {
  const auto now = std::chrono::duration<double>(now_.time_since_epoch()).count();
  json::object header;
  header["typ"] = "JWT";
  // MSAL Python: base64.urlsafe_b64encode of the SHA-1 thumbprint, padding kept.
  header["x5t"] = auth::x5t_sha1(test_keys().app_certificate_der) + "=";
  json::object claims;
  claims["aud"] = kTokenEndpoint;
  claims["iss"] = kServerId;
  claims["sub"] = kServerId;
  claims["exp"] = now + 600.25;  // floats, as MSAL Python sends them
  claims["iat"] = now + 0.25;
  claims["jti"] = "5b0e9c4e-8d4c-4c67-9a57-7d6a1f0b2c31";
  if (edit) edit(header, claims);
  auto token = auth::sign(header, claims, key != nullptr ? key : test_keys().app_key.get(), auth::Alg::kRs256);
  EXPECT_TRUE(token);
  return token ? *token : std::string();
}

}  // namespace deputy::devidp::testing
