#include "deputy/mcp/json_schema.hpp"

#include <gtest/gtest.h>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <utility>

namespace deputy::mcp {
namespace {

namespace json = boost::json;

JsonSchema compile_or_fail(std::string_view schema_text) {
  auto schema = JsonSchema::compile(json::parse(schema_text));
  if (!schema) {
    ADD_FAILURE() << "compile failed: " << schema.error();
    return *JsonSchema::compile(json::value(true));
  }
  return *schema;
}

template <class Case>
std::string case_name(const testing::TestParamInfo<Case>& info) {
  return std::string(info.param.name);
}

// ---- Keywords, table-driven -----------------------------------------------------------------

struct ValidationCase {
  std::string_view name;
  std::string_view schema;
  std::string_view instance;
  // Expected first violation; both empty means valid ("" is also the root path, so a root
  // violation always carries a message).
  std::string_view path;
  std::string_view message;
};

void PrintTo(const ValidationCase& c, std::ostream* out) {
  *out << c.name;
}

class ValidationTest : public testing::TestWithParam<ValidationCase> {};

TEST_P(ValidationTest, FirstViolation) {
  const ValidationCase& c = GetParam();
  const JsonSchema schema = compile_or_fail(c.schema);
  const auto violation = schema.validate(json::parse(c.instance));
  if (c.message.empty()) {
    EXPECT_FALSE(violation) << "unexpected violation at '" << violation->path << "': " << violation->message;
    return;
  }
  ASSERT_TRUE(violation) << "expected a violation";
  EXPECT_EQ(violation->path, c.path);
  EXPECT_EQ(violation->message, c.message);
}

constexpr ValidationCase kTypeCases[] = {
    {"string_ok", R"({"type":"string"})", R"("a")", "", ""},
    {"string_bad", R"({"type":"string"})", "1", "", "must be a string"},
    {"object_bad", R"({"type":"object"})", "[]", "", "must be an object"},
    {"array_bad", R"({"type":"array"})", "{}", "", "must be an array"},
    {"boolean_bad", R"({"type":"boolean"})", "0", "", "must be a boolean"},
    {"null_bad", R"({"type":"null"})", "false", "", "must be null"},
    {"null_ok", R"({"type":"null"})", "null", "", ""},
    {"list_ok", R"({"type":["string","null"]})", "null", "", ""},
    {"list_bad", R"({"type":["string","null"]})", "1", "", "must be a string or null"},
    {"list_of_three_bad", R"({"type":["string","number","null"]})", "true", "",
     "must be a string, a number or null"},
    {"number_and_integer_says_number", R"({"type":["integer","number"]})", "true", "", "must be a number"},
    {"number_accepts_int", R"({"type":"number"})", "3", "", ""},
    {"number_accepts_double", R"({"type":"number"})", "3.5", "", ""},
    {"number_rejects_numeric_string", R"({"type":"number"})", R"("3")", "", "must be a number"},
    {"integer_accepts_int64", R"({"type":"integer"})", "-9223372036854775808", "", ""},
    {"integer_accepts_uint64", R"({"type":"integer"})", "18446744073709551615", "", ""},
    {"integer_accepts_zero_fraction", R"({"type":"integer"})", "1.0", "", ""},
    {"integer_accepts_exponent", R"({"type":"integer"})", "1e2", "", ""},
    {"integer_accepts_negative_zero", R"({"type":"integer"})", "-0.0", "", ""},
    {"integer_accepts_huge_double", R"({"type":"integer"})", "1e300", "", ""},
    {"integer_rejects_fraction", R"({"type":"integer"})", "1.5", "", "must be an integer"},
    {"integer_rejects_tiny_fraction", R"({"type":"integer"})", "1.0000001", "", "must be an integer"},
    {"integer_rejects_boolean", R"({"type":"integer"})", "true", "", "must be an integer"},
};
INSTANTIATE_TEST_SUITE_P(Type, ValidationTest, testing::ValuesIn(kTypeCases), case_name<ValidationCase>);

constexpr ValidationCase kEnumConstCases[] = {
    {"enum_ok", R"({"enum":["a","b",1]})", R"("b")", "", ""},
    {"enum_bad", R"({"enum":["a","b",1]})", R"("c")", "", "must be one of the allowed values"},
    {"enum_type_matters", R"({"enum":[1]})", R"("1")", "", "must be one of the allowed values"},
    {"enum_numbers_compare_by_value", R"({"enum":[1]})", "1.0", "", ""},
    {"enum_object_member_order_irrelevant", R"({"enum":[{"a":1,"b":[2]}]})", R"({"b":[2.0],"a":1})", "", ""},
    {"enum_object_extra_member", R"({"enum":[{"a":1}]})", R"({"a":1,"b":2})", "",
     "must be one of the allowed values"},
    {"enum_null", R"({"enum":[null]})", "null", "", ""},
    {"const_ok", R"({"const":{"k":[1,"x"]}})", R"({"k":[1,"x"]})", "", ""},
    {"const_bad", R"({"const":{"k":[1,"x"]}})", R"({"k":[1,"y"]})", "",
     "must be equal to the allowed constant value"},
    {"const_false_is_not_null", R"({"const":false})", "null", "",
     "must be equal to the allowed constant value"},
};
INSTANTIATE_TEST_SUITE_P(EnumConst, ValidationTest, testing::ValuesIn(kEnumConstCases),
                         case_name<ValidationCase>);

constexpr ValidationCase kObjectCases[] = {
    {"properties_ok", R"({"properties":{"name":{"type":"string"}}})", R"({"name":"x"})", "", ""},
    {"properties_bad", R"({"properties":{"name":{"type":"string"}}})", R"({"name":1})", "/name",
     "must be a string"},
    {"properties_ignore_non_objects", R"({"properties":{"name":{"type":"string"}}})", "[1]", "", ""},
    {"required_ok", R"({"required":["message"]})", R"({"message":""})", "", ""},
    {"required_missing_points_at_property", R"({"required":["message"]})", R"({})", "/message",
     "is required"},
    {"required_escapes_pointer", R"({"required":["a/b~c"]})", R"({})", "/a~1b~0c", "is required"},
    {"additional_allowed_by_default", R"({"properties":{"a":{}}})", R"({"b":1})", "", ""},
    {"additional_false", R"({"properties":{"a":{}},"additionalProperties":false})", R"({"a":1,"extra":2})",
     "/extra", "is not allowed (additional property)"},
    {"additional_schema_ok", R"({"additionalProperties":{"type":"integer"}})", R"({"x":1})", "", ""},
    {"additional_schema_bad", R"({"additionalProperties":{"type":"integer"}})", R"({"x":"s"})", "/x",
     "must be an integer"},
    {"additional_does_not_apply_to_properties",
     R"({"properties":{"a":{"type":"string"}},"additionalProperties":{"type":"integer"}})", R"({"a":"s"})",
     "", ""},
    {"false_property", R"({"properties":{"x":false}})", R"({"x":1})", "/x", "is not allowed"},
    {"nested_path",
     R"({"properties":{"items":{"type":"array","items":{"type":"object",
         "properties":{"name":{"type":"string"}}}}}})",
     R"({"items":[{"name":"a"},{"name":"b"},{"name":3}]})", "/items/2/name", "must be a string"},
    {"nested_required", R"({"properties":{"user":{"properties":{"id":{}},"required":["id"]}}})",
     R"({"user":{}})", "/user/id", "is required"},
};
INSTANTIATE_TEST_SUITE_P(Object, ValidationTest, testing::ValuesIn(kObjectCases), case_name<ValidationCase>);

