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
// from properties, enum of the wrong type, ...). `where` prefixes every path.
std::vector<SchemaProblem> check_schema(const nlohmann::ordered_json& schema,
                                        const std::string& where);

// Problems of `value` against `schema`. Types are strict: "5" is not an integer, 5.0 is an
// integer only when it has no fractional part and was written without one is not required
// (JSON has one number type; 5.0 counts as integer, as JSON Schema says), true is not 1.
// Objects: required keys present, no keys outside properties unless additionalProperties allows.
std::vector<SchemaProblem> validate_json(const nlohmann::ordered_json& value,
                                         const nlohmann::ordered_json& schema,
                                         const std::string& path);

// An OpenAI tool ({"type": "function", "function": {"name", "description", "parameters"}}) or
// a bare function object ({"name", "parameters"}) -> the function object. Throws tsft::Error
// naming `where` and the field for anything else.
nlohmann::ordered_json function_of_tool(const nlohmann::ordered_json& tool,
                                        const std::string& where);

}  // namespace tsft
