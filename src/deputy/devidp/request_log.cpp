#include "deputy/devidp/request_log.hpp"

#include "deputy/auth/jws.hpp"

#include <fmt/chrono.h>
#include <fmt/format.h>
#include <openssl/evp.h>
#include <boost/json.hpp>

#include <array>
#include <ctime>

namespace deputy::devidp {

namespace json = boost::json;

namespace {

std::string claim(const json::object& claims, std::string_view name) {
  const auto* value = claims.if_contains(name);
  return value != nullptr && value->is_string() ? std::string(value->get_string()) : std::string();
}

std::string iso8601(std::chrono::system_clock::time_point time) {
  const std::time_t seconds = std::chrono::system_clock::to_time_t(time);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  return fmt::format("{:%Y-%m-%dT%H:%M:%S}Z", utc);
}

}  // namespace

std::string sha256_hex(std::string_view bytes) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int length = 0;
  EVP_Digest(bytes.data(), bytes.size(), digest.data(), &length, EVP_sha256(), nullptr);
  std::string out;
  out.reserve(2 * length);
  for (unsigned i = 0; i < length; ++i) out += fmt::format("{:02x}", digest[i]);
  return out;
}

LoggedToken describe_token(std::string_view token, bool verified) {
  LoggedToken out{.sha256 = sha256_hex(token), .verified = verified};
  // Read only for the log: a token that does not even parse is logged by its hash alone.
  auto jws = auth::parse_jws(token, {.algorithms = auth::AlgSet::all()});
  if (!jws) return out;
  const auto& claims = jws->payload();
  out.aud = claim(claims, "aud");
  out.appid = claim(claims, "appid");
  if (out.appid.empty()) out.appid = claim(claims, "azp");
  out.uti = claim(claims, "uti");
  out.oid = claim(claims, "oid");
  out.scp = claim(claims, "scp");
  out.idtyp = claim(claims, "idtyp");
  return out;
}

json::object LoggedRequest::to_json() const {
  json::object out;
  out["sequence"] = sequence;
  out["time"] = iso8601(time);
  out["method"] = method;
  out["path"] = path;
  out["status"] = status;
  if (!error.empty()) out["error"] = error;
  if (!reason.empty()) out["reason"] = reason;
  if (token) {
    out["token"] = json::object{{"sha256", token->sha256}, {"verified", token->verified}, {"aud", token->aud},
                                {"appid", token->appid},   {"uti", token->uti},           {"oid", token->oid},
                                {"scp", token->scp},       {"idtyp", token->idtyp}};
  }
  return out;
}

void RequestLog::record(LoggedRequest entry) {
  const std::scoped_lock lock(mutex_);
  entry.sequence = next_sequence_++;
  entries_.push_back(std::move(entry));
  while (entries_.size() > kMaxLoggedRequests) {
    entries_.pop_front();
    ++dropped_;
  }
}

std::vector<LoggedRequest> RequestLog::entries() const {
  const std::scoped_lock lock(mutex_);
  return {entries_.begin(), entries_.end()};
}

void RequestLog::clear() {
  const std::scoped_lock lock(mutex_);
  entries_.clear();
}

json::object RequestLog::to_json() const {
  json::array requests;
  std::uint64_t dropped = 0;
  {
    const std::scoped_lock lock(mutex_);
    for (const auto& entry : entries_) requests.emplace_back(entry.to_json());
    dropped = dropped_;
  }
  json::object out;
  out["requests"] = std::move(requests);
  out["dropped"] = dropped;
  return out;
}

}  // namespace deputy::devidp