constexpr ValidationCase kArrayCases[] = {
    {"items_ok", R"({"items":{"type":"integer"}})", "[1,2,3]", "", ""},
    {"items_bad", R"({"items":{"type":"integer"}})", R"([1,2,"x"])", "/2", "must be an integer"},
    {"prefix_items_ok", R"({"prefixItems":[{"type":"string"},{"type":"integer"}]})", R"(["a",1,true])", "",
     ""},
    {"prefix_items_bad", R"({"prefixItems":[{"type":"string"},{"type":"integer"}]})", R"(["a","b"])", "/1",
     "must be an integer"},
    {"prefix_items_shorter_instance_ok", R"({"prefixItems":[{"type":"string"},{}]})", R"(["a"])", "", ""},
    {"items_after_prefix", R"({"prefixItems":[{"type":"string"}],"items":{"type":"integer"}})",
     R"(["a",1,"b"])", "/2", "must be an integer"},
    {"items_false_after_prefix", R"({"prefixItems":[{},{}],"items":false})", "[1,2,3]", "/2",
     "is not allowed (additional item)"},
    {"draft07_tuple_items", R"({"items":[{"type":"string"}],"additionalItems":false})", R"(["a",2])", "/1",
     "is not allowed (additional item)"},
    {"draft07_tuple_items_bad", R"({"items":[{"type":"string"}]})", "[2]", "/0", "must be a string"},
    {"min_items_ok", R"({"minItems":1})", "[0]", "", ""},
    {"min_items_bad", R"({"minItems":1})", "[]", "", "must have at least 1 items"},
    {"max_items_ok", R"({"maxItems":2})", "[0,0]", "", ""},
    {"max_items_bad", R"({"maxItems":2})", "[0,0,0]", "", "must have at most 2 items"},
    {"unique_ok", R"({"uniqueItems":true})", R"([1,"1",[1],{"a":1},null,true])", "", ""},
    {"unique_bad", R"({"uniqueItems":true})", "[1,2,1]", "",
     "must not contain duplicate items (items 0 and 2 are equal)"},
    {"unique_numbers_by_value", R"({"uniqueItems":true})", "[1,1.0]", "",
     "must not contain duplicate items (items 0 and 1 are equal)"},
    {"unique_objects_ignore_order", R"({"uniqueItems":true})", R"([{"a":1,"b":2},{"b":2,"a":1}])", "",
     "must not contain duplicate items (items 0 and 1 are equal)"},
    {"unique_false_allows_duplicates", R"({"uniqueItems":false})", "[1,1]", "", ""},
};
INSTANTIATE_TEST_SUITE_P(Array, ValidationTest, testing::ValuesIn(kArrayCases), case_name<ValidationCase>);

