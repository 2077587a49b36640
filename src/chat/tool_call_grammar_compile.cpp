// ToolCallGrammar's constructor: the offered tools' schemas compiled into nodes, and the call
// object built over them.
#include <algorithm>
#include <cmath>
#include <set>

#include "chat/json_schema.h"
#include "chat/tool_call_grammar.h"
#include "chat/tool_call_grammar_internal.h"
#include "chat/tool_prompt.h"
#include "core/error.h"

namespace tsft {

using nlohmann::ordered_json;
using namespace grammar_detail;

size_t grammar_detail::Node::finite_values() const {
  if (has_literals) return literal_values;
  if (!any_of.empty()) return 0;
  if (types == kNull) return 1;
  if (types == kBoolean) return 2;
  if (types == (kNull | kBoolean)) return 3;
  return 0;
}

namespace {

constexpr int kMaxSchemaDepth = 32;

bool is_true(const ordered_json& s, const char* key) {
  auto it = s.find(key);
  return it != s.end() && it->is_boolean() && it->get<bool>();
}

const ordered_json* number_field(const ordered_json& s, const char* key) {
  auto it = s.find(key);
  return it != s.end() && it->is_number() ? &*it : nullptr;
}

// A schema accepting what both `a` and `b` accept, as validate_json reads them (for anyOf
// branches within their parent, and allOf members): each side's "properties" are strict on their
// own, so only keys both declare survive (a key's two schemas joined by allOf); required lists
// join; bounds take the tighter value; declared types intersect; other keywords from `b` win.
ordered_json intersect_schemas(const ordered_json& a, const ordered_json& b) {
  if (!b.is_object()) return a;  // `true`
  if (!a.is_object()) return b;
  ordered_json out = a;
  for (const auto& [k, v] : b.items()) {
    if (k == "properties") continue;
    if (!out.contains(k)) {
      out[k] = v;
    } else if (k == "required" && v.is_array() && out[k].is_array()) {
      for (const auto& r : v)
        if (std::find(out[k].begin(), out[k].end(), r) == out[k].end()) out[k].push_back(r);
    } else if ((k == "minimum" || k == "minLength" || k == "minItems") && v.is_number() &&
               out[k].is_number()) {
      if (v.get<double>() > out[k].get<double>()) out[k] = v;
    } else if ((k == "maximum" || k == "maxLength" || k == "maxItems") && v.is_number() &&
               out[k].is_number()) {
      if (v.get<double>() < out[k].get<double>()) out[k] = v;
    } else if (k == "type") {
      auto names = [](const ordered_json& t) {
        std::vector<std::string> n;
        if (t.is_string()) n.push_back(t.get<std::string>());
        if (t.is_array())
          for (const auto& x : t)
            if (x.is_string()) n.push_back(x.get<std::string>());
        return n;
      };
      const auto ta = names(out[k]), tb = names(v);
      ordered_json both = ordered_json::array();
      for (const auto& t : ta) {
        const bool in_b = std::find(tb.begin(), tb.end(), t) != tb.end() ||
                          (t == "integer" && std::find(tb.begin(), tb.end(), "number") != tb.end());
        if (in_b) both.push_back(t);
      }
      for (const auto& t : tb)
        if (t == "integer" && std::find(ta.begin(), ta.end(), "number") != ta.end() &&
            std::find(both.begin(), both.end(), "integer") == both.end())
          both.push_back(t);
      out[k] = both;
    } else {
      out[k] = v;
    }
  }
  const auto pb = b.find("properties");
  if (pb != b.end() && pb->is_object()) {
    const auto pa = a.find("properties");
    if (pa == a.end() || !pa->is_object()) {
      out["properties"] = *pb;
    } else {
      ordered_json props = ordered_json::object();
      for (const auto& [k, sa] : pa->items()) {
        if (!pb->contains(k)) continue;
        const ordered_json& sb = (*pb)[k];
        props[k] = sa == sb ? sa : ordered_json{{"allOf", {sa, sb}}};
      }
      out["properties"] = props;
    }
  }
  return out;
}

uint8_t type_bit(const std::string& name, const std::string& where) {
  if (name == "null") return kNull;
  if (name == "boolean") return kBoolean;
  if (name == "integer") return kInteger;
  if (name == "number") return kNumber;
  if (name == "string") return kString;
  if (name == "array") return kArray;
  if (name == "object") return kObject;
  fail(where, ": unknown type '", name, "'");
}

class Compiler {
 public:
  Compiler(std::vector<std::unique_ptr<Node>>& nodes) : nodes_(nodes) {}

