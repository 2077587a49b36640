// JSON Schema for tool parameters (the subset OpenAI function calling uses: type incl. unions,
// properties, required, additionalProperties, enum, const, items, min/max, minItems/maxItems,
// minLength/maxLength, anyOf/oneOf, nullable, default, format "date"/"date-time"): checking a
// schema itself, and checking a value against it with every problem named by its JSON path.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace tsft {

struct SchemaProblem {
  std::string path;     // JSON path of the offending value, e.g. "arguments.items[2].qty"
  std::string message;  // e.g. "expected integer, got string \"5\""
};

// Problems with a tool's parameters schema itself (unknown type names, required keys missing
// from properties, enum/const/default values the schema would reject, min above max, a pattern
// that does not compile, keywords that change validation but are not implemented here such as
// $ref or not). Unknown annotation keys (examples, $comment, ...) are ignored. `where` prefixes
// every path. Empty result = the schema is usable.
std::vector<SchemaProblem> check_schema(const nlohmann::ordered_json& schema,
                                        const std::string& where);

// Problems of `value` against `schema`; empty = valid. Types are strict: "5" is not an integer,
// true is not 1, null only where "null" is a type or nullable is true; 5.0 counts as an integer
// (JSON has one number type, as JSON Schema says). Also checked: enum/const (numbers by value,
// object keys in any order), minimum/maximum/exclusive*, minLength/maxLength (in characters),
// pattern, format "date" (YYYY-MM-DD, a real day) and "date-time" (RFC 3339, offset required),
// minItems/maxItems/uniqueItems/items, required, anyOf/oneOf/allOf. Objects: with "properties"
// given, a key outside them is a problem unless additionalProperties is true or a schema (a
// stricter default than JSON Schema's, on purpose: an unknown argument is an invented one); an
// object schema without "properties" allows any key unless additionalProperties is false.
// `path` is the value's own path ("" at the root, "arguments" for a call's arguments).
std::vector<SchemaProblem> validate_json(const nlohmann::ordered_json& value,
                                         const nlohmann::ordered_json& schema,
                                         const std::string& path);

// An OpenAI tool ({"type": "function", "function": {"name", "description", "parameters"}}) or
// a bare function object ({"name", "parameters"}) -> the function object. Throws tsft::Error
// naming `where` and the field for anything else: a name that is not 1-64 of [A-Za-z0-9_.-],
// a description that is not a string, parameters that are not an object schema. It does not
// run check_schema on the parameters; callers that load user files do that too.
nlohmann::ordered_json function_of_tool(const nlohmann::ordered_json& tool,
                                        const std::string& where);

}  // namespace tsft
