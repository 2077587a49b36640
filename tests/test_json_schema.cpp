// JSON Schema subset: every keyword accepts what it should and names what it rejects by path;
// strict types; check_schema catches broken schemas; function_of_tool unwraps both tool layouts.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "chat/json_schema.h"
#include "core/error.h"

namespace tsft {
namespace {

using nlohmann::ordered_json;

ordered_json J(const char* text) {
  return ordered_json::parse(text);
}

std::vector<SchemaProblem> check(const char* value, const char* schema) {
  return validate_json(J(value), J(schema), "");
}

bool ok(const char* value, const char* schema) {
  return check(value, schema).empty();
}

// One problem, at `path`, whose message contains `needle`.
void expect_one(const std::vector<SchemaProblem>& problems, const std::string& path,
                const std::string& needle) {
  std::string all;
  for (const auto& p : problems) all += p.path + ": " + p.message + "\n";
  ASSERT_EQ(problems.size(), 1u) << all;
  EXPECT_EQ(problems[0].path, path);
  EXPECT_NE(problems[0].message.find(needle), std::string::npos) << problems[0].message;
}

TEST(ValidateJson, IntegerIsStrict) {
  const char* s = R"({"type": "integer"})";
  EXPECT_TRUE(ok("5", s));
  EXPECT_TRUE(ok("-3", s));
  EXPECT_TRUE(ok("5.0", s));  // JSON has one number type; 5.0 has no fraction
  expect_one(check("\"5\"", s), "", "expected integer, got string \"5\"");
  expect_one(check("5.5", s), "", "expected integer, got number 5.5");
  expect_one(check("true", s), "", "expected integer, got boolean true");
  expect_one(check("null", s), "", "expected integer, got null");
}

TEST(ValidateJson, NumberBooleanStringNullStrict) {
  EXPECT_TRUE(ok("5", R"({"type": "number"})"));
  EXPECT_TRUE(ok("2.5", R"({"type": "number"})"));
  expect_one(check("\"2.5\"", R"({"type": "number"})"), "", "got string");
  expect_one(check("true", R"({"type": "number"})"), "", "got boolean");
  EXPECT_TRUE(ok("false", R"({"type": "boolean"})"));
  expect_one(check("1", R"({"type": "boolean"})"), "", "expected boolean, got integer 1");
  expect_one(check("\"true\"", R"({"type": "boolean"})"), "", "got string");
  EXPECT_TRUE(ok("\"\"", R"({"type": "string"})"));
  expect_one(check("5", R"({"type": "string"})"), "", "expected string, got integer 5");
  EXPECT_TRUE(ok("null", R"({"type": "null"})"));
  expect_one(check("0", R"({"type": "null"})"), "", "expected null");
  expect_one(check("{}", R"({"type": "array"})"), "", "expected array, got object");
  expect_one(check("[]", R"({"type": "object"})"), "", "expected object, got array");
}

TEST(ValidateJson, NullOnlyWhereAllowed) {
  EXPECT_TRUE(ok("null", R"({"type": ["string", "null"]})"));
  EXPECT_TRUE(ok("\"x\"", R"({"type": ["string", "null"]})"));
  expect_one(check("3", R"({"type": ["string", "null"]})"), "", "expected string or null");
  EXPECT_TRUE(ok("null", R"({"type": "string", "nullable": true})"));
  expect_one(check("null", R"({"type": "string", "nullable": false})"), "", "got null");
  expect_one(check("null", R"({"type": "string"})"), "", "expected string, got null");
  // Without a declared type any value passes the type check, null included.
  EXPECT_TRUE(ok("null", R"({"description": "anything"})"));
}

TEST(ValidateJson, EnumAndConst) {
  const char* s = R"({"type": "string", "enum": ["celsius", "fahrenheit"]})";
  EXPECT_TRUE(ok("\"celsius\"", s));
  expect_one(check("\"kelvin\"", s), "", "is not one of [\"celsius\",\"fahrenheit\"]");
  expect_one(check("\"Celsius\"", s), "", "is not one of");  // case matters
  EXPECT_TRUE(ok("2.0", R"({"enum": [1, 2, 3]})"));          // numbers compare by value
  expect_one(check("true", R"({"enum": [1, 2]})"), "", "boolean true is not one of");
  EXPECT_TRUE(ok(R"({"b": 2, "a": 1})", R"({"const": {"a": 1, "b": 2}})"));  // key order free
  expect_one(check(R"({"a": 1})", R"({"const": {"a": 1, "b": 2}})"), "", "expected {\"a\":1");
  EXPECT_TRUE(ok("null", R"({"enum": ["a", null]})"));
}

TEST(ValidateJson, NumberBounds) {
  const char* s = R"({"type": "integer", "minimum": 1, "maximum": 10})";
  EXPECT_TRUE(ok("1", s));
  EXPECT_TRUE(ok("10", s));
  expect_one(check("0", s), "", "0 is below the minimum 1");
  expect_one(check("11", s), "", "11 is above the maximum 10");
  const char* ex = R"({"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 1})";
  EXPECT_TRUE(ok("0.5", ex));
  expect_one(check("0", ex), "", "not above the exclusive minimum 0");
  expect_one(check("1", ex), "", "not below the exclusive maximum 1");
  // Draft 4's boolean spelling.
  const char* d4 = R"({"type": "number", "minimum": 0, "exclusiveMinimum": true})";
  expect_one(check("0", d4), "", "below the exclusive minimum 0");
  EXPECT_TRUE(ok("0.001", d4));
}

