#pragma once

#include <boost/json/value.hpp>
#include <cstddef>
#include <expected>
#include <memory>
#include <optional>
#include <string>

namespace deputy::mcp {

/// A violation found while validating an instance: `path` is a JSON Pointer to the offending value
/// ("" for the root, "/items/2/name"), `message` a short English reason without the value itself.
struct SchemaViolation {
  std::string path;
  std::string message;
};

/// A JSON Schema compiled once (at tool registration) and checked on every call.
///
/// Supports the subset of draft 2020-12 / draft-07 that MCP tool schemas use; see json_schema.cpp
/// for the keyword list. Standard keywords outside that subset are rejected by `compile` rather
/// than ignored, so a schema never validates less than its author meant.
class JsonSchema {
 public:
  /// Deepest instance nesting (objects and arrays) accepted: `validate` recurses once per level
  /// and runs on the request path, so an attacker-chosen depth must not choose our stack usage.
  static constexpr std::size_t kMaxInstanceDepth = 64;
  /// Deepest schema nesting (subschemas and `$ref` hops) accepted by `compile`: real tool schemas
  /// stay far below this; the bound keeps compilation's recursion finite on a hostile document.
  static constexpr std::size_t kMaxSchemaDepth = 64;

  /// Compiles `schema`; an unsupported or malformed schema is an error that names the schema path.
  static std::expected<JsonSchema, std::string> compile(const boost::json::value& schema);

  /// The first violation, or nullopt when `instance` is valid.
  [[nodiscard]] std::optional<SchemaViolation> validate(const boost::json::value& instance) const;

 private:
  struct Tree;
  explicit JsonSchema(std::shared_ptr<const Tree> tree);

  std::shared_ptr<const Tree> tree_;  // Immutable after compile, so copies share it.
};

}  // namespace deputy::mcp
