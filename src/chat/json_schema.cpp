// JSON Schema subset for tool parameters: schema checks (check_schema), value checks
// (validate_json) and the tool -> function unwrapping (function_of_tool).
#include "chat/json_schema.h"

#include <cmath>
#include <cstdint>
#include <map>
#include <memory>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include "chat/regex_prefix.h"
#include "core/error.h"
#include "tokenizer/unicode.h"

namespace tsft {
namespace {

using nlohmann::ordered_json;

const std::set<std::string> kTypeNames = {"string", "integer", "number", "boolean",
                                          "array",  "object",  "null"};

// Keywords that change what a value may be but that this subset does not implement: accepting
// them silently would let wrong values through, so check_schema names them.
const std::set<std::string> kUnsupported = {"$ref",
                                            "not",
                                            "if",
                                            "then",
                                            "else",
                                            "contains",
                                            "prefixItems",
                                            "patternProperties",
                                            "dependentRequired",
                                            "dependentSchemas",
                                            "dependencies",
                                            "propertyNames",
                                            "unevaluatedProperties",
                                            "unevaluatedItems",
                                            "multipleOf",
                                            "minProperties",
                                            "maxProperties",
                                            "additionalItems"};

// "items[2]" / "a.b" / a["odd key"]: object keys that are not plain identifiers are bracketed so
// the path stays unambiguous.
std::string key_path(const std::string& base, const std::string& key) {
  bool plain = !key.empty();
  for (char c : key) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '-' || c == '$';
    if (!ok) plain = false;
  }
  if (plain) return base.empty() ? key : base + "." + key;
  return base + "[" + ordered_json(key).dump() + "]";
}

std::string index_path(const std::string& base, size_t i) {
  return base + "[" + std::to_string(i) + "]";
}

bool is_integer_value(const ordered_json& v) {
  if (v.is_number_integer()) return true;
  if (!v.is_number_float()) return false;
  const double d = v.get<double>();
  return std::isfinite(d) && std::floor(d) == d;
}

bool is_nonneg_integer(const ordered_json& v) {
  return is_integer_value(v) && v.get<double>() >= 0;
}

// "string \"5\"", "boolean true", "number 5.5", "object": what a message says the value was.
std::string describe(const ordered_json& v) {
  switch (v.type()) {
    case ordered_json::value_t::null:
      return "null";
    case ordered_json::value_t::boolean:
      return str("boolean ", v.dump());
    case ordered_json::value_t::number_integer:
    case ordered_json::value_t::number_unsigned:
      return str("integer ", v.dump());
    case ordered_json::value_t::number_float:
      return str(is_integer_value(v) ? "integer " : "number ", v.dump());
    case ordered_json::value_t::string: {
      std::string s = v.get<std::string>();
      if (s.size() > 40) s = s.substr(0, 37) + "...";
      return str("string ", ordered_json(s).dump());
    }
    case ordered_json::value_t::array:
      return str("array of ", v.size());
    case ordered_json::value_t::object:
      return "object";
    default:
      return "binary";
  }
}

// A boolean keyword (nullable, uniqueItems) that is true; a non-boolean counts as absent here
// (check_schema reports it) instead of throwing as ordered_json::value would.
bool is_true(const ordered_json& schema, const char* key) {
  auto it = schema.find(key);
  return it != schema.end() && it->is_boolean() && it->get<bool>();
}

bool has_type(const ordered_json& v, const std::string& type) {
  if (type == "string") return v.is_string();
  if (type == "integer") return is_integer_value(v);
  if (type == "number") return v.is_number();  // booleans are not numbers in nlohmann
  if (type == "boolean") return v.is_boolean();
  if (type == "array") return v.is_array();
  if (type == "object") return v.is_object();
  if (type == "null") return v.is_null();
  return false;
}

// Deep equality for enum/const: numbers compare by value (5 == 5.0), object keys in any order
// (ordered_json's own == compares key order too), and booleans never equal numbers.
bool json_equal(const ordered_json& a, const ordered_json& b) {
  if (a.is_number() && b.is_number()) {
    if (a.is_number_float() || b.is_number_float()) return a.get<double>() == b.get<double>();
    return a == b;
  }
  if (a.type() != b.type()) return false;
  if (a.is_array()) {
    if (a.size() != b.size()) return false;
    for (size_t i = 0; i < a.size(); ++i)
      if (!json_equal(a[i], b[i])) return false;
    return true;
  }
  if (a.is_object()) {
    if (a.size() != b.size()) return false;
    for (const auto& [k, v] : a.items()) {
      auto it = b.find(k);
      if (it == b.end() || !json_equal(v, *it)) return false;
    }
    return true;
  }
  return a == b;
}

// Unicode code points in a UTF-8 string (minLength/maxLength count characters, not bytes).
size_t utf8_length(const std::string& s) {
  size_t n = 0;
  for (unsigned char c : s)
    if ((c & 0xC0) != 0x80) ++n;
  return n;
}

bool digits(const std::string& s, size_t pos, size_t count) {
  if (pos + count > s.size()) return false;
  for (size_t i = pos; i < pos + count; ++i)
    if (s[i] < '0' || s[i] > '9') return false;
  return true;
}

int number_at(const std::string& s, size_t pos, size_t count) {
  return std::stoi(s.substr(pos, count));
}

// RFC 3339 full-date: YYYY-MM-DD with a real calendar day (leap years included).
bool is_date(const std::string& s) {
  if (s.size() != 10 || !digits(s, 0, 4) || s[4] != '-' || !digits(s, 5, 2) || s[7] != '-' ||
      !digits(s, 8, 2))
    return false;
  const int y = number_at(s, 0, 4), m = number_at(s, 5, 2), d = number_at(s, 8, 2);
  if (m < 1 || m > 12 || d < 1) return false;
  static const int kDays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  return d <= kDays[m - 1] + (m == 2 && leap ? 1 : 0);
}

// RFC 3339 date-time: full-date "T" HH:MM:SS[.frac] then "Z" or +HH:MM / -HH:MM. The offset is
// required, as RFC 3339 (and so JSON Schema) says; a leap second (:60) is allowed.
bool is_date_time(const std::string& s) {
  if (s.size() < 20 || !is_date(s.substr(0, 10))) return false;
  if (s[10] != 'T' && s[10] != 't') return false;
  if (!digits(s, 11, 2) || s[13] != ':' || !digits(s, 14, 2) || s[16] != ':' || !digits(s, 17, 2))
    return false;
  if (number_at(s, 11, 2) > 23 || number_at(s, 14, 2) > 59 || number_at(s, 17, 2) > 60)
    return false;
  size_t pos = 19;
  if (s[pos] == '.') {
    ++pos;
    const size_t start = pos;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') ++pos;
    if (pos == start) return false;
  }
  if (pos == s.size()) return false;
  if ((s[pos] == 'Z' || s[pos] == 'z') && pos + 1 == s.size()) return true;
  if (s[pos] != '+' && s[pos] != '-') return false;
  if (s.size() != pos + 6 || !digits(s, pos + 1, 2) || s[pos + 3] != ':' || !digits(s, pos + 4, 2))
    return false;
  return number_at(s, pos + 1, 2) <= 23 && number_at(s, pos + 4, 2) <= 59;
}

// The declared type names of a schema ("type": "x" or ["x", "y"]); empty when none is declared.
std::vector<std::string> declared_types(const ordered_json& schema) {
  std::vector<std::string> out;
  auto it = schema.find("type");
  if (it == schema.end()) return out;
  if (it->is_string()) out.push_back(it->get<std::string>());
  if (it->is_array())
    for (const auto& t : *it)
      if (t.is_string()) out.push_back(t.get<std::string>());
  return out;
}

std::string join_types(const std::vector<std::string>& types) {
  std::string out;
  for (size_t i = 0; i < types.size(); ++i) out += (i ? " or " : "") + types[i];
  return out;
}

// Compiling a std::regex costs far more than matching a short argument, and generators validate
// thousands of values against the same few patterns. Per thread, so no locking; bounded.
const std::regex& compiled(const std::string& pattern) {
  thread_local std::map<std::string, std::regex> cache;
  auto it = cache.find(pattern);
  if (it != cache.end()) return it->second;
  if (cache.size() >= 256) cache.clear();
  return cache.emplace(pattern, std::regex(pattern, std::regex::ECMAScript)).first->second;
}

// A string's code points (a byte that is not valid UTF-8 stands for itself as U+FFFD).
std::u32string code_points(const std::string& s) {
  std::u32string out;
  for (size_t i = 0; i < s.size();) {
    uint32_t cp;
    i += static_cast<size_t>(unicode::decode_utf8(s, i, &cp));
    out.push_back(cp == unicode::kInvalid ? U'\uFFFD' : static_cast<char32_t>(cp));
  }
  return out;
}

// ECMA-262 "pattern" semantics on code points (what a JSON Schema means, and what constrained
// decoding enforces), through RegexPrefix; a pattern it cannot compile falls back to std::regex
// on the UTF-8 bytes, which agrees for ASCII. Throws std::regex_error for a broken pattern.
bool pattern_search(const std::string& pattern, const std::string& s) {
  thread_local std::map<std::string, std::shared_ptr<const RegexPrefix>> cache;
  auto it = cache.find(pattern);
  if (it == cache.end()) {
    if (cache.size() >= 256) cache.clear();
    std::shared_ptr<const RegexPrefix> re;
    try {
      re = RegexPrefix::compile(pattern);
    } catch (const Error&) {
      // unsupported construct: std::regex below
    }
    it = cache.emplace(pattern, re).first;
  }
  if (it->second) return it->second->matches(code_points(s));
  return std::regex_search(s, compiled(pattern));
}

class Validator {
 public:
  std::vector<SchemaProblem> problems;

