#pragma once
// A JWKS read from a file: for air-gapped deployments, for tests, and for issuers whose keys are
// distributed out of band. Read on every fetch, so replacing the file rotates the keys.

#include "deputy/auth/jwks_cache.hpp"

#include <string>

namespace deputy::auth {

class FileKeyFetcher final : public KeyFetcher {
 public:
  explicit FileKeyFetcher(std::string path) : path_(std::move(path)) {}
  boost::asio::awaitable<std::expected<std::string, std::string>> fetch() override;

 private:
  std::string path_;
};

}  // namespace deputy::auth
