#include "deputy/client/token_cache.hpp"

#include "deputy/client/authorization_request.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>
#include <boost/json.hpp>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>

namespace deputy::client {

namespace json = boost::json;
namespace fs = std::filesystem;

namespace {

constexpr std::string_view kSections[] = {"AccessToken", "RefreshToken", "IdToken", "Account", "AppMetadata"};

std::string lower(std::string text) {
  std::ranges::transform(text, text.begin(),
                         [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return text;
}

/// MSAL's key: the parts joined with '-', lowercased.
std::string key(std::initializer_list<std::string_view> parts) {
  std::string out;
  bool first = true;
  for (auto part : parts) {
    if (!first) out += '-';
    first = false;
    out += part;
  }
  return lower(std::move(out));
}

std::string seconds(Clock::time_point time) {
  return std::to_string(std::chrono::duration_cast<std::chrono::seconds>(time.time_since_epoch()).count());
}

std::string_view text(const json::object& object, std::string_view name) {
  const auto* value = object.if_contains(name);
  return value != nullptr && value->is_string() ? std::string_view(value->get_string()) : std::string_view();
}

std::set<std::string> scope_set(std::string_view target) {
  std::set<std::string> out;
  std::size_t at = 0;
  while (at < target.size()) {
    auto end = target.find(' ', at);
    if (end == std::string_view::npos) end = target.size();
    if (end > at) out.insert(lower(std::string(target.substr(at, end - at))));
    at = end + 1;
  }
  return out;
}

json::object& section(json::object& document, std::string_view name) {
  auto& value = document[name];
  if (!value.is_object()) value = json::object();
  return value.as_object();
}

Error cache_error(const fs::path& path, std::string_view what) {
  return {ErrorCode::kCache, fmt::format("token cache {}: {}", path.string(), what)};
}

}  // namespace

bool needs_renewal(Clock::time_point expires_on, Clock::time_point now) {
  return expires_on - now < kRenewBefore;
}

std::expected<void, Error> TokenCache::load() {
  document_ = json::object();
  std::error_code ec;
  if (!fs::exists(path_, ec)) return {};
  std::ifstream file(path_, std::ios::binary);
  if (!file) return std::unexpected(cache_error(path_, "cannot be read"));
  struct stat info {};
  if (::stat(path_.c_str(), &info) == 0 && (info.st_mode & 077) != 0) {
    spdlog::warn("token cache {} is readable by others; it is rewritten 0600 on the next save",
                 path_.string());
  }
  std::stringstream content;
  content << file.rdbuf();
  boost::system::error_code parse_error;
  auto parsed = json::parse(content.str(), parse_error);
  if (parse_error || !parsed.is_object()) {
    spdlog::warn("token cache {} does not parse; starting with an empty cache", path_.string());
    return {};
  }
  document_ = std::move(parsed.as_object());
  return {};
}

std::expected<void, Error> TokenCache::save() const {
  std::error_code ec;
  const fs::path directory = path_.has_parent_path() ? path_.parent_path() : fs::path(".");
  if (!fs::exists(directory, ec)) {
    fs::create_directories(directory, ec);
    if (ec) return std::unexpected(cache_error(path_, "cannot create the directory: " + ec.message()));
    fs::permissions(directory, fs::perms::owner_all, ec);
  }
  // The temporary name is unpredictable and created exclusively: nobody can have prepared a file or link
  // there.
  const fs::path temporary = directory / fmt::format(".{}.{}.{}.tmp", path_.filename().string(), ::getpid(),
                                                     random_secret(openssl_random, 8));
  const int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0)
    return std::unexpected(cache_error(path_, std::string("cannot create a file: ") + std::strerror(errno)));
  const std::string content = json::serialize(document_);
  std::size_t written = 0;
  bool ok = true;
  while (written < content.size()) {
    const auto n = ::write(fd, content.data() + written, content.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      ok = false;
      break;
    }
    written += static_cast<std::size_t>(n);
  }
  ok = ok && ::fsync(fd) == 0;
  ok = (::close(fd) == 0) && ok;
  if (!ok || ::rename(temporary.c_str(), path_.c_str()) != 0) {
    const std::string reason = std::strerror(errno);
    ::unlink(temporary.c_str());
    return std::unexpected(cache_error(path_, "cannot be written: " + reason));
  }
  return {};
}

void TokenCache::store(const TokenSet& tokens, Clock::time_point now) {
  const auto& account = tokens.account;
  const std::string& hai = account.home_account_id;
  const std::string& env = account.environment;
  if (!tokens.access_token.empty()) {
    auto& access = section(document_, "AccessToken");
    // One access token per account, client and scopes: a new one replaces any older one whose scopes overlap.
    const auto wanted = scope_set(tokens.target);
    for (auto it = access.begin(); it != access.end();) {
      const auto* entry = it->value().if_object();
      bool same = entry != nullptr && text(*entry, "home_account_id") == hai &&
                  text(*entry, "environment") == env &&
                  lower(std::string(text(*entry, "client_id"))) == lower(tokens.client_id);
      if (same) {
        const auto have = scope_set(text(*entry, "target"));
        same = std::ranges::any_of(have, [&](const std::string& scope) { return wanted.contains(scope); });
      }
      it = same ? access.erase(it) : std::next(it);
    }
    json::object entry;
    entry["credential_type"] = "AccessToken";
    entry["secret"] = tokens.access_token;
    entry["home_account_id"] = hai;
    entry["environment"] = env;
    entry["client_id"] = tokens.client_id;
    entry["target"] = tokens.target;
    entry["realm"] = account.realm;
    entry["token_type"] = "Bearer";
    entry["cached_at"] = seconds(now);
    entry["expires_on"] = seconds(tokens.expires_on);
    entry["extended_expires_on"] = seconds(tokens.expires_on);
    access[key({hai, env, "accesstoken", tokens.client_id, account.realm, tokens.target})] = std::move(entry);
  }
  if (!tokens.refresh_token.empty()) {
    json::object entry;
    entry["credential_type"] = "RefreshToken";
    entry["secret"] = tokens.refresh_token;
    entry["home_account_id"] = hai;
    entry["environment"] = env;
    entry["client_id"] = tokens.client_id;
    entry["target"] = tokens.target;
    entry["last_modification_time"] = seconds(now);
    // One refresh token per account and client (it is cross-tenant and not bound to scopes): the new one
    // replaces any other, whatever target it was keyed under.
    auto& refresh = section(document_, "RefreshToken");
    for (auto it = refresh.begin(); it != refresh.end();) {
      const auto* old = it->value().if_object();
      const bool same = old != nullptr && text(*old, "home_account_id") == hai &&
                        text(*old, "environment") == env &&
                        lower(std::string(text(*old, "client_id"))) == lower(tokens.client_id);
      it = same ? refresh.erase(it) : std::next(it);
    }
    refresh[key({hai, env, "refreshtoken", tokens.client_id, "", tokens.target})] = std::move(entry);
  }
  if (!tokens.id_token.empty()) {
    json::object entry;
    entry["credential_type"] = "IdToken";
    entry["secret"] = tokens.id_token;
    entry["home_account_id"] = hai;
    entry["environment"] = env;
    entry["realm"] = account.realm;
    entry["client_id"] = tokens.client_id;
    section(document_, "IdToken")[key({hai, env, "idtoken", tokens.client_id, account.realm, ""})] =
        std::move(entry);
  }
  json::object entry;
  entry["home_account_id"] = hai;
  entry["environment"] = env;
  entry["realm"] = account.realm;
  entry["local_account_id"] = account.local_account_id;
  entry["username"] = account.username;
  entry["name"] = account.name;
  entry["authority_type"] = "MSSTS";
  section(document_, "Account")[key({hai, env, account.realm})] = std::move(entry);
  json::object metadata;
  metadata["client_id"] = tokens.client_id;
  metadata["environment"] = env;
  section(document_, "AppMetadata")[lower(fmt::format("appmetadata-{}-{}", env, tokens.client_id))] =
      std::move(metadata);
}

std::vector<Account> TokenCache::accounts(std::string_view environment, std::string_view client_id) const {
  std::vector<Account> out;
  const auto* accounts = document_.if_contains("Account");
  if (accounts == nullptr || !accounts->is_object()) return out;
  for (const auto& [name, value] : accounts->get_object()) {
    const auto* entry = value.if_object();
    if (entry == nullptr ||
        lower(std::string(text(*entry, "environment"))) != lower(std::string(environment)))
      continue;
    Account account{.home_account_id = std::string(text(*entry, "home_account_id")),
                    .environment = std::string(text(*entry, "environment")),
                    .realm = std::string(text(*entry, "realm")),
                    .local_account_id = std::string(text(*entry, "local_account_id")),
                    .username = std::string(text(*entry, "username")),
                    .name = std::string(text(*entry, "name"))};
    // An account is this client's when it holds one of its tokens.
    bool has_token = false;
    for (std::string_view kind : {"AccessToken", "RefreshToken"}) {
      const auto* tokens = document_.if_contains(kind);
      if (tokens == nullptr || !tokens->is_object()) continue;
      for (const auto& [token_key, token] : tokens->get_object()) {
        const auto* t = token.if_object();
        if (t != nullptr && text(*t, "home_account_id") == account.home_account_id &&
            lower(std::string(text(*t, "client_id"))) == lower(std::string(client_id))) {
          has_token = true;
        }
      }
    }
    if (has_token) out.push_back(std::move(account));
  }
  return out;
}

std::optional<CachedAccessToken> TokenCache::access_token(const Account& account, std::string_view client_id,
                                                          std::string_view target) const {
  const auto* access = document_.if_contains("AccessToken");
  if (access == nullptr || !access->is_object()) return std::nullopt;
  const auto wanted = scope_set(target);
  for (const auto& [name, value] : access->get_object()) {
    const auto* entry = value.if_object();
    if (entry == nullptr || text(*entry, "home_account_id") != account.home_account_id ||
        lower(std::string(text(*entry, "environment"))) != lower(account.environment) ||
        lower(std::string(text(*entry, "client_id"))) != lower(std::string(client_id))) {
      continue;
    }
    const auto have = scope_set(text(*entry, "target"));
    if (!std::ranges::includes(have, wanted)) continue;
    long long expires = 0;
    try {
      expires = std::stoll(std::string(text(*entry, "expires_on")));
    } catch (const std::exception&) {
      continue;  // a damaged entry is no token
    }
    return CachedAccessToken{.secret = std::string(text(*entry, "secret")),
                             .target = std::string(text(*entry, "target")),
                             .expires_on = Clock::time_point(std::chrono::seconds(expires))};
  }
  return std::nullopt;
}

std::optional<std::string> TokenCache::refresh_token(const Account& account,
                                                     std::string_view client_id) const {
  const auto* refresh = document_.if_contains("RefreshToken");
  if (refresh == nullptr || !refresh->is_object()) return std::nullopt;
  for (const auto& [name, value] : refresh->get_object()) {
    const auto* entry = value.if_object();
    if (entry != nullptr && text(*entry, "home_account_id") == account.home_account_id &&
        lower(std::string(text(*entry, "environment"))) == lower(account.environment) &&
        lower(std::string(text(*entry, "client_id"))) == lower(std::string(client_id)) &&
        !text(*entry, "secret").empty()) {
      return std::string(text(*entry, "secret"));
    }
  }
  return std::nullopt;
}

std::size_t TokenCache::remove_account(const Account& account) {
  std::size_t removed = 0;
  for (auto name : kSections) {
    auto* entries = document_.if_contains(name);
    if (entries == nullptr || !entries->is_object()) continue;
    auto& object = entries->as_object();
    for (auto it = object.begin(); it != object.end();) {
      const auto* entry = it->value().if_object();
      const bool mine = entry != nullptr && text(*entry, "home_account_id") == account.home_account_id &&
                        lower(std::string(text(*entry, "environment"))) == lower(account.environment);
      if (mine) ++removed;
      it = mine ? object.erase(it) : std::next(it);
    }
  }
  return removed;
}

}  // namespace deputy::client