  void add(const std::string& path, std::string message) {
    problems.push_back({path, std::move(message)});
  }

  void value(const ordered_json& v, const ordered_json& schema, const std::string& path) {
    if (schema.is_boolean()) {  // JSON Schema's boolean schemas: true allows all, false none
      if (!schema.get<bool>()) add(path, "no value is allowed here");
      return;
    }
    if (!schema.is_object()) return;  // check_schema reports it; nothing to check against
    const bool nullable = is_true(schema, "nullable");
    if (v.is_null() && nullable) return;

    const std::vector<std::string> types = declared_types(schema);
    if (!types.empty()) {
      bool ok = false;
      for (const auto& t : types) ok = ok || has_type(v, t);
      if (!ok) {
        add(path,
            str("expected ", join_types(types), nullable ? " or null" : "", ", got ", describe(v)));
        return;  // the keyword checks below assume the declared type
      }
    }
    if (auto it = schema.find("enum"); it != schema.end() && it->is_array()) {
      bool found = false;
      for (const auto& e : *it) found = found || json_equal(v, e);
      if (!found) add(path, str(describe(v), " is not one of ", it->dump()));
    }
    if (auto it = schema.find("const"); it != schema.end() && !json_equal(v, *it))
      add(path, str("expected ", it->dump(), ", got ", describe(v)));

    if (v.is_number()) number(v.get<double>(), v, schema, path);
    if (v.is_string()) string(v.get<std::string>(), schema, path);
    if (v.is_array()) array(v, schema, path);
    if (v.is_object()) object(v, schema, path);
    combinators(v, schema, path);
  }

