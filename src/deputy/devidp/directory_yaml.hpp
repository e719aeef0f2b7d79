#pragma once
// The directory from YAML (examples/dev-directory.yaml is the default, built into the binary). Strict, as
// config/ is: unknown keys, wrong types, references to apps, users, scopes or roles that do not exist, and
// duplicate ids are refused with a message naming the file and the key. Secrets are never echoed.

#include "deputy/devidp/directory.hpp"

#include <stdexcept>
#include <string>
#include <string_view>

namespace deputy::devidp {

/// A directory file that cannot be used; what() names the file and the key.
class DirectoryError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// Parses a directory document; `source` names it in errors. Throws DirectoryError.
[[nodiscard]] Directory parse_directory(std::string_view yaml, const std::string& source);
/// Reads and parses a directory file. Throws DirectoryError.
[[nodiscard]] Directory load_directory(const std::string& path);
/// The built-in default: examples/dev-directory.yaml as it was at build time.
[[nodiscard]] std::string_view default_directory_yaml();
[[nodiscard]] Directory default_directory();

/// A GUID derived from `seed` (SHA-256, shaped as a version-4 GUID): stable ids for things the file leaves
/// unnamed (scope and role ids, service principal object ids, policy ids).
[[nodiscard]] std::string derived_guid(std::string_view seed);
[[nodiscard]] bool is_guid(std::string_view text);

}  // namespace deputy::devidp
