#include "deputy/devidp/own_token_validator.hpp"

namespace deputy::devidp {

namespace {

/// The validator only ever verifies against the key set it is handed (our own keys); it never fetches.
class NoFetch final : public auth::KeyFetcher {
 public:
  boost::asio::awaitable<std::expected<std::string, std::string>> fetch() override {
    co_return std::unexpected(std::string("the identity provider verifies with its own keys"));
  }
};

}  // namespace

OwnTokenValidator::OwnTokenValidator(auth::ValidatorOptions options, const SigningKeys& keys,
                                     auth::TokenValidator::Now now)
    : options_(std::move(options)), keys_(keys), now_(std::move(now)) {}

OwnTokenValidator::Bound OwnTokenValidator::bound() const {
  auto keys = keys_.current();
  const std::scoped_lock lock(mutex_);
  // A reader holding an older snapshot than the bound one uses the newer: generations only move forward.
  if (bound_.keys == nullptr || bound_.keys->number < keys->number) {
    bound_.keys = std::move(keys);
    bound_.validator = std::make_shared<auth::TokenValidator>(options_, std::make_shared<NoFetch>(), now_);
  }
  return bound_;
}

std::expected<std::shared_ptr<const auth::Principal>, auth::Error> OwnTokenValidator::verify(
    std::string_view token) const {
  const auto [keys, validator] = bound();
  return validator->verify(token, keys->verification);
}

}  // namespace deputy::devidp
