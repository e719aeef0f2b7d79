#include "deputy/devidp/directory.hpp"

#include "deputy/devidp/runtime_consents.hpp"

#include <algorithm>
#include <cctype>

namespace deputy::devidp {

namespace {

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::ranges::equal(a, b, [](unsigned char x, unsigned char y) {
           return std::tolower(x) == std::tolower(y);
         });
}

std::string_view without_trailing_slash(std::string_view text) {
  while (text.size() > 1 && text.back() == '/') text.remove_suffix(1);
  return text;
}

bool contains(const std::vector<std::string>& values, std::string_view wanted) {
  return std::ranges::find(values, wanted) != values.end();
}

void add_unique(std::vector<std::string>& out, std::string_view value) {
  if (!contains(out, value)) out.emplace_back(value);
}

}  // namespace

const Scope* Application::find_scope(std::string_view value) const {
  // Scope and role values are matched case-insensitively by Entra.
  auto it = std::ranges::find_if(scopes, [&](const Scope& scope) { return iequals(scope.value, value); });
  return it == scopes.end() ? nullptr : &*it;
}

const AppRole* Application::find_role(std::string_view value) const {
  auto it = std::ranges::find_if(app_roles, [&](const AppRole& role) { return iequals(role.value, value); });
  return it == app_roles.end() ? nullptr : &*it;
}

const Application* Directory::find_app(std::string_view key) const {
  auto it = std::ranges::find(applications, key, &Application::key);
  return it == applications.end() ? nullptr : &*it;
}

const Application* Directory::find_app_by_client_id(std::string_view client_id) const {
  auto it = std::ranges::find_if(applications,
                                 [&](const Application& app) { return iequals(app.client_id, client_id); });
  return it == applications.end() ? nullptr : &*it;
}

const Application* Directory::find_resource(std::string_view identifier) const {
  identifier = without_trailing_slash(identifier);
  for (const auto& app : applications) {
    if (iequals(app.client_id, identifier)) return &app;
    for (const auto& uri : app.identifier_uris) {
      if (iequals(without_trailing_slash(uri), identifier)) return &app;
    }
  }
  return nullptr;
}

const User* Directory::find_user(std::string_view name) const {
  auto it = std::ranges::find_if(users, [&](const User& user) {
    return user.key == name || iequals(user.upn, name) || iequals(user.object_id, name);
  });
  return it == users.end() ? nullptr : &*it;
}

const User* Directory::find_user_by_oid(std::string_view object_id) const {
  auto it = std::ranges::find_if(users, [&](const User& user) { return iequals(user.object_id, object_id); });
  return it == users.end() ? nullptr : &*it;
}

bool Directory::names_tenant(std::string_view segment) const {
  return iequals(segment, tenant.id) || iequals(segment, tenant.domain) || iequals(segment, "common") ||
         iequals(segment, "organizations");
}

std::vector<std::string> Directory::consented_scopes(const Application& client, const Application& resource,
                                                     const User& user) const {
  std::vector<std::string> out;
  // Pre-authorization (knownClientApplications / preAuthorizedApplications) stands for consent to every
  // scope the resource exposes.
  if (contains(resource.authorized_client_apps, client.key)) {
    for (const auto& scope : resource.scopes) add_unique(out, scope.value);
  }
  for (const auto& consent : consents) {
    if (consent.client != client.key || consent.resource != resource.key) continue;
    if (!consent.all_principals && !contains(consent.users, user.key)) continue;
    for (const auto& scope : consent.scopes) add_unique(out, scope);
  }
  if (runtime_consents) {
    for (const auto& scope : runtime_consents->scopes(client.key, resource.key, user.key)) add_unique(out, scope);
  }
  return out;
}

std::vector<std::string> Directory::user_roles(const User& user, const Application& resource) const {
  std::vector<std::string> out;
  for (const auto& assignment : user.roles) {
    if (assignment.resource == resource.key) add_unique(out, assignment.role);
  }
  return out;
}

std::vector<std::string> Directory::application_roles(const Application& client,
                                                      const Application& resource) const {
  std::vector<std::string> out;
  for (const auto& grant : client.granted_application_permissions) {
    if (grant.resource != resource.key) continue;
    for (const auto& role : grant.application) add_unique(out, role);
  }
  return out;
}

const Condition* Directory::condition(const User& user, const Application& resource) const {
  auto it = std::ranges::find(user.conditions, resource.key, &Condition::resource);
  return it == user.conditions.end() ? nullptr : &*it;
}

}  // namespace deputy::devidp