constexpr ValidationCase kStringCases[] = {
    {"min_length_ok", R"({"minLength":2})", R"("ab")", "", ""},
    {"min_length_bad", R"({"minLength":3})", R"("ab")", "", "must be at least 3 characters long"},
    {"max_length_ok", R"({"maxLength":2})", R"("ab")", "", ""},
    {"max_length_bad", R"({"maxLength":2})", R"("abc")", "", "must be at most 2 characters long"},
    // "é😀" is 2 code points in 6 UTF-8 bytes.
    {"max_length_counts_code_points", R"({"maxLength":2})", R"("é😀")", "", ""},
    {"min_length_counts_code_points", R"({"minLength":3})", R"("é😀")", "",
     "must be at least 3 characters long"},
    {"length_ignores_non_strings", R"({"maxLength":0})", "12345", "", ""},
    {"pattern_ok", R"({"pattern":"^[a-z]+$"})", R"("abc")", "", ""},
    {"pattern_bad", R"({"pattern":"^[a-z]+$"})", R"("abC")", "", "must match the pattern ^[a-z]+$"},
    {"pattern_is_unanchored", R"({"pattern":"b"})", R"("abc")", "", ""},
    {"format_is_annotation_only", R"({"format":"email"})", R"("not an email")", "", ""},
};
INSTANTIATE_TEST_SUITE_P(String, ValidationTest, testing::ValuesIn(kStringCases), case_name<ValidationCase>);

