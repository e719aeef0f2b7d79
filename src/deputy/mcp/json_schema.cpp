// A compiled validator for the JSON Schema subset MCP tools use (draft 2020-12 and draft-07
// spellings):
//   type, enum, const, properties, required, additionalProperties, items (schema, or the draft-07
//   array form with additionalItems), prefixItems, minItems, maxItems, uniqueItems, minLength,
//   maxLength, pattern, minimum, maximum, exclusiveMinimum, exclusiveMaximum (numeric), multipleOf,
//   allOf, anyOf, oneOf, not, and $ref to "#", "#/$defs/..." or "#/definitions/...".
// Annotations (format, title, description, default, examples, $schema, $id, $comment...) and
// unknown keywords are ignored. Standard keywords outside the subset are a compile error, because
// silently ignoring an assertion such as "patternProperties" would accept what the author rejects.
// As in 2020-12, keywords next to a $ref apply too (draft-07 ignored them), which is stricter.

#include "deputy/mcp/json_schema.hpp"

#include <algorithm>
#include <array>
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/string.hpp>
#include <charconv>
#include <cmath>
#include <compare>
#include <cstdint>
#include <deque>
#include <functional>
#include <limits>
#include <map>
#include <regex>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace deputy::mcp {
namespace {

namespace json = boost::json;

// Nested subschema applications in one validation ($ref hops, allOf/anyOf/oneOf/not, and one per
// instance level). Compile rejects $ref cycles that never descend into the instance, so a legal
// schema stays far below this on a depth-limited instance; the bound is a backstop for the stack.
constexpr std::size_t kMaxEvaluationDepth = 512;
// Longest string (in bytes) matched against a `pattern`: libstdc++'s std::regex matcher recurses
// once per character and overflows a 1 MiB stack near 2000 characters, on attacker-chosen input.
// TODO: switch to RE2 (linear time, no recursion) to lift this and rule out catastrophic
// backtracking; until then a longer string is a violation, never a crash.
constexpr std::size_t kMaxPatternSubjectBytes = 1024;
// `multipleOf` on non-integers divides in binary floating point (0.3 / 0.1 == 2.9999999999999996),
// so a quotient within a few ulps of an integer counts as one.
constexpr double kMultipleOfTolerance = 4 * std::numeric_limits<double>::epsilon();

// Standard keywords this validator does not implement; see the file comment for why they fail.
constexpr auto kUnsupportedKeywords = std::to_array<std::string_view>({
    "patternProperties",
    "propertyNames",
    "minProperties",
    "maxProperties",
    "dependentRequired",
    "dependentSchemas",
    "dependencies",
    "contains",
    "minContains",
    "maxContains",
    "if",
    "unevaluatedProperties",
    "unevaluatedItems",
    "$dynamicRef",
    "$recursiveRef",
});

// ---- Types ----------------------------------------------------------------------------------

enum TypeBit : std::uint8_t {
  kObjectBit = 1 << 0,
  kArrayBit = 1 << 1,
  kStringBit = 1 << 2,
  kNumberBit = 1 << 3,
  kIntegerBit = 1 << 4,
  kBooleanBit = 1 << 5,
  kNullBit = 1 << 6,
};

struct TypeName {
  std::string_view name;  // As spelled in "type".
  TypeBit bit;
  std::string_view noun;  // As used in "must be ...".
};

constexpr std::array<TypeName, 7> kTypeNames = {{
    {"object", kObjectBit, "an object"},
    {"array", kArrayBit, "an array"},
    {"string", kStringBit, "a string"},
    {"number", kNumberBit, "a number"},
    {"integer", kIntegerBit, "an integer"},
    {"boolean", kBooleanBit, "a boolean"},
    {"null", kNullBit, "null"},
}};

const TypeName* find_type(std::string_view name) {
  for (const auto& type : kTypeNames) {
    if (type.name == name) return &type;
  }
  return nullptr;
}

std::string_view view(const json::string& text) {
  return {text.data(), text.size()};
}

bool is_integral_double(double d) {
  return std::isfinite(d) && std::trunc(d) == d;
}

// Every type `value` satisfies: an integer is also a number, and 1.0 is an integer.
std::uint8_t type_bits(const json::value& value) {
  switch (value.kind()) {
    case json::kind::object:
      return kObjectBit;
    case json::kind::array:
      return kArrayBit;
    case json::kind::string:
      return kStringBit;
    case json::kind::int64:
    case json::kind::uint64:
      return kNumberBit | kIntegerBit;
    case json::kind::double_:
      return is_integral_double(value.get_double()) ? kNumberBit | kIntegerBit : kNumberBit;
    case json::kind::bool_:
      return kBooleanBit;
    case json::kind::null:
      return kNullBit;
  }
  return 0;
}

std::string type_message(std::uint8_t types) {
  if ((types & kNumberBit) != 0) types &= ~kIntegerBit;  // "a number" already admits integers.
  std::vector<std::string_view> nouns;
  for (const auto& type : kTypeNames) {
    if ((types & type.bit) != 0) nouns.push_back(type.noun);
  }
  std::string message = "must be ";
  for (std::size_t i = 0; i < nouns.size(); ++i) {
    if (i > 0) message += i + 1 == nouns.size() ? " or " : ", ";
    message += nouns[i];
  }
  return message;
}

// ---- Numbers --------------------------------------------------------------------------------
// Comparisons are exact across int64, uint64 and double: converting 9007199254740993 to double
// would round it to 2^53 and let it pass "maximum": 9007199254740992.

constexpr double kTwoPow63 = 9223372036854775808.0;
constexpr double kTwoPow64 = 18446744073709551616.0;

std::partial_ordering compare(std::int64_t i, double d) {
  if (std::isnan(d)) return std::partial_ordering::unordered;
  if (d >= kTwoPow63) return std::partial_ordering::less;
  if (d < -kTwoPow63) return std::partial_ordering::greater;
  const double whole = std::trunc(d);
  const auto whole_int = static_cast<std::int64_t>(whole);
  if (i != whole_int) return i <=> whole_int;
  return 0.0 <=> d - whole;
}

std::partial_ordering compare(std::uint64_t u, double d) {
  if (std::isnan(d)) return std::partial_ordering::unordered;
  if (d < 0) return std::partial_ordering::greater;
  if (d >= kTwoPow64) return std::partial_ordering::less;
  const double whole = std::trunc(d);
  const auto whole_int = static_cast<std::uint64_t>(whole);
  if (u != whole_int) return u <=> whole_int;
  return 0.0 <=> d - whole;
}

std::strong_ordering compare(std::int64_t i, std::uint64_t u) {
  if (i < 0) return std::strong_ordering::less;
  return static_cast<std::uint64_t>(i) <=> u;
}

// Both arguments must be numbers.
std::partial_ordering compare_numbers(const json::value& a, const json::value& b) {
  if (a.is_int64()) {
    if (b.is_int64()) return a.get_int64() <=> b.get_int64();
    if (b.is_uint64()) return compare(a.get_int64(), b.get_uint64());
    return compare(a.get_int64(), b.get_double());
  }
  if (a.is_uint64()) {
    if (b.is_int64()) return 0 <=> compare(b.get_int64(), a.get_uint64());
    if (b.is_uint64()) return a.get_uint64() <=> b.get_uint64();
    return compare(a.get_uint64(), b.get_double());
  }
  if (b.is_int64()) return 0 <=> compare(b.get_int64(), a.get_double());
  if (b.is_uint64()) return 0 <=> compare(b.get_uint64(), a.get_double());
  return a.get_double() <=> b.get_double();
}

double to_double(const json::value& number) {
  if (number.is_int64()) return static_cast<double>(number.get_int64());
  if (number.is_uint64()) return static_cast<double>(number.get_uint64());
  return number.get_double();
}

std::uint64_t magnitude(std::int64_t i) {
  // Negating in unsigned arithmetic keeps INT64_MIN (whose negation overflows int64) exact.
  return i < 0 ? 0 - static_cast<std::uint64_t>(i) : static_cast<std::uint64_t>(i);
}

// `divisor` is a positive number (checked at compile time).
bool is_multiple_of(const json::value& number, const json::value& divisor) {
  if (!number.is_double() && !divisor.is_double()) {
    const std::uint64_t n = number.is_int64() ? magnitude(number.get_int64()) : number.get_uint64();
    const std::uint64_t d = divisor.is_int64() ? magnitude(divisor.get_int64()) : divisor.get_uint64();
    return n % d == 0;
  }
  const double quotient = to_double(number) / to_double(divisor);
  if (!std::isfinite(quotient)) return false;
  return std::abs(quotient - std::round(quotient)) <=
         kMultipleOfTolerance * std::max(1.0, std::abs(quotient));
}

std::string format_number(const json::value& number) {
  if (number.is_int64()) return std::to_string(number.get_int64());
  if (number.is_uint64()) return std::to_string(number.get_uint64());
  std::array<char, 32> buffer{};
  const auto result = std::to_chars(buffer.data(), buffer.data() + buffer.size(), number.get_double());
  return {buffer.data(), result.ptr};
}

// ---- JSON equality (enum, const, uniqueItems) -----------------------------------------------
// JSON Schema equality: 1 and 1.0 are equal, object member order does not matter. Recursion is
// bounded because `validate` rejects instances nested beyond kMaxInstanceDepth first.

bool json_equal(const json::value& a, const json::value& b) {
  if (a.is_number() && b.is_number()) return compare_numbers(a, b) == 0;
  if (a.kind() != b.kind()) return false;
  if (const auto* array = a.if_array()) {
    const auto& other = b.get_array();
    return array->size() == other.size() &&
           std::equal(array->begin(), array->end(), other.begin(), json_equal);
  }
  if (const auto* object = a.if_object()) {
    const auto& other = b.get_object();
    if (object->size() != other.size()) return false;
    return std::all_of(object->begin(), object->end(), [&](const json::key_value_pair& member) {
      const auto* match = other.if_contains(member.key());
      return match != nullptr && json_equal(member.value(), *match);
    });
  }
  return a == b;  // string, bool, null
}

// Consistent with json_equal: equal numbers convert to the same double.
std::size_t json_hash(const json::value& value) {
  switch (value.kind()) {
    case json::kind::int64:
    case json::kind::uint64:
    case json::kind::double_: {
      const double d = to_double(value);
      return std::hash<double>{}(d == 0 ? 0.0 : d);  // -0.0 == 0.0
    }
    case json::kind::string:
      return std::hash<std::string_view>{}(view(value.get_string()));
    case json::kind::array: {
      std::size_t hash = 0x9e3779b9;
      for (const auto& item : value.get_array()) hash = hash * 31 + json_hash(item);
      return hash;
    }
    case json::kind::object: {
      std::size_t hash = 0x85ebca6b;  // Summed, so member order does not matter.
      for (const auto& member : value.get_object()) {
        hash += std::hash<std::string_view>{}(member.key()) * 31 + json_hash(member.value());
      }
      return hash;
    }
    case json::kind::bool_:
      return value.get_bool() ? 1 : 2;
    case json::kind::null:
      return 3;
  }
  return 0;
}

// The indices of the first pair of equal items, in expected linear time: the array comes from the
// caller, and a quadratic scan of a large one would be a cheap way to burn our CPU.
std::optional<std::pair<std::size_t, std::size_t>> find_duplicate(const json::array& items) {
  std::unordered_multimap<std::size_t, std::size_t> seen;  // hash -> index
  for (std::size_t i = 0; i < items.size(); ++i) {
    const std::size_t hash = json_hash(items[i]);
    const auto [first, last] = seen.equal_range(hash);
    for (auto it = first; it != last; ++it) {
      if (json_equal(items[it->second], items[i])) return std::pair{it->second, i};
    }
    seen.emplace(hash, i);
  }
  return std::nullopt;
}

// Strings from Boost.JSON are valid UTF-8, so code points are the bytes that do not continue one.
std::size_t count_code_points(std::string_view text) {
  return static_cast<std::size_t>(std::count_if(
      text.begin(), text.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

// ---- JSON Pointer paths ---------------------------------------------------------------------

// Appends one reference token to a JSON Pointer for as long as it lives (RFC 6901 escaping).
class PathSegment {
 public:
  PathSegment(std::string& path, std::string_view name) : path_(path), size_(path.size()) {
    path_ += '/';
    for (const char c : name) {
      if (c == '~') {
        path_ += "~0";
      } else if (c == '/') {
        path_ += "~1";
      } else {
        path_ += c;
      }
    }
  }
  PathSegment(std::string& path, std::size_t index) : path_(path), size_(path.size()) {
    path_ += '/';
    path_ += std::to_string(index);
  }
  ~PathSegment() { path_.resize(size_); }
  PathSegment(const PathSegment&) = delete;
  PathSegment& operator=(const PathSegment&) = delete;

 private:
  std::string& path_;
  std::size_t size_;
};

// ---- Compiled form --------------------------------------------------------------------------

struct Pattern {
  std::string source;
  std::regex regex;
};

// One compiled schema. Absent keywords are empty/null. Nodes point at each other with raw
// pointers because $ref may form cycles; the arena in JsonSchema::Tree owns them all.
struct Node {
  bool reject_all = false;  // The `false` schema.
  std::uint8_t types = 0;   // TypeBits; 0 when there is no "type".
  std::optional<json::array> enum_values;
  std::optional<json::value> const_value;
  std::map<std::string, const Node*, std::less<>> properties;
  std::vector<std::string> required;
  const Node* additional_properties = nullptr;
  std::vector<const Node*> prefix_items;
  const Node* items = nullptr;  // Items after prefix_items.
  std::optional<std::uint64_t> min_items;
  std::optional<std::uint64_t> max_items;
  bool unique_items = false;
  std::optional<std::uint64_t> min_length;
  std::optional<std::uint64_t> max_length;
  std::optional<Pattern> pattern;
  std::optional<json::value> minimum;
  std::optional<json::value> maximum;
  std::optional<json::value> exclusive_minimum;
  std::optional<json::value> exclusive_maximum;
  std::optional<json::value> multiple_of;
  const Node* ref = nullptr;
  std::vector<const Node*> all_of;
  std::vector<const Node*> any_of;
  std::vector<const Node*> one_of;
  const Node* not_schema = nullptr;
};

// Subschemas applied to the same instance location: a cycle through these never terminates.
std::vector<const Node*> in_place_children(const Node& node) {
  std::vector<const Node*> children;
  if (node.ref != nullptr) children.push_back(node.ref);
  if (node.not_schema != nullptr) children.push_back(node.not_schema);
  for (const auto* list : {&node.all_of, &node.any_of, &node.one_of}) {
    children.insert(children.end(), list->begin(), list->end());
  }
  return children;
}

using NodeArena = std::deque<Node>;  // A deque never moves its elements, so pointers stay valid.

// ---- Compiler -------------------------------------------------------------------------------

using CompileResult = std::expected<const Node*, std::string>;
using KeywordResult = std::expected<void, std::string>;

std::unexpected<std::string> schema_error(const std::string& path, std::string_view message) {
  return std::unexpected("#" + path + ": " + std::string(message));
}

template <class Field, class T>
KeywordResult assign(Field& field, std::expected<T, std::string> result) {
  if (!result) return std::unexpected(std::move(result.error()));
  field = std::move(*result);
  return {};
}

std::expected<std::uint64_t, std::string> read_count(const json::value& value, const std::string& path) {
  if (value.is_uint64()) return value.get_uint64();
  if (value.is_int64() && value.get_int64() >= 0) {
    return static_cast<std::uint64_t>(value.get_int64());
  }
  if (value.is_double() && value.get_double() >= 0 && is_integral_double(value.get_double()) &&
      value.get_double() < kTwoPow63) {
    return static_cast<std::uint64_t>(value.get_double());
  }
  return schema_error(path, "must be a non-negative integer");
}

std::expected<json::value, std::string> read_number(const json::value& value, const std::string& path) {
  if (!value.is_number() || (value.is_double() && !std::isfinite(value.get_double()))) {
    return schema_error(path, "must be a number");
  }
  return value;
}

std::optional<std::string> percent_decode(std::string_view text) {
  std::string decoded;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') {
      decoded += text[i];
      continue;
    }
    unsigned int byte = 0;
    if (i + 3 > text.size()) return std::nullopt;
    const auto result = std::from_chars(text.data() + i + 1, text.data() + i + 3, byte, 16);
    if (result.ptr != text.data() + i + 3) return std::nullopt;
    decoded += static_cast<char>(byte);
    i += 2;
  }
  return decoded;
}

class Compiler {
 public:
  Compiler(const json::value& document, NodeArena& arena) : document_(document), arena_(arena) {}

  CompileResult compile_document() {
    Node& root = arena_.emplace_back();
    targets_.emplace("", &root);  // So "#" refers back to the root.
    std::string path;
    if (auto filled = fill(root, document_, path, 0); !filled) {
      return std::unexpected(std::move(filled.error()));
    }
    // Compile every definition, referenced or not, so a broken one fails at registration.
    if (const auto* object = document_.if_object()) {
      for (const std::string_view section : {"$defs", "definitions"}) {
        const auto* defs = object->if_contains(section);
        if (defs == nullptr) continue;
        PathSegment section_segment(path, section);
        const auto* entries = defs->if_object();
        if (entries == nullptr) return schema_error(path, "must be an object");
        for (const auto& entry : *entries) {
          PathSegment entry_segment(path, entry.key());
          if (auto node = compile_target(path, path, 1); !node) return node;
        }
      }
    }
    if (auto cycle = find_in_place_cycle()) {
      return schema_error(*cycle, "$ref cycle never descends into the instance");
    }
    return &root;
  }

 private:
  CompileResult compile(const json::value& schema, std::string& path, std::size_t depth) {
    Node& node = arena_.emplace_back();
    if (auto filled = fill(node, schema, path, depth); !filled) {
      return std::unexpected(std::move(filled.error()));
    }
    return &node;
  }

  // Compiles the schema at JSON Pointer `pointer` once; later refs share the node. The node is
  // registered before it is filled, so a recursive ref gets the (still empty) node: recursion is
  // resolved lazily, by validation following the pointer.
  CompileResult compile_target(const std::string& pointer, const std::string& referrer, std::size_t depth) {
    if (const auto it = targets_.find(pointer); it != targets_.end()) return it->second;
    boost::system::error_code error;
    const json::value* target = document_.find_pointer(pointer, error);
    if (target == nullptr) return schema_error(referrer, "cannot resolve #" + pointer);
    Node& node = arena_.emplace_back();
    targets_.emplace(pointer, &node);
    std::string path = pointer;
    if (auto filled = fill(node, *target, path, depth); !filled) {
      return std::unexpected(std::move(filled.error()));
    }
    return &node;
  }

  CompileResult compile_ref(const json::value& value, const std::string& path, std::size_t depth) {
    const auto* ref = value.if_string();
    if (ref == nullptr) return schema_error(path, "must be a string");
    std::optional<std::string> pointer;
    if (ref->starts_with('#')) pointer = percent_decode(view(*ref).substr(1));
    const bool local = pointer && (pointer->empty() || pointer->starts_with("/$defs/") ||
                                   pointer->starts_with("/definitions/"));
    if (!local) {
      return schema_error(path, "only local refs (#, #/$defs/..., #/definitions/...) are supported");
    }
    return compile_target(*pointer, path, depth + 1);
  }

  KeywordResult fill(Node& node, const json::value& schema, std::string& path, std::size_t depth) {
    if (depth > JsonSchema::kMaxSchemaDepth) {
      return schema_error(path, "schema is nested too deeply");
    }
    if (const auto* boolean = schema.if_bool()) {
      node.reject_all = !*boolean;
      return {};
    }
    const auto* object = schema.if_object();
    if (object == nullptr) return schema_error(path, "must be an object or a boolean");
    for (const auto& member : *object) {
      PathSegment segment(path, member.key());
      if (auto done = compile_keyword(node, member.key(), member.value(), path, depth); !done) {
        return done;
      }
    }
    return compile_tuple_items(node, *object, path, depth);
  }

  KeywordResult compile_keyword(Node& node, std::string_view key, const json::value& value, std::string& path,
                                std::size_t depth) {
    if (key == "type") return compile_type(node, value, path);
    if (key == "enum") {
      if (!value.is_array()) return schema_error(path, "must be an array");
      node.enum_values = value.get_array();
      return {};
    }
    if (key == "const") {
      node.const_value = value;
      return {};
    }
    if (key == "properties") return compile_properties(node, value, path, depth);
    if (key == "required") return compile_required(node, value, path);
    if (key == "additionalProperties") {
      return assign(node.additional_properties, compile(value, path, depth + 1));
    }
    if (key == "items") {
      if (value.is_array()) return {};  // Draft-07 tuple form: compile_tuple_items.
      return assign(node.items, compile(value, path, depth + 1));
    }
    if (key == "prefixItems") return compile_list(node.prefix_items, value, path, depth);
    if (key == "minItems") return assign(node.min_items, read_count(value, path));
    if (key == "maxItems") return assign(node.max_items, read_count(value, path));
    if (key == "uniqueItems") {
      if (!value.is_bool()) return schema_error(path, "must be a boolean");
      node.unique_items = value.get_bool();
      return {};
    }
    if (key == "minLength") return assign(node.min_length, read_count(value, path));
    if (key == "maxLength") return assign(node.max_length, read_count(value, path));
    if (key == "pattern") return compile_pattern(node, value, path);
    if (key == "minimum") return assign(node.minimum, read_number(value, path));
    if (key == "maximum") return assign(node.maximum, read_number(value, path));
    // Numeric only: the draft-04 boolean form would change the meaning of "minimum".
    if (key == "exclusiveMinimum") return assign(node.exclusive_minimum, read_number(value, path));
    if (key == "exclusiveMaximum") return assign(node.exclusive_maximum, read_number(value, path));
    if (key == "multipleOf") {
      auto number = read_number(value, path);
      if (number && compare_numbers(*number, json::value(0)) != std::partial_ordering::greater) {
        return schema_error(path, "must be greater than 0");
      }
      return assign(node.multiple_of, std::move(number));
    }
    if (key == "allOf") return compile_list(node.all_of, value, path, depth, /*non_empty=*/true);
    if (key == "anyOf") return compile_list(node.any_of, value, path, depth, /*non_empty=*/true);
    if (key == "oneOf") return compile_list(node.one_of, value, path, depth, /*non_empty=*/true);
    if (key == "not") return assign(node.not_schema, compile(value, path, depth + 1));
    if (key == "$ref") return assign(node.ref, compile_ref(value, path, depth));
    if (std::ranges::find(kUnsupportedKeywords, key) != kUnsupportedKeywords.end()) {
      return schema_error(path, "keyword is not supported");
    }
    return {};  // An annotation or an unknown keyword.
  }

  KeywordResult compile_type(Node& node, const json::value& value, std::string& path) {
    const auto add = [&](const json::value& name) -> KeywordResult {
      const auto* text = name.if_string();
      const TypeName* type = text == nullptr ? nullptr : find_type(view(*text));
      if (type == nullptr) {
        return schema_error(path,
                            "must be one of object, array, string, number, integer, "
                            "boolean, null");
      }
      node.types |= type->bit;
      return {};
    };
    const auto* names = value.if_array();
    if (names == nullptr) return add(value);
    if (names->empty()) return schema_error(path, "must not be empty");
    for (std::size_t i = 0; i < names->size(); ++i) {
      PathSegment segment(path, i);
      if (auto added = add((*names)[i]); !added) return added;
    }
    return {};
  }

  KeywordResult compile_properties(Node& node, const json::value& value, std::string& path,
                                   std::size_t depth) {
    const auto* properties = value.if_object();
    if (properties == nullptr) return schema_error(path, "must be an object");
    for (const auto& property : *properties) {
      PathSegment segment(path, property.key());
      auto compiled = compile(property.value(), path, depth + 1);
      if (!compiled) return std::unexpected(std::move(compiled.error()));
      node.properties.emplace(std::string(property.key()), *compiled);
    }
    return {};
  }

  static KeywordResult compile_required(Node& node, const json::value& value, std::string& path) {
    const auto* names = value.if_array();
    if (names == nullptr) return schema_error(path, "must be an array of strings");
    for (std::size_t i = 0; i < names->size(); ++i) {
      PathSegment segment(path, i);
      const auto* name = (*names)[i].if_string();
      if (name == nullptr) return schema_error(path, "must be a string");
      node.required.emplace_back(view(*name));
    }
    return {};
  }

  static KeywordResult compile_pattern(Node& node, const json::value& value, std::string& path) {
    const auto* source = value.if_string();
    if (source == nullptr) return schema_error(path, "must be a string");
    try {
      node.pattern = Pattern{std::string(view(*source)),
                             std::regex(source->data(), source->size(), std::regex::ECMAScript)};
    } catch (const std::regex_error& error) {
      return schema_error(path,
                          std::string("is not a valid ECMAScript regular expression (") + error.what() + ")");
    }
    return {};
  }

  KeywordResult compile_list(std::vector<const Node*>& list, const json::value& value, std::string& path,
                             std::size_t depth, bool non_empty = false) {
    const auto* schemas = value.if_array();
    if (schemas == nullptr) return schema_error(path, "must be an array of schemas");
    if (non_empty && schemas->empty()) return schema_error(path, "must not be empty");
    for (std::size_t i = 0; i < schemas->size(); ++i) {
      PathSegment segment(path, i);
      auto compiled = compile((*schemas)[i], path, depth + 1);
      if (!compiled) return std::unexpected(std::move(compiled.error()));
      list.push_back(*compiled);
    }
    return {};
  }

  // Draft-07 "items": [...] is 2020-12's "prefixItems", and "additionalItems" its "items".
  KeywordResult compile_tuple_items(Node& node, const json::object& schema, std::string& path,
                                    std::size_t depth) {
    const auto* items = schema.if_contains("items");
    if (items == nullptr || !items->is_array()) return {};
    {
      PathSegment segment(path, "items");
      if (schema.contains("prefixItems")) {
        return schema_error(path, "the array form cannot be combined with prefixItems");
      }
      if (auto done = compile_list(node.prefix_items, *items, path, depth); !done) return done;
    }
    const auto* additional = schema.if_contains("additionalItems");
    if (additional == nullptr) return {};
    PathSegment segment(path, "additionalItems");
    return assign(node.items, compile(*additional, path, depth + 1));
  }

  // The pointer of a $ref target on a cycle of in-place applicators, if there is one.
  std::optional<std::string> find_in_place_cycle() const {
    std::unordered_map<const Node*, std::string_view> pointers;
    for (const auto& [pointer, node] : targets_) pointers.emplace(node, pointer);
    enum class Mark { kOnStack, kDone };
    std::unordered_map<const Node*, Mark> marks;
    std::vector<const Node*> stack;
    std::optional<std::string> cycle;
    const auto visit = [&](const auto& self, const Node* node) -> void {
      marks[node] = Mark::kOnStack;
      stack.push_back(node);
      for (const Node* child : in_place_children(*node)) {
        const auto mark = marks.find(child);
        if (mark == marks.end()) {
          self(self, child);
        } else if (mark->second == Mark::kOnStack) {
          // The cycle runs from `child` to the top of the stack; only a $ref can close it.
          const auto start = std::ranges::find(stack, child);
          for (auto it = start; it != stack.end() && !cycle; ++it) {
            if (const auto pointer = pointers.find(*it); pointer != pointers.end()) {
              cycle = std::string(pointer->second);
            }
          }
        }
        if (cycle) return;
      }
      stack.pop_back();
      marks[node] = Mark::kDone;
    };
    for (const Node& node : arena_) {
      if (!marks.contains(&node)) visit(visit, &node);
      if (cycle) break;
    }
    return cycle;
  }

  const json::value& document_;
  NodeArena& arena_;
  std::unordered_map<std::string, const Node*> targets_;  // $ref targets by JSON Pointer.
};

// ---- Validator ------------------------------------------------------------------------------

using Check = std::optional<SchemaViolation>;

// The first container nested deeper than kMaxInstanceDepth. Checked before anything else so that
// every later recursion over the instance (validation, equality, hashing) is bounded.
Check find_too_deep(const json::value& value, std::string& path, std::size_t depth) {
  if (!value.is_object() && !value.is_array()) return std::nullopt;
  if (depth == JsonSchema::kMaxInstanceDepth) {
    return SchemaViolation{path, "is nested too deeply (more than " +
                                     std::to_string(JsonSchema::kMaxInstanceDepth) + " levels)"};
  }
  if (const auto* object = value.if_object()) {
    for (const auto& member : *object) {
      PathSegment segment(path, member.key());
      if (auto violation = find_too_deep(member.value(), path, depth + 1)) return violation;
    }
    return std::nullopt;
  }
  const auto& array = value.get_array();
  for (std::size_t i = 0; i < array.size(); ++i) {
    PathSegment segment(path, i);
    if (auto violation = find_too_deep(array[i], path, depth + 1)) return violation;
  }
  return std::nullopt;
}

class Validator {
 public:
  Check check(const Node& node, const json::value& instance, std::size_t depth) {
    if (depth > kMaxEvaluationDepth) return abort("exceeds the schema's evaluation depth limit");
    if (node.reject_all) return violation("is not allowed");
    if (node.types != 0 && (node.types & type_bits(instance)) == 0) {
      return violation(type_message(node.types));
    }
    if (node.enum_values && std::ranges::none_of(*node.enum_values, [&](const json::value& allowed) {
          return json_equal(allowed, instance);
        })) {
      return violation("must be one of the allowed values");
    }
    if (node.const_value && !json_equal(*node.const_value, instance)) {
      return violation("must be equal to the allowed constant value");
    }
    Check result;
    if (const auto* object = instance.if_object()) {
      result = check_object(node, *object, depth);
    } else if (const auto* array = instance.if_array()) {
      result = check_array(node, *array, depth);
    } else if (const auto* string = instance.if_string()) {
      result = check_string(node, *string);
    } else if (instance.is_number()) {
      result = check_number(node, instance);
    }
    if (result) return result;
    return check_applicators(node, instance, depth);
  }

 private:
  SchemaViolation violation(std::string message) const { return {path_, std::move(message)}; }

  // A failure to evaluate (rather than a mismatch): it must not be inverted by "not" or skipped
  // over by "anyOf"/"oneOf", so it is remembered and wins over every later result.
  SchemaViolation abort(std::string message) {
    aborted_ = violation(std::move(message));
    return *aborted_;
  }

  Check check_object(const Node& node, const json::object& object, std::size_t depth) {
    for (const auto& name : node.required) {
      if (!object.contains(name)) {
        PathSegment segment(path_, name);  // Points at the missing property, e.g. "/message".
        return violation("is required");
      }
    }
    for (const auto& member : object) {
      PathSegment segment(path_, member.key());
      const Node* schema = node.additional_properties;
      if (const auto it = node.properties.find(std::string_view(member.key())); it != node.properties.end()) {
        schema = it->second;
      } else if (schema != nullptr && schema->reject_all) {
        return violation("is not allowed (additional property)");
      }
      if (schema == nullptr) continue;
      if (auto result = check(*schema, member.value(), depth + 1)) return result;
    }
    return std::nullopt;
  }

  Check check_array(const Node& node, const json::array& array, std::size_t depth) {
    if (node.min_items && array.size() < *node.min_items) {
      return violation("must have at least " + std::to_string(*node.min_items) + " items");
    }
    if (node.max_items && array.size() > *node.max_items) {
      return violation("must have at most " + std::to_string(*node.max_items) + " items");
    }
    if (node.unique_items) {
      if (const auto duplicate = find_duplicate(array)) {
        return violation("must not contain duplicate items (items " + std::to_string(duplicate->first) +
                         " and " + std::to_string(duplicate->second) + " are equal)");
      }
    }
    for (std::size_t i = 0; i < array.size(); ++i) {
      const Node* schema = i < node.prefix_items.size() ? node.prefix_items[i] : node.items;
      if (schema == nullptr) continue;
      PathSegment segment(path_, i);
      if (schema->reject_all && i >= node.prefix_items.size()) {
        return violation("is not allowed (additional item)");
      }
      if (auto result = check(*schema, array[i], depth + 1)) return result;
    }
    return std::nullopt;
  }

  Check check_string(const Node& node, std::string_view text) {
    if (node.min_length || node.max_length) {
      const std::size_t length = count_code_points(text);
      if (node.min_length && length < *node.min_length) {
        return violation("must be at least " + std::to_string(*node.min_length) + " characters long");
      }
      if (node.max_length && length > *node.max_length) {
        return violation("must be at most " + std::to_string(*node.max_length) + " characters long");
      }
    }
    if (node.pattern) {
      if (text.size() > kMaxPatternSubjectBytes) {
        return abort("is too long to match against a pattern (more than " +
                     std::to_string(kMaxPatternSubjectBytes) + " bytes)");
      }
      try {
        if (!std::regex_search(text.begin(), text.end(), node.pattern->regex)) {
          return violation("must match the pattern " + node.pattern->source);
        }
      } catch (const std::regex_error&) {  // error_complexity or error_stack.
        return abort("could not be matched against the pattern " + node.pattern->source);
      }
    }
    return std::nullopt;
  }

  Check check_number(const Node& node, const json::value& number) const {
    using std::partial_ordering;
    if (node.minimum && compare_numbers(number, *node.minimum) == partial_ordering::less) {
      return violation("must be greater than or equal to " + format_number(*node.minimum));
    }
    if (node.exclusive_minimum &&
        compare_numbers(number, *node.exclusive_minimum) != partial_ordering::greater) {
      return violation("must be greater than " + format_number(*node.exclusive_minimum));
    }
    if (node.maximum && compare_numbers(number, *node.maximum) == partial_ordering::greater) {
      return violation("must be less than or equal to " + format_number(*node.maximum));
    }
    if (node.exclusive_maximum &&
        compare_numbers(number, *node.exclusive_maximum) != partial_ordering::less) {
      return violation("must be less than " + format_number(*node.exclusive_maximum));
    }
    if (node.multiple_of && !is_multiple_of(number, *node.multiple_of)) {
      return violation("must be a multiple of " + format_number(*node.multiple_of));
    }
    return std::nullopt;
  }

  Check check_applicators(const Node& node, const json::value& instance, std::size_t depth) {
    if (node.ref != nullptr) {
      if (auto result = check(*node.ref, instance, depth + 1)) return result;
    }
    for (const Node* schema : node.all_of) {
      if (auto result = check(*schema, instance, depth + 1)) return result;
    }
    if (!node.any_of.empty()) {
      const bool matched = std::ranges::any_of(
          node.any_of, [&](const Node* schema) { return !check(*schema, instance, depth + 1) || aborted_; });
      if (aborted_) return aborted_;
      if (!matched) return violation("must match at least one of the allowed schemas");
    }
    if (!node.one_of.empty()) {
      std::size_t matches = 0;
      for (const Node* schema : node.one_of) {
        if (!check(*schema, instance, depth + 1)) ++matches;
        if (aborted_) return aborted_;
      }
      if (matches != 1) {
        return violation("must match exactly one of the allowed schemas (matched " + std::to_string(matches) +
                         ")");
      }
    }
    if (node.not_schema != nullptr) {
      const bool matched = !check(*node.not_schema, instance, depth + 1);
      if (aborted_) return aborted_;
      if (matched) return violation("must not match the disallowed schema");
    }
    return std::nullopt;
  }

  std::string path_;
  Check aborted_;
};

}  // namespace

struct JsonSchema::Tree {
  NodeArena nodes;
  const Node* root = nullptr;
};

JsonSchema::JsonSchema(std::shared_ptr<const Tree> tree) : tree_(std::move(tree)) {}

std::expected<JsonSchema, std::string> JsonSchema::compile(const json::value& schema) {
  try {
    auto tree = std::make_shared<Tree>();
    Compiler compiler(schema, tree->nodes);
    auto root = compiler.compile_document();
    if (!root) return std::unexpected(std::move(root.error()));
    tree->root = *root;
    return JsonSchema(std::move(tree));
  } catch (const std::exception& error) {  // Allocation failure; everything else is a value.
    return std::unexpected(std::string("schema could not be compiled: ") + error.what());
  }
}

std::optional<SchemaViolation> JsonSchema::validate(const json::value& instance) const {
  if (tree_ == nullptr) return SchemaViolation{"", "could not be validated (moved-from schema)"};
  try {
    std::string path;
    if (auto too_deep = find_too_deep(instance, path, 0)) return too_deep;
    return Validator{}.check(*tree_->root, instance, 0);
  } catch (const std::exception&) {  // Allocation failure: fail closed rather than throw.
    return SchemaViolation{"", "could not be validated"};
  }
}

}  // namespace deputy::mcp
