#include "deputy/obo/error.hpp"

#include "deputy/net/percent_encoding.hpp"

#include <fmt/format.h>

namespace deputy::obo {

std::string_view to_string(Error error) {
  switch (error) {
    case Error::interaction_required:
      return "interaction_required";
    case Error::consent_required:
      return "consent_required";
    case Error::invalid_grant:
      return "invalid_grant";
    case Error::invalid_client:
      return "invalid_client";
    case Error::invalid_scope:
      return "invalid_scope";
    case Error::invalid_request:
      return "invalid_request";
    case Error::unavailable:
      return "unavailable";
    case Error::malformed_response:
      return "malformed_response";
    case Error::credential_unavailable:
      return "credential_unavailable";
  }
  return "unknown";
}

std::string safe_description(std::string_view text) {
  // Entra: "AADSTS65001: The user or administrator has not consented…\r\nTrace ID: …\r\nCorrelation ID: …".
  // Only the first line is about the error; the ids are for Microsoft support and our debug logs at most.
  if (const auto end = text.find_first_of("\r\n"); end != std::string_view::npos) text = text.substr(0, end);
  std::string out;
  out.reserve(std::min(text.size(), kMaxDescriptionLength));
  for (const char c : text) {
    if (out.size() >= kMaxDescriptionLength) break;
    const auto byte = static_cast<unsigned char>(c);
    if (byte < 0x20 || byte == 0x7f)
      continue;  // a log or terminal must not be steered by the provider's text
    out.push_back(c);
  }
  if (out.size() >= kMaxDescriptionLength) {
    // Cut at a character boundary: drop a UTF-8 sequence the limit split (continuation bytes are 10xxxxxx).
    std::size_t lead = out.size();
    while (lead > 0 && (static_cast<unsigned char>(out[lead - 1]) & 0xC0) == 0x80) --lead;
    if (lead > 0 && static_cast<unsigned char>(out[lead - 1]) >= 0xC0) {
      const auto first = static_cast<unsigned char>(out[lead - 1]);
      const std::size_t length = first >= 0xF0 ? 4 : first >= 0xE0 ? 3 : 2;
      if (out.size() - (lead - 1) < length) out.resize(lead - 1);
    }
  }
  return out;
}

std::string admin_consent_url(std::string_view authority, std::string_view tenant, std::string_view client_id,
                              const std::vector<std::string>& scopes) {
  while (authority.ends_with('/')) authority.remove_suffix(1);
  std::string scope;
  for (const auto& item : scopes) {
    if (!scope.empty()) scope += ' ';
    scope += item;
  }
  return fmt::format("{}/{}/v2.0/adminconsent?client_id={}&scope={}", authority, net::percent_encode(tenant),
                     net::percent_encode(client_id), net::percent_encode(scope));
}

}  // namespace deputy::obo