constexpr ValidationCase kNumberCases[] = {
    {"minimum_equal_ok", R"({"minimum":5})", "5", "", ""},
    {"minimum_bad", R"({"minimum":5})", "4", "", "must be greater than or equal to 5"},
    {"minimum_double_bad", R"({"minimum":5})", "4.9", "", "must be greater than or equal to 5"},
    {"minimum_fraction_message", R"({"minimum":0.5})", "0", "", "must be greater than or equal to 0.5"},
    {"minimum_negative_uint64_ok", R"({"minimum":-1})", "18446744073709551615", "", ""},
    {"exclusive_minimum_bad", R"({"exclusiveMinimum":5})", "5", "", "must be greater than 5"},
    {"exclusive_minimum_ok", R"({"exclusiveMinimum":5})", "5.1", "", ""},
    {"maximum_equal_double_ok", R"({"maximum":10})", "10.0", "", ""},
    {"maximum_bad", R"({"maximum":10})", "10.5", "", "must be less than or equal to 10"},
    {"exclusive_maximum_bad", R"({"exclusiveMaximum":10})", "10", "", "must be less than 10"},
    {"exclusive_maximum_ok", R"({"exclusiveMaximum":10})", "9.99", "", ""},
    // 2^53 + 1 rounds to 2^53 as a double; the comparison must stay exact.
    {"maximum_exact_above_2_53", R"({"maximum":9007199254740992})", "9007199254740993", "",
     "must be less than or equal to 9007199254740992"},
    {"maximum_uint64_below_double_2_64", R"({"maximum":18446744073709551616.0})", "18446744073709551615", "",
     ""},
    {"exclusive_maximum_int_vs_double", R"({"exclusiveMaximum":-9223372036854775808.0})",
     "-9223372036854775808", "", "must be less than -9223372036854775808"},
    {"bounds_ignore_non_numbers", R"({"minimum":5})", R"("1")", "", ""},
    {"multiple_of_ok", R"({"multipleOf":2})", "4", "", ""},
    {"multiple_of_bad", R"({"multipleOf":2})", "5", "", "must be a multiple of 2"},
    {"multiple_of_decimal_ok", R"({"multipleOf":0.1})", "0.3", "", ""},
    {"multiple_of_cents_ok", R"({"multipleOf":0.01})", "19.99", "", ""},
    {"multiple_of_decimal_bad", R"({"multipleOf":0.5})", "1.25", "", "must be a multiple of 0.5"},
    {"multiple_of_int64_min", R"({"multipleOf":2})", "-9223372036854775808", "", ""},
    // 2^53 + 1 is divisible by 3; its double rounding (2^53) is not.
    {"multiple_of_exact_integers", R"({"multipleOf":3})", "9007199254740993", "", ""},
    {"multiple_of_integral_double", R"({"multipleOf":3})", "9.0", "", ""},
};
INSTANTIATE_TEST_SUITE_P(Number, ValidationTest, testing::ValuesIn(kNumberCases), case_name<ValidationCase>);

