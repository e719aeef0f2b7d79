#pragma once
// A development identity provider for unit tests: the built-in directory, signing keys and the server app's
// certificate made once per process (RSA key generation is slow), a clock the test moves, and counter-based
// randomness. No files, no sockets.

#include "deputy/devidp/directory_yaml.hpp"
#include "deputy/devidp/form.hpp"
#include "deputy/devidp/identity_provider.hpp"
#include "deputy/devidp/token_endpoint.hpp"

#include <boost/json.hpp>

#include <atomic>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace deputy::devidp::testing {

namespace json = boost::json;

inline constexpr std::string_view kBaseUrl = "https://idp.test:8443";
inline constexpr std::string_view kTenantId = "b22dd19b-fad0-4513-a43e-46a8cb3ca698";
inline constexpr std::string_view kServerId = "d894da85-e1f8-4202-b8d8-bbfc24cbe604";
inline constexpr std::string_view kClientId = "37d1e7dc-e348-4df1-80dc-69156bdc1273";
inline constexpr std::string_view kServerSecret = "dev-server-secret-not-for-production";
inline constexpr std::string_view kClientSecret = "dev-client-secret-not-for-production";
inline constexpr std::string_view kTokenEndpoint =
    "https://idp.test:8443/b22dd19b-fad0-4513-a43e-46a8cb3ca698/oauth2/v2.0/token";
/// 2027-01-15T08:00:00Z.
inline constexpr Clock::time_point kStart{std::chrono::seconds(1'800'000'000)};

using Fields = std::vector<std::pair<std::string, std::string>>;

/// Keys made once per test process.
struct TestKeys {
  std::vector<SigningKey> signing;
  auth::PkeyPtr app_key;           // the server app's certificate key
  std::string app_certificate_der;
  auth::PkeyPtr other_key;         // a key nobody registered
  std::vector<SigningKey> rotation;  // what rotations put in charge, in turn (three: a cycle never repeats a kid)
};
const TestKeys& test_keys();

/// The built-in directory with the server app's certificate credential filled in from test_keys().
Directory test_directory();

class TestProvider {
 public:
  TestProvider();
  [[nodiscard]] const IdentityProvider& provider() const { return *provider_; }
  void advance(std::chrono::seconds by) { now_ += by; }
  [[nodiscard]] Clock::time_point now() const { return now_; }

  /// Rotations so far (the provider's new_signing_key hands out test_keys().rotation in turn).
  [[nodiscard]] std::size_t rotations() const { return rotations_; }

  /// POSTs a form to the token endpoint of `tenant` (default: the tenant's id).
  [[nodiscard]] HttpAnswer post(const Fields& fields, std::string_view tenant = kTenantId,
                                std::string_view content_type = "application/x-www-form-urlencoded") const;
  /// The answer's body as JSON.
  [[nodiscard]] static json::object body(const HttpAnswer& answer);
  /// A user token minted by the provider (must succeed).
  [[nodiscard]] std::string mint(std::string_view user, const MintOptions& options = {}) const;
  /// A client assertion for the server app, signed with `key` (default: its certificate key), with the
  /// header and claims MSAL Python sends (padded x5t, float iat/exp), after `edit` changed them.
  [[nodiscard]] std::string client_assertion(
      const std::function<void(json::object& header, json::object& claims)>& edit = {},
      EVP_PKEY* key = nullptr) const;

 private:
  Clock::time_point now_ = kStart;
  std::atomic<std::uint64_t> counter_{0};  // threads of a concurrency test draw from it too
  std::size_t rotations_ = 0;
  std::unique_ptr<IdentityProvider> provider_;
};

/// The text of a JSON string ("" for anything else), for comparisons with std::string and string_view.
inline std::string_view str(const json::value& value) {
  return value.is_string() ? std::string_view(value.get_string()) : std::string_view();
}

/// Encodes fields as a form body.
std::string encode(const Fields& fields);
/// The payload of a compact JWS, unverified.
json::object payload_of(std::string_view token);

}  // namespace deputy::devidp::testing