TEST(ValidateJson, StringLengthPatternAndFormats) {
  const char* s = R"({"type": "string", "minLength": 2, "maxLength": 3})";
  EXPECT_TRUE(ok("\"ab\"", s));
  EXPECT_TRUE(ok("\"\xC3\xA9t\xC3\xA9\"", s));  // "été": 3 characters, 5 bytes
  expect_one(check("\"a\"", s), "", "length 1 is shorter than minLength 2");
  expect_one(check("\"abcd\"", s), "", "length 4 is longer than maxLength 3");
  const char* pat = R"({"type": "string", "pattern": "^[0-9]{2}:[0-9]{2}$"})";
  EXPECT_TRUE(ok("\"09:30\"", pat));
  expect_one(check("\"9:30\"", pat), "", "does not match the pattern");
  EXPECT_TRUE(ok("\"xx12yy\"", R"({"pattern": "[0-9]+"})"));  // unanchored, like ECMA-262

  const char* date = R"({"type": "string", "format": "date"})";
  EXPECT_TRUE(ok("\"2026-03-14\"", date));
  EXPECT_TRUE(ok("\"2024-02-29\"", date));  // leap year
  expect_one(check("\"2025-02-29\"", date), "", "is not a date");
  expect_one(check("\"1900-02-29\"", date), "", "is not a date");  // century, not leap
  EXPECT_TRUE(ok("\"2000-02-29\"", date));                         // divisible by 400
  expect_one(check("\"2026-04-31\"", date), "", "is not a date");
  expect_one(check("\"2026-13-01\"", date), "", "is not a date");
  expect_one(check("\"2026-3-14\"", date), "", "is not a date");
  expect_one(check("\"14/03/2026\"", date), "", "is not a date");

  const char* dt = R"({"type": "string", "format": "date-time"})";
  EXPECT_TRUE(ok("\"2026-03-14T15:09:26Z\"", dt));
  EXPECT_TRUE(ok("\"2026-03-14T15:09:26.535+01:00\"", dt));
  EXPECT_TRUE(ok("\"2026-03-14t15:09:26z\"", dt));
  expect_one(check("\"2026-03-14T15:09:26\"", dt), "", "is not a date-time");  // no offset
  expect_one(check("\"2026-03-14 15:09:26Z\"", dt), "", "is not a date-time");
  expect_one(check("\"2026-03-14T24:00:00Z\"", dt), "", "is not a date-time");
  expect_one(check("\"2026-03-14T15:09:26+1:00\"", dt), "", "is not a date-time");
  expect_one(check("\"2026-03-14\"", dt), "", "is not a date-time");
  // Formats this subset does not know are annotations.
  EXPECT_TRUE(ok("\"not an email\"", R"({"type": "string", "format": "email"})"));
}