constexpr ValidationCase kApplicatorCases[] = {
    {"all_of_ok", R"({"allOf":[{"type":"integer"},{"minimum":1}]})", "2", "", ""},
    {"all_of_reports_inner_violation",
     R"({"allOf":[{"type":"object"},{"properties":{"a":{"type":"string"}}}]})", R"({"a":1})", "/a",
     "must be a string"},
    {"any_of_ok", R"({"anyOf":[{"type":"string"},{"type":"integer"}]})", "1", "", ""},
    {"any_of_bad", R"({"anyOf":[{"type":"string"},{"type":"integer"}]})", "1.5", "",
     "must match at least one of the allowed schemas"},
    {"one_of_ok", R"({"oneOf":[{"type":"string"},{"type":"integer"}]})", "1", "", ""},
    {"one_of_none", R"({"oneOf":[{"type":"string"},{"type":"integer"}]})", "null", "",
     "must match exactly one of the allowed schemas (matched 0)"},
    {"one_of_two", R"({"oneOf":[{"type":"number"},{"type":"integer"}]})", "1", "",
     "must match exactly one of the allowed schemas (matched 2)"},
    {"not_ok", R"({"not":{"type":"null"}})", "1", "", ""},
    {"not_bad", R"({"not":{"type":"null"}})", "null", "", "must not match the disallowed schema"},
    {"true_schema", "true", R"({"anything":[1,2]})", "", ""},
    {"false_schema", "false", "null", "", "is not allowed"},
    {"empty_schema", "{}", "[]", "", ""},
    {"annotations_and_unknown_keywords_ignored",
     R"({"$schema":"https://json-schema.org/draft/2020-12/schema","$id":"urn:x","$comment":"c",
         "title":"t","description":"d","default":1,"examples":[1],"format":"uri",
         "x-vendor":{"type":"string"},"readOnly":true,"then":{"type":"string"}})",
     "1", "", ""},
    {"ref_siblings_apply", R"({"$defs":{"s":{"type":"string"}},"$ref":"#/$defs/s","minLength":2})", R"("a")",
     "", "must be at least 2 characters long"},
    {"ref_definitions_draft07", R"({"definitions":{"s":{"type":"string"}},"$ref":"#/definitions/s"})", "1",
     "", "must be a string"},
    {"ref_percent_encoded", R"({"$defs":{"a b":{"type":"string"}},"$ref":"#/$defs/a%20b"})", "1", "",
     "must be a string"},
    {"ref_escaped_pointer", R"({"$defs":{"a/b":{"type":"string"}},"$ref":"#/$defs/a~1b"})", "1", "",
     "must be a string"},
};
INSTANTIATE_TEST_SUITE_P(Applicator, ValidationTest, testing::ValuesIn(kApplicatorCases),
                         case_name<ValidationCase>);

// ---- $ref recursion -------------------------------------------------------------------------

constexpr std::string_view kTreeSchema = R"({
  "$defs": {
    "node": {
      "type": "object",
      "properties": {
        "value": {"type": "integer"},
        "children": {"type": "array", "items": {"$ref": "#/$defs/node"}}
      },
      "required": ["value"],
      "additionalProperties": false
    }
  },
  "$ref": "#/$defs/node"
})";

TEST(JsonSchemaRefTest, RecursiveTreeValidates) {
  const JsonSchema schema = compile_or_fail(kTreeSchema);
  EXPECT_FALSE(schema.validate(json::parse(R"({"value":1,"children":[
      {"value":2,"children":[]},
      {"value":3,"children":[{"value":4},{"value":5,"children":[{"value":6}]}]}]})")));
}

TEST(JsonSchemaRefTest, RecursiveTreeReportsDeepPath) {
  const JsonSchema schema = compile_or_fail(kTreeSchema);
  const auto violation = schema.validate(
      json::parse(R"({"value":1,"children":[{"value":2,"children":[{"value":3},{"value":"x"}]}]})"));
  ASSERT_TRUE(violation);
  EXPECT_EQ(violation->path, "/children/0/children/1/value");
  EXPECT_EQ(violation->message, "must be an integer");

  const auto missing = schema.validate(json::parse(R"({"value":1,"children":[{"children":[]}]})"));
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->path, "/children/0/value");
  EXPECT_EQ(missing->message, "is required");
}

TEST(JsonSchemaRefTest, RootRefRecursion) {
  const JsonSchema schema = compile_or_fail(R"({"type":["integer","array"],"items":{"$ref":"#"}})");
  EXPECT_FALSE(schema.validate(json::parse("[1,[2,[3,[]]]]")));
  const auto violation = schema.validate(json::parse(R"([1,[2,["x"]]])"));
  ASSERT_TRUE(violation);
  EXPECT_EQ(violation->path, "/1/1/0");
  EXPECT_EQ(violation->message, "must be an array or an integer");
}

TEST(JsonSchemaRefTest, MutualRecursionThroughDefinitions) {
  const JsonSchema schema = compile_or_fail(R"({
    "definitions": {
      "a": {"type": "object", "properties": {"b": {"$ref": "#/definitions/b"}}},
      "b": {"type": "array", "items": {"$ref": "#/definitions/a"}}
    },
    "$ref": "#/definitions/a"
  })");
  EXPECT_FALSE(schema.validate(json::parse(R"({"b":[{"b":[]},{}]})")));
  const auto violation = schema.validate(json::parse(R"({"b":[{"b":[1]}]})"));
  ASSERT_TRUE(violation);
  EXPECT_EQ(violation->path, "/b/0/b/0");
  EXPECT_EQ(violation->message, "must be an object");
}