 private:
  static bool num(const ordered_json& schema, const char* key, double* out) {
    auto it = schema.find(key);
    if (it == schema.end() || !it->is_number()) return false;
    *out = it->get<double>();
    return true;
  }

  void number(double d, const ordered_json& v, const ordered_json& schema,
              const std::string& path) {
    double bound;
    // Draft 4 spelled exclusivity as a boolean beside minimum/maximum; later drafts as a number.
    const bool excl_min_flag = is_true(schema, "exclusiveMinimum");
    const bool excl_max_flag = is_true(schema, "exclusiveMaximum");
    if (num(schema, "minimum", &bound) && (excl_min_flag ? d <= bound : d < bound))
      add(path, str(v.dump(), " is below the ", excl_min_flag ? "exclusive " : "", "minimum ",
                    schema["minimum"].dump()));
    if (num(schema, "maximum", &bound) && (excl_max_flag ? d >= bound : d > bound))
      add(path, str(v.dump(), " is above the ", excl_max_flag ? "exclusive " : "", "maximum ",
                    schema["maximum"].dump()));
    if (num(schema, "exclusiveMinimum", &bound) && d <= bound)
      add(path,
          str(v.dump(), " is not above the exclusive minimum ", schema["exclusiveMinimum"].dump()));
    if (num(schema, "exclusiveMaximum", &bound) && d >= bound)
      add(path,
          str(v.dump(), " is not below the exclusive maximum ", schema["exclusiveMaximum"].dump()));
  }

