#include "deputy/devidp/directory_yaml.hpp"

#include <fmt/format.h>
#include <openssl/evp.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <fstream>
#include <set>
#include <sstream>

namespace deputy::devidp {

namespace {

/// Error with where it happened: "dev-directory.yaml: applications.server.client_id: must be a GUID".
[[noreturn]] void fail(const std::string& source, std::string_view key, std::string_view reason) {
  throw DirectoryError(fmt::format("{}: {}: {}", source, key, reason));
}

bool present(const YAML::Node& node) { return node.IsDefined() && !node.IsNull(); }

/// One YAML mapping, read strictly: unknown keys are refused (a typo must not silently drop a condition or a
/// consent), values are checked for type, and every message names the full key.
class Node {
 public:
  Node(const std::string& source, std::string path, YAML::Node node)
      : source_(source), path_(std::move(path)), node_(std::move(node)) {}

  /// Requires a mapping whose keys are all in `known`.
  void expect_map(std::initializer_list<std::string_view> known) const {
    if (!node_.IsMap()) fail(source_, path_, "must be a mapping");
    for (const auto& entry : node_) {
      const auto key = entry.first.as<std::string>();
      if (std::ranges::find(known, key) == known.end()) fail(source_, join(key), "unknown key");
    }
  }
  [[nodiscard]] bool has(const char* key) const { return node_.IsMap() && present(node_[key]); }
  [[nodiscard]] Node child(const std::string& key) const { return {source_, join(key), node_[key]}; }

  [[nodiscard]] std::string string(const char* key) const {
    if (!has(key)) fail(source_, join(key), "must be set");
    return scalar(child(key));
  }
  [[nodiscard]] std::string string_or(const char* key, std::string fallback) const {
    return has(key) ? scalar(child(key)) : std::move(fallback);
  }
  [[nodiscard]] std::string guid(const char* key) const {
    auto value = string(key);
    if (!is_guid(value)) fail(source_, join(key), "must be a GUID (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)");
    return value;
  }
  [[nodiscard]] std::string guid_or(const char* key, std::string_view seed) const {
    return has(key) ? guid(key) : derived_guid(seed);
  }
  [[nodiscard]] std::vector<std::string> list(const char* key) const {
    if (!has(key)) return {};
    return strings(child(key));
  }
  [[nodiscard]] bool boolean(const char* key, bool fallback) const {
    if (!has(key)) return fallback;
    try {
      return node_[key].as<bool>();
    } catch (const YAML::Exception&) {
      fail(source_, join(key), "must be true or false");
    }
  }
  [[nodiscard]] int integer(const char* key, int fallback) const {
    if (!has(key)) return fallback;
    try {
      return node_[key].as<int>();
    } catch (const YAML::Exception&) {
      fail(source_, join(key), "must be a number");
    }
  }

  /// The entries of a mapping in document order, as (key, node).
  [[nodiscard]] std::vector<std::pair<std::string, Node>> entries() const {
    if (!present(node_)) return {};
    if (!node_.IsMap()) fail(source_, path_, "must be a mapping");
    std::vector<std::pair<std::string, Node>> out;
    for (const auto& entry : node_) {
      auto key = entry.first.as<std::string>();
      out.emplace_back(key, Node(source_, join(key), entry.second));
    }
    return out;
  }
  /// The items of a sequence.
  [[nodiscard]] std::vector<Node> items() const {
    if (!present(node_)) return {};
    if (!node_.IsSequence()) fail(source_, path_, "must be a list");
    std::vector<Node> out;
    for (std::size_t i = 0; i < node_.size(); ++i) {
      out.emplace_back(source_, fmt::format("{}[{}]", path_, i), node_[i]);
    }
    return out;
  }

  [[nodiscard]] static std::string scalar(const Node& node) {
    if (!node.node_.IsScalar()) fail(node.source_, node.path_, "must be a string");
    auto value = node.node_.as<std::string>();
    if (value.empty()) fail(node.source_, node.path_, "must not be empty");
    return value;
  }
  /// A list of strings, or one string standing for a list of one.
  [[nodiscard]] static std::vector<std::string> strings(const Node& node) {
    if (node.node_.IsScalar()) return {scalar(node)};
    std::vector<std::string> out;
    for (const auto& item : node.items()) out.push_back(scalar(item));
    return out;
  }
  [[nodiscard]] bool is_scalar() const { return node_.IsScalar(); }
  [[nodiscard]] const std::string& path() const { return path_; }
  [[nodiscard]] std::string join(std::string_view key) const {
    return path_.empty() ? std::string(key) : fmt::format("{}.{}", path_, key);
  }
  [[nodiscard]] const std::string& source() const { return source_; }

