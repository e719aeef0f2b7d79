#pragma once
// The claims half of token validation: who issued the token, for whom, until when, with which scopes;
// and the Principal it describes. The signature half is jws.hpp; token_validator.cpp puts them together.

#include "deputy/auth/error.hpp"
#include "deputy/auth/principal.hpp"
#include "deputy/auth/validator_options.hpp"

#include <boost/json/object.hpp>

#include <chrono>
#include <expected>
#include <string>
#include <vector>

namespace deputy::auth {

class ClaimsPolicy {
 public:
  explicit ClaimsPolicy(const ValidatorOptions& options);

  /// Checks `payload` at `now`; the principal it describes, or the first check that failed.
  [[nodiscard]] std::expected<Principal, Error> check(const boost::json::object& payload,
                                                      std::chrono::system_clock::time_point now) const;
  /// The time checks alone (exp, nbf), for a token verified before.
  [[nodiscard]] std::expected<void, Error> check_time(std::chrono::system_clock::time_point expires_at,
                                                      std::chrono::system_clock::time_point not_before,
                                                      std::chrono::system_clock::time_point now) const;

 private:
  [[nodiscard]] std::expected<void, Error> check_issuer(std::string_view issuer, std::string_view tenant) const;

  std::vector<std::string> exact_issuers_;
  std::vector<std::string> templated_issuers_;  // with {tenantid}
  std::vector<std::string> tenant_allowlist_;
  std::string tenant_id_;
  std::vector<std::string> audiences_;
  std::vector<std::string> accepted_versions_;
  std::vector<std::string> required_scopes_;
  std::chrono::seconds leeway_;
  bool allow_app_only_;
};

}  // namespace deputy::auth