  void string(const std::string& s, const ordered_json& schema, const std::string& path) {
    const size_t len = utf8_length(s);
    double bound;
    if (num(schema, "minLength", &bound) && len < bound)
      add(path,
          str("string of length ", len, " is shorter than minLength ", schema["minLength"].dump()));
    if (num(schema, "maxLength", &bound) && len > bound)
      add(path,
          str("string of length ", len, " is longer than maxLength ", schema["maxLength"].dump()));
    if (auto it = schema.find("format"); it != schema.end() && it->is_string()) {
      const std::string f = it->get<std::string>();
      if (f == "date" && !is_date(s))
        add(path, str(ordered_json(s).dump(), " is not a date (YYYY-MM-DD)"));
      if (f == "date-time" && !is_date_time(s))
        add(path, str(ordered_json(s).dump(),
                      " is not a date-time (YYYY-MM-DDTHH:MM:SS with Z or +HH:MM)"));
    }
    if (auto it = schema.find("pattern"); it != schema.end() && it->is_string()) {
      try {
        // JSON Schema patterns are ECMA-262 and unanchored: a match anywhere counts.
        if (!pattern_search(it->get<std::string>(), s))
          add(path, str(ordered_json(s).dump(), " does not match the pattern ", it->dump()));
      } catch (const std::regex_error&) {
        // A broken pattern is check_schema's problem to report; here it cannot judge the value.
      }
    }
  }

  void array(const ordered_json& v, const ordered_json& schema, const std::string& path) {
    double bound;
    if (num(schema, "minItems", &bound) && v.size() < bound)
      add(path,
          str("array of ", v.size(), " items has fewer than minItems ", schema["minItems"].dump()));
    if (num(schema, "maxItems", &bound) && v.size() > bound)
      add(path,
          str("array of ", v.size(), " items has more than maxItems ", schema["maxItems"].dump()));
    if (is_true(schema, "uniqueItems")) {
      for (size_t i = 1; i < v.size(); ++i)
        for (size_t j = 0; j < i; ++j)
          if (json_equal(v[i], v[j])) {
            add(index_path(path, i), str("repeats item ", j, " (uniqueItems)"));
            j = i;  // one message per repeated item
          }
    }
    if (auto it = schema.find("items"); it != schema.end())
      for (size_t i = 0; i < v.size(); ++i) value(v[i], *it, index_path(path, i));
  }

  void object(const ordered_json& v, const ordered_json& schema, const std::string& path) {
    const auto props = schema.find("properties");
    const bool has_props = props != schema.end() && props->is_object();
    if (auto req = schema.find("required"); req != schema.end() && req->is_array())
      for (const auto& k : *req)
        if (k.is_string() && !v.contains(k.get<std::string>()))
          add(key_path(path, k.get<std::string>()), "missing required property");
    const auto extra = schema.find("additionalProperties");
    for (const auto& [k, item] : v.items()) {
      if (has_props && props->contains(k)) {
        value(item, (*props)[k], key_path(path, k));
      } else if (extra != schema.end() && extra->is_object()) {
        value(item, *extra, key_path(path, k));
      } else if (extra != schema.end() ? *extra == false : has_props) {
        // Stricter than JSON Schema on purpose: with "properties" given and no
        // additionalProperties, an unknown argument is an invented one, so it is reported.
        add(key_path(path, k), "unexpected property (not in the schema's properties)");
      }
    }
  }

  void combinators(const ordered_json& v, const ordered_json& schema, const std::string& path) {
    if (auto it = schema.find("allOf"); it != schema.end() && it->is_array())
      for (const auto& sub : *it) value(v, sub, path);
    for (const char* key : {"anyOf", "oneOf"}) {
      auto it = schema.find(key);
      if (it == schema.end() || !it->is_array()) continue;
      size_t matches = 0;
      std::vector<SchemaProblem> first_failure;
      for (const auto& sub : *it) {
        Validator branch;
        branch.value(v, sub, path);
        if (branch.problems.empty())
          ++matches;
        else if (first_failure.empty())
          first_failure = branch.problems;
      }
      const bool one_of = std::string(key) == "oneOf";
      if (matches == 0) {
        add(path, str(describe(v), " matches none of the ", key, " schemas",
                      first_failure.empty() ? "" : " (first: " + first_failure[0].message + ")"));
      } else if (one_of && matches > 1) {
        add(path, str(describe(v), " matches ", matches, " of the oneOf schemas, not exactly one"));
      }
    }
  }
};

class SchemaChecker {
 public:
  std::vector<SchemaProblem> problems;

  void add(const std::string& path, std::string message) {
    problems.push_back({path, std::move(message)});
  }