 private:
  const std::string& source_;
  std::string path_;
  YAML::Node node_;
};

void parse_tenant(const Node& node, Tenant& tenant) {
  node.expect_map({"id", "domain", "display_name"});
  tenant.id = node.guid("id");
  tenant.domain = node.string("domain");
  tenant.display_name = node.string_or("display_name", tenant.domain);
}

void parse_permissions(const Node& node, std::vector<RequiredPermissions>& out) {
  for (const auto& [resource, entry] : node.entries()) {
    entry.expect_map({"delegated", "application"});
    out.push_back({.resource = resource, .delegated = entry.list("delegated"), .application = entry.list("application")});
  }
}

Application parse_application(const std::string& key, const Node& node) {
  node.expect_map({"display_name", "client_id", "object_id", "identifier_uris", "access_token_version", "scopes",
                   "app_roles", "authorized_client_apps", "secrets", "certificates", "redirect_uris",
                   "public_client", "required_permissions", "application_permissions"});
  Application app;
  app.key = key;
  app.display_name = node.string_or("display_name", key);
  app.client_id = node.guid("client_id");
  app.object_id = node.guid_or("object_id", "service-principal:" + app.client_id);
  app.identifier_uris = node.list("identifier_uris");
  app.access_token_version = node.integer("access_token_version", 2);
  if (app.access_token_version != 1 && app.access_token_version != 2) {
    fail(node.source(), node.join("access_token_version"), "must be 1 or 2");
  }
  for (const auto& item : node.child("scopes").items()) {
    Scope scope;
    if (item.is_scalar()) {
      scope.value = Node::scalar(item);
    } else {
      item.expect_map({"value", "id"});
      scope.value = item.string("value");
      scope.id = item.has("id") ? item.guid("id") : std::string();
    }
    if (scope.id.empty()) scope.id = derived_guid("scope:" + app.client_id + "/" + scope.value);
    app.scopes.push_back(std::move(scope));
  }
  for (const auto& item : node.child("app_roles").items()) {
    item.expect_map({"value", "id", "member_types"});
    AppRole role;
    role.value = item.string("value");
    role.id = item.guid_or("id", "role:" + app.client_id + "/" + role.value);
    const auto types = item.has("member_types") ? item.list("member_types") : std::vector<std::string>{"User"};
    role.for_users = std::ranges::find(types, "User") != types.end();
    role.for_applications = std::ranges::find(types, "Application") != types.end();
    for (const auto& type : types) {
      if (type != "User" && type != "Application") {
        fail(item.source(), item.join("member_types"), "must list User and/or Application");
      }
    }
    app.app_roles.push_back(std::move(role));
  }
  // Exposing scopes needs an Application ID URI; Entra's portal proposes api://<client id>.
  if (app.identifier_uris.empty() && !app.scopes.empty()) app.identifier_uris = {"api://" + app.client_id};
  app.authorized_client_apps = node.list("authorized_client_apps");
  app.secrets = node.list("secrets");
  for (const auto& source : node.list("certificates")) app.certificates.push_back({.source = source});
  app.redirect_uris = node.list("redirect_uris");
  app.public_client = node.boolean("public_client", false);
  parse_permissions(node.child("required_permissions"), app.required_permissions);
  for (const auto& [resource, roles] : node.child("application_permissions").entries()) {
    app.granted_application_permissions.push_back({.resource = resource, .application = Node::strings(roles)});
  }
  return app;
}

User parse_user(const std::string& key, const Node& node) {
  node.expect_map({"object_id", "upn", "display_name", "password", "mfa_code", "roles", "conditions"});
  User user;
  user.key = key;
  user.object_id = node.guid("object_id");
  user.upn = node.string("upn");
  if (user.upn.find('@') == std::string::npos) fail(node.source(), node.join("upn"), "must be name@domain");
  user.display_name = node.string_or("display_name", key);
  user.password = node.string("password");
  user.mfa_code = node.string_or("mfa_code", std::string(kDefaultMfaCode));
  if (user.mfa_code.empty()) fail(node.source(), node.join("mfa_code"), "must not be empty");
  for (const auto& [resource, roles] : node.child("roles").entries()) {
    for (auto& role : Node::strings(roles)) user.roles.push_back({.resource = resource, .role = std::move(role)});
  }
  for (const auto& item : node.child("conditions").items()) {
    item.expect_map({"resource", "require_mfa", "policy_id"});
    Condition condition;
    condition.resource = item.string("resource");
    condition.require_mfa = item.boolean("require_mfa", false);
    condition.policy_id = item.guid_or("policy_id", "policy:" + user.object_id + "/" + condition.resource);
    user.conditions.push_back(std::move(condition));
  }
  return user;
}

Consent parse_consent(const Node& node) {
  node.expect_map({"client", "resource", "scopes", "principals"});
  Consent consent;
  consent.client = node.string("client");
  consent.resource = node.string("resource");
  consent.scopes = node.list("scopes");
  if (consent.scopes.empty()) fail(node.source(), node.join("scopes"), "must list at least one scope");
  const auto principals = node.has("principals") ? node.list("principals") : std::vector<std::string>{"all"};
  consent.all_principals = principals == std::vector<std::string>{"all"};
  if (!consent.all_principals) consent.users = principals;
  return consent;
}

Site parse_site(const Node& node) {
  node.expect_map({"hostname", "path", "id", "display_name", "description", "created", "readers"});
  Site site;
  site.hostname = node.string("hostname");
  site.path = node.string("path");
  site.display_name = node.string_or("display_name", site.path);
  site.description = node.string_or("description", "");
  site.created = node.string_or("created", std::string(kDefaultSiteCreated));
  // Graph's site id: hostname, site collection id, web id.
  site.id = node.string_or("id", fmt::format("{},{},{}", site.hostname, derived_guid("site:" + site.hostname + "/" + site.path),
                                             derived_guid("web:" + site.hostname + "/" + site.path)));
  site.readers = node.list("readers");
  return site;
}

/// References between entries, checked once everything is read.
void check_references(const Directory& directory, const std::string& source) {
  auto app_named = [&](const std::string& key, const std::string& where) -> const Application& {
    const auto* app = directory.find_app(key);
    if (app == nullptr) fail(source, where, fmt::format("'{}' is not an application of this directory", key));
    return *app;
  };
  auto user_named = [&](const std::string& key, const std::string& where) {
    if (std::ranges::find(directory.users, key, &User::key) == directory.users.end()) {
      fail(source, where, fmt::format("'{}' is not a user of this directory", key));
    }
  };
  std::set<std::string> client_ids;
  for (const auto& app : directory.applications) {
    const std::string at = "applications." + app.key;
    if (!client_ids.insert(app.client_id).second) fail(source, at + ".client_id", "is used by another application");
    for (const auto& key : app.authorized_client_apps) app_named(key, at + ".authorized_client_apps");
    for (const auto& permission : app.required_permissions) {
      const auto& resource = app_named(permission.resource, at + ".required_permissions");
      for (const auto& scope : permission.delegated) {
        if (resource.find_scope(scope) == nullptr) {
          fail(source, at + ".required_permissions." + permission.resource,
               fmt::format("'{}' is not a scope of {}", scope, resource.key));
        }
      }
      for (const auto& role : permission.application) {
        if (resource.find_role(role) == nullptr) {
          fail(source, at + ".required_permissions." + permission.resource,
               fmt::format("'{}' is not an app role of {}", role, resource.key));
        }
      }
    }
    for (const auto& grant : app.granted_application_permissions) {
      const auto& resource = app_named(grant.resource, at + ".application_permissions");
      for (const auto& value : grant.application) {
        const auto* role = resource.find_role(value);
        if (role == nullptr || !role->for_applications) {
          fail(source, at + ".application_permissions." + grant.resource,
               fmt::format("'{}' is not an app role of {} that applications may hold", value, resource.key));
        }
      }
    }
    for (const auto& certificate : app.certificates) {
      if (certificate.source.empty()) fail(source, at + ".certificates", "must be 'generated' or a PEM file");
    }
  }
  std::set<std::string> upns;
  std::set<std::string> oids;
  for (const auto& user : directory.users) {
    const std::string at = "users." + user.key;
    std::string upn = user.upn;
    std::ranges::transform(upn, upn.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (!upns.insert(upn).second) fail(source, at + ".upn", "is used by another user");
    if (!oids.insert(user.object_id).second) fail(source, at + ".object_id", "is used by another user");
    for (const auto& assignment : user.roles) {
      const auto& resource = app_named(assignment.resource, at + ".roles");
      const auto* role = resource.find_role(assignment.role);
      if (role == nullptr || !role->for_users) {
        fail(source, at + ".roles." + assignment.resource,
             fmt::format("'{}' is not an app role of {} that users may hold", assignment.role, resource.key));
      }
    }
    for (const auto& condition : user.conditions) app_named(condition.resource, at + ".conditions");
  }
  for (std::size_t i = 0; i < directory.consents.size(); ++i) {
    const auto& consent = directory.consents[i];
    const std::string at = fmt::format("consents[{}]", i);
    app_named(consent.client, at + ".client");
    const auto& resource = app_named(consent.resource, at + ".resource");
    for (const auto& scope : consent.scopes) {
      if (resource.find_scope(scope) == nullptr) {
        fail(source, at + ".scopes", fmt::format("'{}' is not a scope of {}", scope, resource.key));
      }
    }
    for (const auto& user : consent.users) user_named(user, at + ".principals");
  }
  for (std::size_t i = 0; i < directory.sites.size(); ++i) {
    for (const auto& reader : directory.sites[i].readers) user_named(reader, fmt::format("graph.sites[{}].readers", i));
  }
}

}  // namespace

bool is_guid(std::string_view text) {
  if (text.size() != 36) return false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash != (text[i] == '-')) return false;
    if (!dash && std::isxdigit(static_cast<unsigned char>(text[i])) == 0) return false;
  }
  return true;
}