  Node* make() {
    nodes_.push_back(std::make_unique<Node>());
    return nodes_.back().get();
  }

  const Node* compile(const ordered_json& schema, const std::string& where, int depth) {
    if (depth > kMaxSchemaDepth)
      fail(where, ": the schema nests deeper than ", kMaxSchemaDepth, " levels");
    if (schema.is_boolean()) {
      if (schema.get<bool>()) return compile(ordered_json::object(), where, depth);
      Node* none = make();
      none->types = 0;
      return none;
    }
    if (!schema.is_object()) fail(where, ": a schema must be an object or a boolean");
    ordered_json s = schema;
    if (auto it = s.find("allOf"); it != s.end() && it->is_array()) {
      const ordered_json members = *it;
      s.erase("allOf");
      for (const auto& m : members) s = intersect_schemas(s, m);
    }
    for (const char* key : {"anyOf", "oneOf"}) {
      auto it = s.find(key);
      if (it == s.end() || !it->is_array()) continue;
      const ordered_json branches = *it;
      ordered_json base = s;
      base.erase(key);
      Node* n = make();
      for (size_t i = 0; i < branches.size(); ++i) {
        n->any_of.push_back(compile(intersect_schemas(base, branches[i]),
                                    str(where, ".", key, "[", i, "]"), depth + 1));
      }
      return n;
    }

    Node* n = make();
    if (auto it = s.find("type"); it != s.end()) {
      n->types = 0;
      if (it->is_string()) n->types = type_bit(it->get<std::string>(), where);
      if (it->is_array())
        for (const auto& t : *it)
          if (t.is_string()) n->types |= type_bit(t.get<std::string>(), where);
    }
    if (is_true(s, "nullable")) n->types |= kNull;

    std::vector<ordered_json> values;
    if (auto it = s.find("enum"); it != s.end() && it->is_array())
      for (const auto& v : *it) values.push_back(v);
    if (auto it = s.find("const"); it != s.end()) values = {*it};
    if (s.contains("enum") || s.contains("const")) {
      n->has_literals = true;
      std::set<std::string> texts;
      for (const auto& v : values) {
        if (!accepts_type(n->types, v)) continue;
        ++n->literal_values;
        for (const std::string& t : {v.dump(), python_json(v)})
          if (texts.insert(t).second) n->literals.push_back(t);
      }
      if (n->literals.empty()) fail(where, ": no enum/const value has the schema's type");
      return n;
    }

    if (const auto* v = number_field(s, "minLength")) n->min_length = v->get<int64_t>();
    if (const auto* v = number_field(s, "maxLength")) n->max_length = v->get<int64_t>();
    if (auto it = s.find("pattern"); it != s.end() && it->is_string()) {
      try {
        n->pattern = RegexPrefix::compile(it->get<std::string>());
      } catch (const Error&) {
        n->pattern_at_close = it->get<std::string>();
      }
    }
    if (auto it = s.find("format"); it != s.end() && it->is_string()) {
      if (*it == "date") n->format = StringFormat::kDate;
      if (*it == "date-time") n->format = StringFormat::kDateTime;
    }

    NumberBounds& b = n->bounds;
    b.integer_only = (n->types & kInteger) && !(n->types & kNumber);
    if (const auto* v = number_field(s, "minimum"))
      b.lo = v->get<double>(), b.lo_exclusive = is_true(s, "exclusiveMinimum");
    if (const auto* v = number_field(s, "maximum"))
      b.hi = v->get<double>(), b.hi_exclusive = is_true(s, "exclusiveMaximum");
    if (const auto* v = number_field(s, "exclusiveMinimum"); v && v->get<double>() >= b.lo)
      b.lo = v->get<double>(), b.lo_exclusive = true;
    if (const auto* v = number_field(s, "exclusiveMaximum"); v && v->get<double>() <= b.hi)
      b.hi = v->get<double>(), b.hi_exclusive = true;

    if (auto it = s.find("items"); it != s.end()) n->items = compile(*it, where + "[]", depth + 1);
    if (const auto* v = number_field(s, "minItems")) n->min_items = v->get<int64_t>();
    if (const auto* v = number_field(s, "maxItems")) n->max_items = v->get<int64_t>();
    n->unique_items = is_true(s, "uniqueItems");

    const auto props = s.find("properties");
    const bool has_props = props != s.end() && props->is_object();
    std::set<std::string> required;
    if (auto it = s.find("required"); it != s.end() && it->is_array())
      for (const auto& r : *it)
        if (r.is_string()) required.insert(r.get<std::string>());
    if (has_props) {
      for (const auto& [k, v] : props->items()) {
        const Node* child = compile(v, where + "." + k, depth + 1);
        if (child->types == 0 && child->any_of.empty()) {  // "false": the key can never be given
          if (required.count(k)) fail(where, ": required property '", k, "' allows no value");
          continue;
        }
        n->prop_names.push_back(k);
        n->key_texts.push_back(ordered_json(k).dump());
        n->prop_nodes.push_back(child);
        n->required.push_back(required.count(k) ? 1 : 0);
      }
    }
    for (const auto& r : required)
      if (std::find(n->prop_names.begin(), n->prop_names.end(), r) == n->prop_names.end())
        fail(where, ": required property '", r,
             "' is not in properties (constrained decoding needs its schema)");
    const auto extra = s.find("additionalProperties");
    if (extra != s.end() && extra->is_object()) {
      n->additional_allowed = true;
      n->additional = compile(*extra, where + ".additionalProperties", depth + 1);
    } else if (extra != s.end() && extra->is_boolean()) {
      n->additional_allowed = extra->get<bool>();
    } else {
      n->additional_allowed = !has_props;  // validate_json's rule: see json_schema.h
    }
    return n;
  }