  // `branch`: an anyOf/oneOf/allOf member, where "required" without "properties" is the usual
  // way to say which keys the branch needs of the enclosing object.
  void schema(const ordered_json& s, const std::string& path, bool branch = false) {
    if (s.is_boolean()) return;
    if (!s.is_object()) {
      add(path, str("a schema must be an object, got ", describe(s)));
      return;
    }
    const size_t problems_before = problems.size();
    for (const auto& [k, v] : s.items())
      if (kUnsupported.count(k)) add(key_path(path, k), "keyword not supported by toolsft");
    type(s, path);
    for (const char* k : {"description", "title", "format", "pattern"})
      if (s.contains(k) && !s[k].is_string()) add(key_path(path, k), "must be a string");
    if (s.contains("pattern") && s["pattern"].is_string()) {
      try {
        std::regex re(s["pattern"].get<std::string>(), std::regex::ECMAScript);
      } catch (const std::regex_error& e) {
        add(key_path(path, "pattern"), str("not a valid regular expression: ", e.what()));
      }
    }
    for (const char* k : {"nullable", "uniqueItems"})
      if (s.contains(k) && !s[k].is_boolean()) add(key_path(path, k), "must be true or false");
    bounds(s, path, "minimum", "maximum", false);
    bounds(s, path, "minLength", "maxLength", true);
    bounds(s, path, "minItems", "maxItems", true);
    for (const char* k : {"exclusiveMinimum", "exclusiveMaximum"})
      if (s.contains(k) && !s[k].is_number() && !s[k].is_boolean())
        add(key_path(path, k), str("must be a number, got ", describe(s[k])));
    object_keywords(s, path, branch);
    if (s.contains("items")) {
      if (s["items"].is_array())
        add(key_path(path, "items"), "tuple items (an array of schemas) are not supported");
      else
        schema(s["items"], key_path(path, "items"));
    }
    for (const char* k : {"anyOf", "oneOf", "allOf"}) {
      if (!s.contains(k)) continue;
      const std::string p = key_path(path, k);
      if (!s[k].is_array() || s[k].empty()) {
        add(p, "must be a non-empty array of schemas");
        continue;
      }
      for (size_t i = 0; i < s[k].size(); ++i) schema(s[k][i], index_path(p, i), true);
    }
    // A broken schema would only echo its own errors when judging its enum/const/default.
    if (problems.size() == problems_before) examples_fit(s, path);
  }

 private:
  void type(const ordered_json& s, const std::string& path) {
    if (!s.contains("type")) return;
    const ordered_json& t = s["type"];
    const std::string p = key_path(path, "type");
    if (t.is_string()) {
      if (!kTypeNames.count(t.get<std::string>()))
        add(p, str("unknown type ", t.dump(),
                   " (string, integer, number, boolean, array, object or null)"));
    } else if (t.is_array() && !t.empty()) {
      std::set<std::string> seen;
      for (size_t i = 0; i < t.size(); ++i) {
        if (!t[i].is_string() || !kTypeNames.count(t[i].get<std::string>()))
          add(index_path(p, i), str("unknown type ", t[i].dump()));
        else if (!seen.insert(t[i].get<std::string>()).second)
          add(index_path(p, i), str("type ", t[i].dump(), " listed twice"));
      }
    } else {
      add(p, "must be a type name or a non-empty array of type names");
    }
  }

  void bounds(const ordered_json& s, const std::string& path, const char* lo, const char* hi,
              bool counts) {
    bool ok = true;
    for (const char* k : {lo, hi}) {
      if (!s.contains(k)) continue;
      if (counts ? !is_nonneg_integer(s[k]) : !s[k].is_number()) {
        add(key_path(path, k), str("must be a ", counts ? "non-negative integer" : "number",
                                   ", got ", describe(s[k])));
        ok = false;
      }
    }
    if (ok && s.contains(lo) && s.contains(hi) && s[lo].get<double>() > s[hi].get<double>())
      add(key_path(path, lo), str(s[lo].dump(), " is greater than ", hi, " ", s[hi].dump()));
  }