TEST(ValidateJson, ArraysWithPaths) {
  const char* s = R"({"type": "array", "minItems": 1, "maxItems": 3,
                      "items": {"type": "integer", "minimum": 0}})";
  EXPECT_TRUE(ok("[0, 1, 2]", s));
  expect_one(check("[]", s), "", "array of 0 items has fewer than minItems 1");
  expect_one(check("[1, 2, 3, 4]", s), "", "more than maxItems 3");
  expect_one(check("[1, \"2\", 3]", s), "[1]", "expected integer, got string \"2\"");
  const auto two = check("[-1, 1, -2]", s);
  ASSERT_EQ(two.size(), 2u);
  EXPECT_EQ(two[0].path, "[0]");
  EXPECT_EQ(two[1].path, "[2]");
  expect_one(check("[1, 2, 1]", R"({"type": "array", "uniqueItems": true})"), "[2]",
             "repeats item 0");
}

TEST(ValidateJson, NestedObjectsAndUnknownKeys) {
  const char* s = R"({
    "type": "object",
    "properties": {
      "to": {"type": "string"},
      "items": {"type": "array", "items": {
        "type": "object",
        "properties": {"sku": {"type": "string"}, "qty": {"type": "integer", "minimum": 1}},
        "required": ["sku", "qty"]}},
      "options": {"type": "object", "properties": {"gift": {"type": "boolean"}},
                  "additionalProperties": false}
    },
    "required": ["to"]
  })";
  EXPECT_TRUE(ok(R"({"to": "x", "items": [{"sku": "a", "qty": 1}], "options": {}})", s));
  auto p = validate_json(J(R"({"to": "x", "items": [{"sku": "a", "qty": 1}, {"sku": "b"}]})"), J(s),
                         "arguments");
  expect_one(p, "arguments.items[1].qty", "missing required property");
  p = validate_json(J(R"({"to": "x", "items": [{"sku": "a", "qty": "2"}]})"), J(s), "arguments");
  expect_one(p, "arguments.items[0].qty", "expected integer, got string \"2\"");
  expect_one(check(R"({"items": []})", s), "to", "missing required property");
  // Unknown keys: rejected where properties are listed (the default here) or with
  // additionalProperties false; kept when additionalProperties allows them.
  expect_one(check(R"({"to": "x", "cc": "y"})", s), "cc", "unexpected property");
  expect_one(check(R"({"to": "x", "options": {"wrap": true}})", s), "options.wrap",
             "unexpected property");
  EXPECT_TRUE(ok(R"({"a": 1})", R"({"type": "object", "properties": {"a": {}},
                                   "additionalProperties": true})"));
  EXPECT_TRUE(ok(R"({"a": 1, "b": 2})", R"({"type": "object"})"));  // free-form object
  expect_one(check(R"({"b": 2})", R"({"type": "object", "additionalProperties": false})"), "b",
             "unexpected property");
  const char* typed_extra = R"({"type": "object", "properties": {},
                                "additionalProperties": {"type": "number"}})";
  EXPECT_TRUE(ok(R"({"x": 1.5})", typed_extra));
  expect_one(check(R"({"x": "1.5"})", typed_extra), "x", "expected number");
  // Keys that are not identifiers are bracketed in paths.
  expect_one(check(R"({"to": "x", "a b": 1})", s), "[\"a b\"]", "unexpected property");
  // Several problems at once, each with its own path, in document order.
  p = check(R"({"to": 1, "extra": true})", s);
  ASSERT_EQ(p.size(), 2u);
  EXPECT_EQ(p[0].path, "to");
  EXPECT_EQ(p[1].path, "extra");
}

TEST(ValidateJson, AnyOfOneOfAllOf) {
  const char* any = R"({"anyOf": [{"type": "string"}, {"type": "integer", "minimum": 0}]})";
  EXPECT_TRUE(ok("\"x\"", any));
  EXPECT_TRUE(ok("3", any));
  expect_one(check("-1", any), "", "matches none of the anyOf schemas");
  const char* one = R"({"oneOf": [{"type": "integer"}, {"type": "number"}]})";
  EXPECT_TRUE(ok("2.5", one));  // a number, not an integer: exactly one
  expect_one(check("2", one), "", "matches 2 of the oneOf schemas");
  const char* all = R"({"allOf": [{"type": "integer"}, {"minimum": 5}]})";
  EXPECT_TRUE(ok("6", all));
  expect_one(check("4", all), "", "below the minimum 5");
}