 private:
  static bool accepts_type(uint8_t types, const ordered_json& v) {
    if (v.is_null()) return types & kNull;
    if (v.is_boolean()) return types & kBoolean;
    if (v.is_number_integer() || v.is_number_unsigned())
      return types & (kInteger | kNumber);
    if (v.is_number()) return (types & kNumber) || ((types & kInteger) && v.get<double>() == std::floor(v.get<double>()));
    if (v.is_string()) return types & kString;
    if (v.is_array()) return types & kArray;
    return types & kObject;
  }

  std::vector<std::unique_ptr<Node>>& nodes_;
};

}  // namespace

ToolCallGrammar::ToolCallGrammar(const ordered_json& tools, ToolChoiceSpec choice,
                                 ToolCallSyntax syntax)
    : syntax_(std::move(syntax)), choice_(std::move(choice)) {
  if (!tools.is_array()) fail("tools: expected an array of tools");
  const bool must_call =
      choice_.mode == ToolChoiceMode::kRequired || choice_.mode == ToolChoiceMode::kNamed;
  if (must_call && tools.empty())
    fail("tool_choice: a call is required but no tools are offered");
  Compiler compiler(nodes_);
  Node* call = compiler.make();
  bool named_found = false;
  std::set<std::string> names;
  for (size_t i = 0; i < tools.size(); ++i) {
    const std::string where = str("tools[", i, "]");
    const ordered_json fn = function_of_tool(tools[i], where);
    const std::string name = fn["name"].get<std::string>();
    if (!names.insert(name).second) fail(where, ": function '", name, "' is offered twice");
    if (choice_.mode == ToolChoiceMode::kNamed && name != choice_.name) continue;
    named_found = true;
    ordered_json params = fn.contains("parameters")
                              ? fn["parameters"]
                              : ordered_json{{"type", "object"}, {"properties", ordered_json::object()}};
    const std::vector<SchemaProblem> problems = check_schema(params, where + ".function.parameters");
    if (!problems.empty())
      fail(problems[0].path, ": ", problems[0].message);
    if (!params.contains("type")) params["type"] = "object";
    const Node* args = compiler.compile(params, where + ".function.parameters", 0);

    Node* name_node = compiler.make();
    name_node->types = kString;
    name_node->has_literals = true;
    name_node->literal_values = 1;
    name_node->literals = {ordered_json(name).dump()};

    Node* obj = compiler.make();
    obj->types = kObject;
    obj->ordered = true;
    obj->prop_names = {"name", syntax_.arguments_key};
    for (const auto& k : obj->prop_names) obj->key_texts.push_back(ordered_json(k).dump());
    obj->prop_nodes = {name_node, args};
    obj->required = {1, 1};
    call->any_of.push_back(obj);
  }
  if (choice_.mode == ToolChoiceMode::kNamed && !named_found)
    fail("tool_choice: function '", choice_.name, "' is not among the offered tools");
  if (call->any_of.empty()) call->types = 0;  // no tools: no call can be written
  call_ = call;
}

ToolCallGrammar::~ToolCallGrammar() = default;

}  // namespace tsft
