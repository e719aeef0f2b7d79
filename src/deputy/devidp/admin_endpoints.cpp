#include "deputy/devidp/admin_endpoints.hpp"

#include <boost/json.hpp>

namespace deputy::devidp {

namespace json = boost::json;
namespace http = boost::beast::http;

namespace {

HttpAnswer text(unsigned status, std::string body) {
  return {.status = status, .content_type = "text/plain; charset=utf-8", .body = std::move(body)};
}

/// {"generation":n,"active_kid":"...","published_kids":["...", "..."]}
json::object keys_json(const KeyGeneration& generation) {
  json::array kids;
  for (const auto& key : generation.keys) kids.emplace_back(key.kid);
  return {{"generation", generation.number},
          {"active_kid", generation.keys.front().kid},
          {"published_kids", kids}};
}

}  // namespace

HttpAnswer admin_request(const IdentityProvider& provider, http::verb method, std::string_view path) {
  if (path == "/_dev/stats") {
    if (method == http::verb::get) {
      auto body = provider.stats().snapshot().to_json();
      body["signing_keys"] = keys_json(*provider.keys().current());
      return {.body = json::serialize(body)};
    }
    if (method == http::verb::delete_) {
      provider.stats().reset();
      return {.status = 204};
    }
    return text(405, "Method not allowed\n");
  }
  if (path == "/_dev/keys/rotate") {
    if (method != http::verb::post) return text(405, "Method not allowed\n");
    auto rotated = provider.rotate_signing_key();
    if (!rotated) return text(500, rotated.error().message + "\n");
    return {.body = json::serialize(keys_json(**rotated))};
  }
  return text(404, "Not found\n");
}

}  // namespace deputy::devidp
