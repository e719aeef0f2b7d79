#pragma once
// The development identity provider's directory: one tenant, its app registrations (the MCP server, its
// client, and Microsoft Graph as a resource), users with their app-role assignments and conditions, consent
// grants, and the SharePoint sites the dev Graph serves. Read from YAML (directory_yaml.hpp); read-only once
// the provider runs, so every thread may look things up without a lock. The one exception is the consent users
// give on the consent page (runtime_consents.hpp), which the provider attaches and which locks itself.

#include "deputy/auth/jwk.hpp"

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace deputy::devidp {

class RuntimeConsents;

/// The second factor's one-time code of a user whose directory entry names none.
inline constexpr std::string_view kDefaultMfaCode = "000000";

struct Tenant {
  std::string id;            // GUID: the tid claim, the issuer's path segment
  std::string domain;        // e.g. deputy-dev.test; also accepted as the {tenant} path segment
  std::string display_name;
};

/// A delegated permission an app exposes (Entra: oauth2PermissionScopes), e.g. access_as_user.
struct Scope {
  std::string id;  // GUID
  std::string value;
};

/// An app role (Entra: appRoles), assignable to users, to applications (an application permission), or both.
struct AppRole {
  std::string id;  // GUID
  std::string value;
  bool for_users = true;
  bool for_applications = false;
};

/// A certificate credential (Entra: keyCredentials). `source` says where it comes from; the state
/// directory fills in the rest at start (a generated certificate lives there).
struct CertificateCredential {
  std::string source;  // "generated", or the path of a PEM certificate
  // Filled by the state directory:
  std::string certificate_path;
  std::string private_key_path;  // only for generated certificates
  std::string sha1_hex;          // the thumbprint as the portal and MSAL's "thumbprint" show it (uppercase hex)
  std::string x5t;               // base64url SHA-1 of the DER certificate, unpadded
  std::string x5t_s256;          // base64url SHA-256
  auth::PkeyPtr public_key;
};

/// Permissions an app asks for on a resource (Entra: requiredResourceAccess); consent is separate.
struct RequiredPermissions {
  std::string resource;                // key of the resource application
  std::vector<std::string> delegated;  // scope values
  std::vector<std::string> application;  // app role values
};

struct Application {
  std::string key;           // the name in the directory file: server, client, graph
  std::string display_name;
  std::string client_id;     // appId (GUID)
  std::string object_id;     // the service principal's object id: oid/sub of its app-only tokens
  std::vector<std::string> identifier_uris;  // api://<client id>, https://graph.microsoft.com
  int access_token_version = 2;              // requestedAccessTokenVersion: 1 (v1 tokens) or 2
  std::vector<Scope> scopes;
  std::vector<AppRole> app_roles;
  std::vector<std::string> authorized_client_apps;  // keys of apps pre-authorized for every scope
  std::vector<std::string> secrets;                 // client secrets (values; never logged)
  std::vector<CertificateCredential> certificates;
  std::vector<std::string> redirect_uris;
  bool public_client = false;
  std::vector<RequiredPermissions> required_permissions;
  /// Application permissions granted (with admin consent) to this app: app roles of other apps.
  std::vector<RequiredPermissions> granted_application_permissions;

  /// A confidential client can authenticate itself (a secret or a certificate).
  [[nodiscard]] bool confidential() const { return !secrets.empty() || !certificates.empty(); }
  /// The identifier Entra names a resource by in tokens of version 1 (aud) and in scope strings.
  [[nodiscard]] std::string primary_identifier() const {
    return identifier_uris.empty() ? client_id : identifier_uris.front();
  }
  [[nodiscard]] const Scope* find_scope(std::string_view value) const;
  [[nodiscard]] const AppRole* find_role(std::string_view value) const;
};

struct RoleAssignment {
  std::string resource;  // key of the application
  std::string role;      // app role value
};

/// A Conditional Access outcome for one user: what Entra's policies would demand for a resource.
struct Condition {
  std::string resource;   // key of the application the condition guards
  bool require_mfa = false;
  std::string policy_id;  // GUID of the policy, echoed in the claims challenge (capolids)
};

struct User {
  std::string key;           // alice
  std::string object_id;     // oid (GUID)
  std::string upn;           // alice@deputy-dev.test: upn, preferred_username
  std::string display_name;
  std::string password;      // dev only; never logged
  std::string mfa_code = std::string(kDefaultMfaCode);  // the MFA page's fixed code (dev only; never logged)
  std::vector<RoleAssignment> roles;
  std::vector<Condition> conditions;
};

/// A delegated permission grant (Entra: oauth2PermissionGrant): `client` may use `scopes` of `resource` on
/// behalf of every user (all_principals) or of the listed ones.
struct Consent {
  std::string client;    // key of the client application
  std::string resource;  // key of the resource application
  std::vector<std::string> scopes;
  bool all_principals = true;
  std::vector<std::string> users;  // keys, when not all_principals
};

/// createdDateTime of a site whose entry does not give one.
inline constexpr std::string_view kDefaultSiteCreated = "2024-01-15T08:00:00Z";

/// A SharePoint site of the dev Graph and who may read it.
struct Site {
  std::string hostname;      // deputydev.sharepoint.com
  std::string path;          // test-site (as in /sites/test-site)
  std::string id;            // hostname,siteCollectionGuid,webGuid as Graph shows it
  std::string display_name;
  std::string description;
  std::string created;               // createdDateTime, ISO 8601 (fixed, so answers are stable)
  std::vector<std::string> readers;  // user keys
};

class Directory {
 public:
  Tenant tenant;
  std::vector<Application> applications;
  std::vector<User> users;
  std::vector<Consent> consents;
  std::vector<Site> sites;
  /// Consent given on the consent page while the provider runs (set by the provider; null: none).
  std::shared_ptr<RuntimeConsents> runtime_consents;

  [[nodiscard]] const Application* find_app(std::string_view key) const;
  [[nodiscard]] const Application* find_app_by_client_id(std::string_view client_id) const;
  /// The application a scope string or resource parameter names: an identifier URI (case-insensitive, a
  /// trailing slash ignored) or a client id.
  [[nodiscard]] const Application* find_resource(std::string_view identifier) const;
  /// By key, UPN (case-insensitive) or object id.
  [[nodiscard]] const User* find_user(std::string_view name) const;
  [[nodiscard]] const User* find_user_by_oid(std::string_view object_id) const;

  /// Whether the {tenant} path segment names this tenant: its GUID or domain (any case), or common /
  /// organizations (multi-tenant endpoints, which in a one-tenant directory mean this tenant).
  [[nodiscard]] bool names_tenant(std::string_view segment) const;

  /// The delegated scopes of `resource` that `client` may use for `user`: consent grants (for everyone or
  /// for that user, from the file or given on the consent page) and pre-authorization of `client` by `resource`.
  [[nodiscard]] std::vector<std::string> consented_scopes(const Application& client, const Application& resource,
                                                          const User& user) const;
  /// The app roles of `resource` assigned to `user`, and those granted to `client` as application permissions.
  [[nodiscard]] std::vector<std::string> user_roles(const User& user, const Application& resource) const;
  [[nodiscard]] std::vector<std::string> application_roles(const Application& client,
                                                           const Application& resource) const;
  /// The condition `user` has for `resource`, if any.
  [[nodiscard]] const Condition* condition(const User& user, const Application& resource) const;
};

}  // namespace deputy::devidp