TEST(JsonSchemaRefTest, CopiesOutliveTheOriginal) {
  std::optional<JsonSchema> copy;
  {
    const JsonSchema original = compile_or_fail(kTreeSchema);
    copy = original;
  }
  EXPECT_FALSE(copy->validate(json::parse(R"({"value":1,"children":[{"value":2}]})")));
  EXPECT_TRUE(copy->validate(json::parse(R"({"value":1,"children":[{}]})")));
}

// ---- Limits ---------------------------------------------------------------------------------

// `depth` arrays nested in one another: [[...[]...]].
json::value nested_arrays(std::size_t depth) {
  json::value value = json::array();
  for (std::size_t i = 1; i < depth; ++i) {
    json::array outer;
    outer.push_back(std::move(value));
    value = std::move(outer);
  }
  return value;
}

TEST(JsonSchemaLimitTest, InstanceAtDepthLimitIsValid) {
  const JsonSchema schema = compile_or_fail("{}");
  EXPECT_FALSE(schema.validate(nested_arrays(JsonSchema::kMaxInstanceDepth)));
}

TEST(JsonSchemaLimitTest, InstanceBeyondDepthLimitIsAViolation) {
  const JsonSchema schema = compile_or_fail("{}");
  const auto violation = schema.validate(nested_arrays(JsonSchema::kMaxInstanceDepth + 1));
  ASSERT_TRUE(violation);
  std::string expected_path;
  for (std::size_t i = 0; i < JsonSchema::kMaxInstanceDepth; ++i) expected_path += "/0";
  EXPECT_EQ(violation->path, expected_path);
  EXPECT_EQ(violation->message, "is nested too deeply (more than 64 levels)");
}