std::string derived_guid(std::string_view seed) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int length = 0;
  EVP_Digest(seed.data(), seed.size(), digest.data(), &length, EVP_sha256(), nullptr);
  digest[6] = static_cast<unsigned char>((digest[6] & 0x0F) | 0x40);  // version 4 layout
  digest[8] = static_cast<unsigned char>((digest[8] & 0x3F) | 0x80);  // RFC 4122 variant
  std::string out;
  for (std::size_t i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out += '-';
    out += fmt::format("{:02x}", digest[i]);
  }
  return out;
}

Directory parse_directory(std::string_view yaml, const std::string& source) {
  YAML::Node root;
  try {
    root = YAML::Load(std::string(yaml));
  } catch (const YAML::Exception& e) {
    throw DirectoryError(fmt::format("{}: line {}: {}", source, e.mark.line + 1, e.msg));
  }
  const Node top(source, "", root);
  if (!present(root)) throw DirectoryError(source + ": is empty");
  top.expect_map({"tenant", "applications", "users", "consents", "graph"});
  Directory directory;
  if (!top.has("tenant")) fail(source, "tenant", "must be set");
  parse_tenant(top.child("tenant"), directory.tenant);
  for (const auto& [key, node] : top.child("applications").entries()) {
    directory.applications.push_back(parse_application(key, node));
  }
  for (const auto& [key, node] : top.child("users").entries()) directory.users.push_back(parse_user(key, node));
  for (const auto& node : top.child("consents").items()) directory.consents.push_back(parse_consent(node));
  if (top.has("graph")) {
    const auto graph = top.child("graph");
    graph.expect_map({"sites"});
    for (const auto& node : graph.child("sites").items()) directory.sites.push_back(parse_site(node));
  }
  check_references(directory, source);
  return directory;
}

Directory load_directory(const std::string& path) {
  std::ifstream file(path);
  if (!file) throw DirectoryError(path + ": cannot be read");
  std::stringstream text;
  text << file.rdbuf();
  return parse_directory(text.str(), path);
}

Directory default_directory() { return parse_directory(default_directory_yaml(), "(built-in dev-directory.yaml)"); }

}  // namespace deputy::devidp
