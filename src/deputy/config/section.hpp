#pragma once
// Reading deputy.yaml, shared by the files of config/: errors that name the file and the key, and a map
// reader that refuses unknown keys. Internal to config/.

#include "deputy/config/config.hpp"

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace deputy::config::detail {

/// Error with where it happened: "deputy.yaml: auth.client_id: must be set".
[[noreturn]] inline void fail(const std::string& source, std::string_view key, std::string_view reason) {
  throw ConfigError(fmt::format("{}: {}: {}", source, key, reason));
}

inline bool parse_bool(const std::string& source, std::string_view key, std::string_view text) {
  std::string lower(text);
  std::ranges::transform(lower, lower.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (lower == "true" || lower == "1" || lower == "yes" || lower == "on") return true;
  if (lower == "false" || lower == "0" || lower == "no" || lower == "off" || lower.empty()) return false;
  fail(source, key, fmt::format("'{}' is not a boolean", text));
}

/// Whether a key was given at all (a missing key and `key:` with nothing are the same: absent).
inline bool present(const YAML::Node& node) { return node.IsDefined() && !node.IsNull(); }

/// Reads keys of a YAML map, refusing unknown ones: a typo must not silently switch a check off.
class Section {
 public:
  Section(const std::string& source, std::string prefix, const YAML::Node& node, std::set<std::string> known)
      : source_(source), prefix_(std::move(prefix)), node_(node) {
    if (!present(node_)) return;
    if (!node_.IsMap()) fail(source_, prefix_.empty() ? "(top level)" : prefix_, "must be a mapping");
    for (const auto& entry : node_) {
      if (!entry.first.IsScalar()) fail(source_, prefix_.empty() ? "(top level)" : prefix_, "keys must be names");
      const auto key = entry.first.as<std::string>();
      if (!known.contains(key)) fail(source_, prefix_.empty() ? key : prefix_ + "." + key, "unknown key");
    }
  }

  template <typename T>
  void read(const char* key, T& out) const {
    if (!present(node_) || !present(node_[key])) return;
    try {
      out = node_[key].as<T>();
    } catch (const YAML::Exception&) {
      fail(source_, name(key), "has the wrong type");
    }
  }
  void read_bool(const char* key, bool& out) const {
    if (!present(node_) || !present(node_[key])) return;
    if (!node_[key].IsScalar()) fail(source_, name(key), "must be true or false");
    out = parse_bool(source_, name(key), node_[key].as<std::string>());
  }
  void read_list(const char* key, std::vector<std::string>& out) const {
    if (!present(node_) || !present(node_[key])) return;
    const auto& value = node_[key];
    try {
      if (value.IsScalar()) {
        out = {value.as<std::string>()};
        return;
      }
      if (value.IsSequence()) {
        out.clear();
        for (const auto& item : value) out.push_back(item.as<std::string>());
        return;
      }
    } catch (const YAML::Exception&) {
      // falls through to the error that names the key
    }
    fail(source_, name(key), "must be a list of strings");
  }
  [[nodiscard]] YAML::Node child(const char* key) const {
    return present(node_) ? node_[key] : YAML::Node(YAML::NodeType::Undefined);
  }
  [[nodiscard]] std::string name(const char* key) const { return prefix_ + "." + key; }

 private:
  const std::string& source_;
  std::string prefix_;
  YAML::Node node_;
};

inline std::string trim(std::string_view text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front()))) text.remove_prefix(1);
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.remove_suffix(1);
  return std::string(text);
}

/// The Tier-2 sections (exchange, outbound, graph, tools, audit) and their environment variables; after auth
/// (defaults come from it). In downstream.cpp.
void read_downstream(const std::string& source, const Section& top, const Environment& environment, Config& config);

}  // namespace deputy::config::detail