TEST(ValidateJson, BooleanSchemas) {
  EXPECT_TRUE(ok("1", "true"));
  expect_one(check("1", "false"), "", "no value is allowed");
}

// check_schema ---------------------------------------------------------------------------------

std::vector<SchemaProblem> schema_problems(const char* schema) {
  return check_schema(J(schema), "tools[0].function.parameters");
}

TEST(CheckSchema, AcceptsAGoodSchema) {
  EXPECT_TRUE(schema_problems(R"({
    "type": "object",
    "properties": {
      "city": {"type": "string", "description": "City name", "minLength": 1},
      "unit": {"type": "string", "enum": ["c", "f"], "default": "c"},
      "days": {"type": "integer", "minimum": 1, "maximum": 14},
      "when": {"type": ["string", "null"], "format": "date-time"},
      "tags": {"type": "array", "items": {"type": "string"}, "maxItems": 5, "uniqueItems": true},
      "loc": {"type": "object", "properties": {"lat": {"type": "number"}},
              "required": ["lat"], "additionalProperties": false},
      "x": {"anyOf": [{"type": "string"}, {"type": "integer"}]},
      "t": {"type": "string", "pattern": "^[0-9]{2}:[0-9]{2}$"}
    },
    "required": ["city"],
    "examples": [{"city": "Oslo"}]
  })")
                  .empty());
}