  void object_keywords(const ordered_json& s, const std::string& path, bool branch) {
    const bool has_props = s.contains("properties");
    if (has_props) {
      const std::string p = key_path(path, "properties");
      if (!s["properties"].is_object())
        add(p, "must be an object of property schemas");
      else
        for (const auto& [k, v] : s["properties"].items()) schema(v, key_path(p, k));
    }
    if (s.contains("required")) {
      const std::string p = key_path(path, "required");
      const ordered_json& req = s["required"];
      if (!req.is_array()) {
        add(p, "must be an array of property names");
      } else {
        std::set<std::string> seen;
        for (size_t i = 0; i < req.size(); ++i) {
          if (!req[i].is_string()) {
            add(index_path(p, i), str("must be a property name, got ", describe(req[i])));
            continue;
          }
          const std::string name = req[i].get<std::string>();
          if (!seen.insert(name).second)
            add(index_path(p, i), str("\"", name, "\" listed twice"));
          else if (has_props ? s["properties"].is_object() && !s["properties"].contains(name)
                             : !branch)
            add(index_path(p, i), str("required property \"", name, "\" is not in properties"));
        }
      }
    }
    if (s.contains("additionalProperties")) {
      const ordered_json& a = s["additionalProperties"];
      if (a.is_object())
        schema(a, key_path(path, "additionalProperties"));
      else if (!a.is_boolean())
        add(key_path(path, "additionalProperties"), "must be true, false or a schema");
    }
  }

  // enum, const and default must themselves be values the schema allows: an enum of strings on
  // an integer parameter can never be satisfied.
  void examples_fit(const ordered_json& s, const std::string& path) {
    ordered_json bare = s;
    bare.erase("enum");
    bare.erase("const");
    bare.erase("default");
    if (s.contains("enum")) {
      const std::string p = key_path(path, "enum");
      if (!s["enum"].is_array() || s["enum"].empty()) {
        add(p, "must be a non-empty array");
      } else {
        for (size_t i = 0; i < s["enum"].size(); ++i) fits(s["enum"][i], bare, index_path(p, i));
      }
    }
    if (s.contains("const")) fits(s["const"], bare, key_path(path, "const"));
    if (s.contains("default")) {
      ordered_json with_enum = s;
      with_enum.erase("default");
      fits(s["default"], with_enum, key_path(path, "default"));
    }
  }

  void fits(const ordered_json& v, const ordered_json& schema, const std::string& path) {
    Validator val;
    val.value(v, schema, "");
    for (const auto& p : val.problems)
      add(path, str(v.dump(), " does not fit the schema: ", p.path.empty() ? "" : p.path + ": ",
                    p.message));
  }
};

bool valid_function_name(const std::string& name) {
  if (name.empty() || name.size() > 64) return false;
  for (char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '-' || c == '.';
    if (!ok) return false;
  }
  return true;
}

}  // namespace

std::vector<SchemaProblem> check_schema(const ordered_json& schema, const std::string& where) {
  SchemaChecker checker;
  checker.schema(schema, where);
  return checker.problems;
}

std::vector<SchemaProblem> validate_json(const ordered_json& value, const ordered_json& schema,
                                         const std::string& path) {
  Validator v;
  v.value(value, schema, path);
  return v.problems;
}

ordered_json function_of_tool(const ordered_json& tool, const std::string& where) {
  if (!tool.is_object()) fail(where, ": a tool must be an object, got ", describe(tool));
  ordered_json fn;
  if (tool.contains("function")) {
    if (tool.contains("type") && tool["type"] != "function")
      fail(where, ": field 'type' must be \"function\", got ", tool["type"].dump());
    if (!tool["function"].is_object())
      fail(where, ": field 'function' must be an object, got ", describe(tool["function"]));
    fn = tool["function"];
  } else if (tool.contains("name")) {
    fn = tool;
  } else {
    fail(where,
         ": not a tool: expected {\"type\": \"function\", \"function\": {...}} or a "
         "function object with 'name'");
  }
  const std::string at = tool.contains("function") ? where + ".function" : where;
  if (!fn.contains("name") || !fn["name"].is_string()) fail(at, ": field 'name' must be a string");
  if (!valid_function_name(fn["name"].get<std::string>()))
    fail(at, ": field 'name' ", fn["name"].dump(),
         " must be 1-64 letters, digits, '_', '-' or '.'");
  if (fn.contains("description") && !fn["description"].is_string())
    fail(at, ": field 'description' must be a string");
  if (fn.contains("parameters")) {
    const ordered_json& p = fn["parameters"];
    if (!p.is_object())
      fail(at, ": field 'parameters' must be a JSON Schema object, got ", describe(p));
    if (p.contains("type") && p["type"] != "object")
      fail(at, ": field 'parameters.type' must be \"object\" (arguments are an object), got ",
           p["type"].dump());
  }
  return fn;
}

}  // namespace tsft
