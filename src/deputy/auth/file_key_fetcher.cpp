#include "deputy/auth/file_key_fetcher.hpp"

#include <fstream>
#include <sstream>

namespace deputy::auth {

boost::asio::awaitable<std::expected<std::string, std::string>> FileKeyFetcher::fetch() {
  std::ifstream file(path_, std::ios::binary);
  if (!file) co_return std::unexpected("cannot read " + path_);
  std::ostringstream text;
  text << file.rdbuf();
  // The same cap as for a fetched document: a wrong path must not load a huge file.
  if (text.str().size() > kMaxJwksSize) co_return std::unexpected(path_ + " is larger than a key set can be");
  co_return text.str();
}

}  // namespace deputy::auth