TEST(CheckSchema, NamesEachBrokenPart) {
  expect_one(schema_problems(R"({"type": "text"})"), "tools[0].function.parameters.type",
             "unknown type \"text\"");
  expect_one(schema_problems(R"({"type": ["string", "str"]})"),
             "tools[0].function.parameters.type[1]", "unknown type \"str\"");
  expect_one(schema_problems(R"({"type": "object", "properties": {"a": {"type": "int"}}})"),
             "tools[0].function.parameters.properties.a.type", "unknown type");
  expect_one(schema_problems(R"({"type": "object", "properties": {"a": {}}, "required": ["b"]})"),
             "tools[0].function.parameters.required[0]", "\"b\" is not in properties");
  expect_one(schema_problems(R"({"type": "object", "required": ["a"]})"),
             "tools[0].function.parameters.required[0]", "\"a\" is not in properties");
  // Inside anyOf/oneOf/allOf, "required" alone names keys of the enclosing object.
  EXPECT_TRUE(schema_problems(R"({"type": "object", "properties": {"a": {}, "b": {}},
      "anyOf": [{"required": ["a"]}, {"required": ["b"]}]})")
                  .empty());
  expect_one(schema_problems(R"({"type": "object", "required": "a"})"),
             "tools[0].function.parameters.required", "must be an array");
  expect_one(schema_problems(R"({"type": "integer", "enum": ["1", 2]})"),
             "tools[0].function.parameters.enum[0]", "expected integer, got string \"1\"");
  // Each property is judged on its own: a broken sibling does not hide a bad enum.
  const auto both = schema_problems(R"({"type": "object", "properties": {
      "a": {"type": "int"}, "b": {"type": "integer", "enum": ["x"]}}})");
  ASSERT_EQ(both.size(), 2u);
  EXPECT_EQ(both[1].path, "tools[0].function.parameters.properties.b.enum[0]");
  expect_one(schema_problems(R"({"type": "string", "enum": []})"),
             "tools[0].function.parameters.enum", "non-empty");
  expect_one(schema_problems(R"({"type": "integer", "default": "3"})"),
             "tools[0].function.parameters.default", "does not fit");
  expect_one(schema_problems(R"({"type": "string", "enum": ["a"], "default": "b"})"),
             "tools[0].function.parameters.default", "is not one of");
  expect_one(schema_problems(R"({"type": "integer", "minimum": 5, "maximum": 1})"),
             "tools[0].function.parameters.minimum", "greater than maximum");
  expect_one(schema_problems(R"({"type": "string", "minLength": -1})"),
             "tools[0].function.parameters.minLength", "non-negative integer");
  expect_one(schema_problems(R"({"type": "number", "maximum": "9"})"),
             "tools[0].function.parameters.maximum", "must be a number");
  expect_one(schema_problems(R"({"type": "string", "pattern": "([a-z"})"),
             "tools[0].function.parameters.pattern", "not a valid regular expression");
  expect_one(schema_problems(R"({"type": "object", "properties": []})"),
             "tools[0].function.parameters.properties", "must be an object");
  expect_one(schema_problems(R"({"type": "object", "additionalProperties": "no"})"),
             "tools[0].function.parameters.additionalProperties", "true, false or a schema");
  expect_one(schema_problems(R"({"anyOf": []})"), "tools[0].function.parameters.anyOf",
             "non-empty array");
  expect_one(schema_problems(R"({"type": "array", "items": [{"type": "string"}]})"),
             "tools[0].function.parameters.items", "tuple items");
  expect_one(schema_problems(R"({"$ref": "#/defs/a"})"), "tools[0].function.parameters.$ref",
             "not supported");
  expect_one(schema_problems(R"({"type": "string", "nullable": "yes"})"),
             "tools[0].function.parameters.nullable", "true or false");
  expect_one(schema_problems(R"("string")"), "tools[0].function.parameters",
             "a schema must be an object");
  expect_one(schema_problems(R"({"type": "object", "properties": {"a": 5}})"),
             "tools[0].function.parameters.properties.a", "a schema must be an object");
}

// function_of_tool -----------------------------------------------------------------------------

TEST(FunctionOfTool, UnwrapsBothLayouts) {
  const ordered_json fn = J(R"({"name": "get_weather", "description": "Weather",
                                "parameters": {"type": "object", "properties": {}}})");
  ordered_json tool = {{"type", "function"}, {"function", fn}};
  EXPECT_EQ(function_of_tool(tool, "tools[0]"), fn);
  EXPECT_EQ(function_of_tool(fn, "tools[0]"), fn);
}

std::string error_of(const char* tool) {
  try {
    function_of_tool(J(tool), "tools.json: tools[2]");
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(FunctionOfTool, NamesTheFieldAtFault) {
  EXPECT_EQ(error_of("[]"), "tools.json: tools[2]: a tool must be an object, got array of 0");
  EXPECT_EQ(error_of(R"({"type": "function"})").find("not a tool"), 22u);
  EXPECT_EQ(error_of(R"({"type": "retrieval", "function": {"name": "a"}})"),
            "tools.json: tools[2]: field 'type' must be \"function\", got \"retrieval\"");
  EXPECT_EQ(error_of(R"({"type": "function", "function": {"name": 3}})"),
            "tools.json: tools[2].function: field 'name' must be a string");
  EXPECT_NE(error_of(R"({"name": "get weather"})").find("field 'name' \"get weather\" must be"),
            std::string::npos);
  EXPECT_EQ(error_of(R"({"name": "a", "description": 1})"),
            "tools.json: tools[2]: field 'description' must be a string");
  EXPECT_NE(error_of(R"({"name": "a", "parameters": []})").find("field 'parameters' must be"),
            std::string::npos);
  EXPECT_NE(error_of(R"({"name": "a", "parameters": {"type": "array"}})")
                .find("field 'parameters.type' must be \"object\""),
            std::string::npos);
}

// Patterns match code points, as ECMA-262 and constrained decoding read them, not UTF-8 bytes.
TEST(ValidateJson, PatternsSeeCharactersNotBytes) {
  EXPECT_TRUE(ok(R"("日本")", R"({"type": "string", "pattern": "^.{2}$"})"));
  EXPECT_TRUE(ok(R"("é")", R"({"type": "string", "pattern": "^[é]$"})"));
  EXPECT_FALSE(ok(R"("A")", R"({"type": "string", "pattern": "^\\u0141$"})"));
  EXPECT_TRUE(ok(R"("Ł")", R"({"type": "string", "pattern": "^\\u0141$"})"));
  // A construct RegexPrefix does not take (a backreference) still works through std::regex.
  EXPECT_TRUE(ok(R"("abab")", R"({"type": "string", "pattern": "^(ab)\\1$"})"));
  EXPECT_FALSE(ok(R"("abba")", R"({"type": "string", "pattern": "^(ab)\\1$"})"));
}

}  // namespace
}  // namespace tsft