TEST(JsonSchemaLimitTest, VeryDeepInstanceDoesNotCrash) {
  const JsonSchema schema = compile_or_fail(R"({"items":{"$ref":"#"},"uniqueItems":true})");
  EXPECT_TRUE(schema.validate(nested_arrays(10'000)));
}

TEST(JsonSchemaLimitTest, DeepRecursiveTreeIsAViolation) {
  const JsonSchema schema = compile_or_fail(kTreeSchema);
  // Each tree level is an object and an array: 40 levels nest 80 deep.
  std::string text = R"({"value":0})";
  for (int i = 0; i < 40; ++i) text = R"({"value":0,"children":[)" + text + "]}";
  json::parse_options options;
  options.max_depth = 1000;
  const auto violation = schema.validate(json::parse(text, {}, options));
  ASSERT_TRUE(violation);
  EXPECT_EQ(violation->message, "is nested too deeply (more than 64 levels)");
}

TEST(JsonSchemaLimitTest, LongStringAgainstPatternIsAViolationNotACrash) {
  const JsonSchema schema = compile_or_fail(R"({"properties":{"s":{"pattern":"^(a|b)*$"}}})");
  json::object instance;
  instance["s"] = std::string(100'000, 'a');
  const auto violation = schema.validate(instance);
  ASSERT_TRUE(violation);
  EXPECT_EQ(violation->path, "/s");
  EXPECT_EQ(violation->message, "is too long to match against a pattern (more than 1024 bytes)");
  instance["s"] = std::string(1024, 'a');
  EXPECT_FALSE(schema.validate(instance));
}

TEST(JsonSchemaLimitTest, UncheckablePatternIsNotInvertedByNot) {
  // "not" must not turn "could not check" into "valid".
  const JsonSchema schema = compile_or_fail(R"({"anyOf":[{"not":{"pattern":"x"}},{"type":"integer"}]})");
  EXPECT_TRUE(schema.validate(json::value(std::string(2000, 'a'))));
  EXPECT_FALSE(schema.validate(json::value("abc")));
}

TEST(JsonSchemaLimitTest, UniqueItemsOnLargeArrayIsFast) {
  const JsonSchema schema = compile_or_fail(R"({"uniqueItems":true})");
  json::array items;
  for (std::int64_t i = 0; i < 200'000; ++i) items.push_back(i);
  EXPECT_FALSE(schema.validate(items));
  items.push_back(199'999.0);
  const auto violation = schema.validate(items);
  ASSERT_TRUE(violation);
  EXPECT_EQ(violation->message, "must not contain duplicate items (items 199999 and 200000 are equal)");
}

// ---- Compile errors -------------------------------------------------------------------------

struct CompileErrorCase {
  std::string_view name;
  std::string_view schema;
  std::string_view error_prefix;  // The error starts with the schema path.
};

void PrintTo(const CompileErrorCase& c, std::ostream* out) {
  *out << c.name;
}

class CompileErrorTest : public testing::TestWithParam<CompileErrorCase> {};

TEST_P(CompileErrorTest, NamesTheSchemaPath) {
  const CompileErrorCase& c = GetParam();
  const auto schema = JsonSchema::compile(json::parse(c.schema));
  ASSERT_FALSE(schema) << "compiled, expected " << c.error_prefix;
  EXPECT_TRUE(schema.error().starts_with(c.error_prefix))
      << "error: " << schema.error() << "\nexpected prefix: " << c.error_prefix;
}

constexpr CompileErrorCase kCompileErrorCases[] = {
    {"not_a_schema", "1", "#: must be an object or a boolean"},
    {"unknown_type", R"({"type":"str"})",
     "#/type: must be one of object, array, string, number, integer, boolean, null"},
    {"bad_type_in_list", R"({"type":["string",1]})", "#/type/1: must be one of"},
    {"empty_type_list", R"({"type":[]})", "#/type: must not be empty"},
    {"enum_not_array", R"({"enum":"a"})", "#/enum: must be an array"},
    {"properties_not_object", R"({"properties":[]})", "#/properties: must be an object"},
    {"nested_property_escaped", R"({"properties":{"a/b":{"minLength":-1}}})",
     "#/properties/a~1b/minLength: must be a non-negative integer"},
    {"required_not_strings", R"({"required":["a",2]})", "#/required/1: must be a string"},
    {"required_not_array", R"({"required":"a"})", "#/required: must be an array of strings"},
    {"additional_properties_not_schema", R"({"additionalProperties":"no"})",
     "#/additionalProperties: must be an object or a boolean"},
    {"min_items_fraction", R"({"minItems":1.5})", "#/minItems: must be a non-negative integer"},
    {"max_length_string", R"({"maxLength":"3"})", "#/maxLength: must be a non-negative integer"},
    {"unique_items_not_bool", R"({"uniqueItems":1})", "#/uniqueItems: must be a boolean"},
    {"pattern_invalid", R"({"pattern":"("})", "#/pattern: is not a valid ECMAScript regular expression"},
    {"pattern_not_string", R"({"pattern":1})", "#/pattern: must be a string"},
    {"minimum_not_number", R"({"minimum":"5"})", "#/minimum: must be a number"},
    {"draft04_exclusive_minimum", R"({"minimum":1,"exclusiveMinimum":true})",
     "#/exclusiveMinimum: must be a number"},
    {"multiple_of_zero", R"({"multipleOf":0})", "#/multipleOf: must be greater than 0"},
    {"multiple_of_negative", R"({"multipleOf":-0.5})", "#/multipleOf: must be greater than 0"},
    {"any_of_empty", R"({"anyOf":[]})", "#/anyOf: must not be empty"},
    {"one_of_not_array", R"({"oneOf":{}})", "#/oneOf: must be an array of schemas"},
    {"all_of_bad_member", R"({"allOf":[{},3]})", "#/allOf/1: must be an object or a boolean"},
    {"not_bad", R"({"not":3})", "#/not: must be an object or a boolean"},
    {"items_bad", R"({"items":{"type":"x"}})", "#/items/type: must be one of"},
    {"tuple_items_with_prefix_items", R"({"items":[{}],"prefixItems":[{}]})",
     "#/items: the array form cannot be combined with prefixItems"},
    {"additional_items_bad", R"({"items":[{}],"additionalItems":2})",
     "#/additionalItems: must be an object or a boolean"},
    {"ref_not_string", R"({"$ref":1})", "#/$ref: must be a string"},
    {"ref_remote", R"({"$ref":"https://example.com/schema"})", "#/$ref: only local refs"},
    {"ref_outside_defs", R"({"properties":{"a":{}},"$ref":"#/properties/a"})", "#/$ref: only local refs"},
    {"ref_bad_percent", R"({"$ref":"#/$defs/%zz"})", "#/$ref: only local refs"},
    {"ref_missing", R"({"properties":{"a":{"$ref":"#/$defs/nope"}}})",
     "#/properties/a/$ref: cannot resolve #/$defs/nope"},
    {"broken_unused_def", R"({"$defs":{"a":{"type":"nope"}}})", "#/$defs/a/type: must be one of"},
    {"broken_referenced_def", R"({"$defs":{"a":{"minimum":"x"}},"items":{"$ref":"#/$defs/a"}})",
     "#/$defs/a/minimum: must be a number"},
    {"defs_not_object", R"({"$defs":[]})", "#/$defs: must be an object"},
    {"self_ref_cycle", R"({"$defs":{"a":{"$ref":"#/$defs/a"}}})",
     "#/$defs/a: $ref cycle never descends into the instance"},
    {"root_ref_cycle", R"({"$ref":"#"})", "#: $ref cycle never descends into the instance"},
    {"cycle_through_applicators",
     R"({"$defs":{"a":{"allOf":[{"$ref":"#/$defs/b"}]},"b":{"anyOf":[{"not":{"$ref":"#/$defs/a"}}]}}})",
     "#/$defs/"},
    {"unsupported_keyword", R"({"properties":{"p":{"patternProperties":{}}}})",
     "#/properties/p/patternProperties: keyword is not supported"},
    {"unsupported_if", R"({"if":{},"then":{}})", "#/if: keyword is not supported"},
};
INSTANTIATE_TEST_SUITE_P(JsonSchema, CompileErrorTest, testing::ValuesIn(kCompileErrorCases),
                         case_name<CompileErrorCase>);

TEST(JsonSchemaCompileTest, SchemaBeyondDepthLimitIsAnError) {
  std::string text = "{}";
  for (std::size_t i = 0; i <= JsonSchema::kMaxSchemaDepth; ++i) text = R"({"items":)" + text + "}";
  json::parse_options options;
  options.max_depth = 1000;
  const auto schema = JsonSchema::compile(json::parse(text, {}, options));
  ASSERT_FALSE(schema);
  EXPECT_NE(schema.error().find("schema is nested too deeply"), std::string::npos) << schema.error();
}

TEST(JsonSchemaCompileTest, LongRefChainCountsTowardsDepth) {
  // d0 -> d1 -> ... -> d99, each hop compiled inside the previous one.
  json::object defs;
  for (int i = 0; i < 99; ++i) {
    defs["d" + std::to_string(i)] =
        json::object{{"items", json::object{{"$ref", "#/$defs/d" + std::to_string(i + 1)}}}};
  }
  defs["d99"] = json::object{{"type", "integer"}};
  const json::value document = json::object{{"$defs", std::move(defs)}, {"$ref", "#/$defs/d0"}};
  const auto schema = JsonSchema::compile(document);
  ASSERT_FALSE(schema);
  EXPECT_NE(schema.error().find("schema is nested too deeply"), std::string::npos) << schema.error();
}

}  // namespace
}  // namespace deputy::mcp
