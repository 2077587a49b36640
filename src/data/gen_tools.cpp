// Tool files and request templates for the synthetic data generators.
#include "data/gen_tools.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "chat/json_schema.h"
#include "core/error.h"
#include "data/gen_values.h"

namespace tsft {

using nlohmann::ordered_json;

namespace {

// The schema of the argument at `path` inside an object schema; null when the path leaves it.
const ordered_json* schema_at(const ordered_json& params, const std::vector<std::string>& path) {
  const ordered_json* s = &params;
  for (const auto& key : path) {
    if (!s->is_object() || !s->contains("properties") || !(*s)["properties"].contains(key))
      return nullptr;
    s = &(*s)["properties"][key];
  }
  return s;
}

std::vector<std::string> split_path(const std::string& s) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : s) {
    if (c == '.') {
      out.push_back(cur);
      cur.clear();
    } else {
      cur += c;
    }
  }
  out.push_back(cur);
  return out;
}

TemplatePart literal_part(const std::string& text) {
  TemplatePart p;
  p.text = text;
  return p;
}

bool is_name_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_';
}

// The formula with each "#name" replaced by value_of(name): "#a / #g" -> "540 / 6".
template <typename ValueOf>
std::string replace_number_refs(const std::string& formula, ValueOf&& value_of) {
  std::string out;
  for (size_t i = 0; i < formula.size(); ++i) {
    if (formula[i] != '#') {
      out += formula[i];
      continue;
    }
    size_t j = i + 1;
    while (j < formula.size() && is_name_char(formula[j])) ++j;
    out += value_of(formula.substr(i + 1, j - i - 1));
    i = j - 1;
  }
  return out;
}

// The names a formula refers to: "#a / #b" -> {a, b}.
std::vector<std::string> number_refs(const std::string& formula) {
  std::vector<std::string> out;
  replace_number_refs(formula, [&](const std::string& name) {
    out.push_back(name);
    return std::string();
  });
  return out;
}

// "{#a}", "{#a:10-500}", "{#g:5.0-25.0}": a template's own number, drawn in its bounds.
void parse_local_number(TemplatePart& part, const std::string& inner, const std::string& where) {
  const size_t colon = inner.find(':');
  part.number = inner.substr(1, colon == std::string::npos ? std::string::npos : colon - 1);
  bool ok = !part.number.empty();
  for (char c : part.number) ok = ok && is_name_char(c);
  if (!ok) fail(where, ": {", inner, "}: a number's name is letters, digits and '_' after '#'");
  part.lo = 2;
  part.hi = 999;
  if (colon == std::string::npos) return;
  const std::string range = inner.substr(colon + 1);
  const size_t dash = range.find('-');
  auto bad_range = [&]() {
    fail(where, ": {", inner,
         "}: the range must read LOW-HIGH with plain numbers (10-500, 0.5-9.5)");
  };
  auto bound = [&](const std::string& b) {
    size_t used = 0;
    double v = 0;
    try {
      v = std::stod(b, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    const bool plain = !b.empty() && b.find_first_not_of("0123456789.") == std::string::npos;
    if (used != b.size() || !plain) bad_range();
    const size_t dot = b.find('.');
    if (dot != std::string::npos)
      part.decimals = std::max(part.decimals, static_cast<int>(b.size() - dot - 1));
    return v;
  };
  if (dash == std::string::npos) bad_range();
  part.lo = bound(range.substr(0, dash));
  part.hi = bound(range.substr(dash + 1));
  if (part.lo > part.hi) fail(where, ": {", inner, "}: the low end is above the high end");
  if (part.decimals > 6) fail(where, ": {", inner, "}: at most 6 decimal places");
  if (part.hi > 1e9) fail(where, ": {", inner, "}: numbers up to 1000000000");
}

RequestTemplate parse_template(const std::string& text, const ordered_json& params,
                               const std::string& where) {
  RequestTemplate t;
  std::string lit;
  std::set<std::string> numbers;                                  // {#name} seen
  std::vector<std::pair<std::string, std::string>> derived_refs;  // (slot, #name) used
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '}') fail(where, ": '}' without '{' at offset ", i, " in ", ordered_json(text));
    if (text[i] != '{') {
      lit += text[i];
      continue;
    }
    const size_t close = text.find('}', i);
    if (close == std::string::npos) fail(where, ": '{' without '}' in ", ordered_json(text));
    if (!lit.empty()) t.parts.push_back(literal_part(lit));
    lit.clear();
    std::string inner = text.substr(i + 1, close - i - 1);
    TemplatePart part;
    if (!inner.empty() && inner[0] == '#') {
      parse_local_number(part, inner, where);
      numbers.insert(part.number);
      t.parts.push_back(std::move(part));
      i = close;
      continue;
    }
    const size_t eq = inner.find('=');
    const size_t tilde = inner.find('~');
    if (tilde != std::string::npos && (eq == std::string::npos || tilde < eq)) {
      ordered_json formula;
      try {
        formula = ordered_json::parse(inner.substr(tilde + 1));
      } catch (const nlohmann::json::exception&) {
      }
      if (!formula.is_string() || formula.get<std::string>().empty())
        fail(where, ": {", inner, "}: the formula after '~' must be a quoted, non-empty string");
      part.derived = formula.get<std::string>();
      inner = inner.substr(0, tilde);
      for (const auto& name : number_refs(part.derived)) derived_refs.push_back({inner, name});
    } else if (eq != std::string::npos) {
      part.fixed = true;
      try {
        part.value = ordered_json::parse(inner.substr(eq + 1));
      } catch (const nlohmann::json::exception&) {
        fail(where, ": {", inner, "}: the value after '=' is not JSON (strings need quotes)");
      }
      inner = inner.substr(0, eq);
    }
    part.slot = split_path(inner);
    const ordered_json* s = schema_at(params, part.slot);
    if (!s) fail(where, ": slot {", inner, "} names no parameter of the tool");
    if (!part.derived.empty() && s->contains("type") && (*s)["type"].is_string() &&
        (*s)["type"] != "string")
      fail(where, ": {", inner, "~...}: a formula makes a string, and '", inner,
           "' is not a string parameter");
    if (part.fixed) {
      const auto problems = validate_json(part.value, *s, inner);
      if (!problems.empty())
        fail(where, ": {", inner, "=...}: ", problems[0].path, ": ", problems[0].message);
    }
    t.parts.push_back(std::move(part));
    i = close;
  }
  if (!lit.empty()) t.parts.push_back(literal_part(lit));
  for (const auto& [slot, name] : derived_refs)
    if (!numbers.count(name))
      fail(where, ": {", slot, "}: #", name, " is not a number of this template (add {#", name,
           "} where the request says it)");
  return t;
}

std::vector<RequestTemplate> parse_templates(const ordered_json& fn, const char* key,
                                             const ordered_json& params, const std::string& where) {
  std::vector<RequestTemplate> out;
  if (!fn.contains(key)) return out;
  const ordered_json& list = fn[key];
  if (!list.is_array()) fail(where, ": field '", key, "' must be a list of strings");
  for (size_t i = 0; i < list.size(); ++i) {
    const std::string w = str(where, ": ", key, "[", i, "]");
    if (!list[i].is_string()) fail(w, ": must be a string");
    out.push_back(parse_template(list[i].get<std::string>(), params, w));
  }
  return out;
}

// Verbs that open function names and descriptions ("get_weather", "Search for recipes").
bool is_common_verb(const std::string& w) {
  static const std::set<std::string> kVerbs = {
      "add",      "analyze",  "book",     "buy",       "calculate", "call",     "cancel",
      "change",   "check",    "compare",  "compute",   "convert",   "count",    "create",
      "delete",   "detect",   "download", "edit",      "estimate",  "evaluate", "fetch",
      "filter",   "find",     "generate", "get",       "list",      "load",     "log",
      "look",     "make",     "order",    "pay",       "play",      "post",     "predict",
      "read",     "record",   "register", "remove",    "rename",    "reserve",  "reset",
      "retrieve", "return",   "run",      "save",      "schedule",  "search",   "send",
      "set",      "share",    "show",     "start",     "stop",      "submit",   "subscribe",
      "summarize", "track",   "transfer", "translate", "update",    "upload",   "validate",
      "verify",   "write"};
  return kVerbs.count(w) > 0;
}

// "Get the weather for a city. Uses the X API." -> "get the weather for a city". A description
// in the third person ("Returns the weather") or a noun phrase ("Monthly payment for a car loan")
// is made a verb phrase: "return the weather", or the name's verb before it ("calculate_financing"
// -> "calculate monthly payment for a car loan"), so "Can you {phrase}?" reads right.
std::string phrase_of(const ordered_json& fn) {
  std::string d = fn.value("description", std::string());
  const size_t stop = d.find(". ");
  if (stop != std::string::npos) d = d.substr(0, stop);
  while (!d.empty() && (d.back() == '.' || d.back() == ' ' || d.back() == '\n')) d.pop_back();
  if (d.empty()) return name_words(fn["name"].get<std::string>());
  // Lowercase the first letter unless it starts an acronym ("URL ...").
  if (d.size() < 2 || !std::isupper(static_cast<unsigned char>(d[1])))
    d[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(d[0])));
  const size_t space = d.find(' ');
  std::string first = d.substr(0, space);
  for (char& c : first) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (is_common_verb(first)) return d;
  for (size_t cut : {size_t{1}, size_t{2}})  // "returns" -> "return", "searches" -> "search"
    if (first.size() > cut + 2 && first.back() == 's' &&
        (cut == 1 || first[first.size() - 2] == 'e') &&
        is_common_verb(first.substr(0, first.size() - cut)))
      return first.substr(0, first.size() - cut) + (space == std::string::npos ? "" : d.substr(space));
  const std::string words = name_words(fn["name"].get<std::string>());
  const std::string verb = words.substr(0, words.find(' '));
  return is_common_verb(verb) ? verb + " " + d : d;
}

void set_at(ordered_json& args, const std::vector<std::string>& path, ordered_json value) {
  ordered_json* o = &args;
  for (size_t i = 0; i + 1 < path.size(); ++i) {
    if (!o->contains(path[i])) (*o)[path[i]] = ordered_json::object();
    o = &(*o)[path[i]];
  }
  (*o)[path.back()] = std::move(value);
}

const ordered_json* get_at(const ordered_json& args, const std::vector<std::string>& path) {
  const ordered_json* o = &args;
  for (const auto& k : path) {
    if (!o->is_object() || !o->contains(k)) return nullptr;
    o = &(*o)[k];
  }
  return o;
}

std::string joined(const std::vector<std::string>& path) {
  std::string out;
  for (const auto& p : path) out += (out.empty() ? "" : ".") + p;
  return out;
}

// The arguments with keys in the schema's property order, at every depth: a template names
// them in reading order, but a model should learn one order per tool.
ordered_json in_schema_order(const ordered_json& args, const ordered_json& schema) {
  if (!args.is_object() || !schema.is_object() || !schema.contains("properties")) return args;
  ordered_json out = ordered_json::object();
  for (const auto& [k, sub] : schema["properties"].items())
    if (args.contains(k)) out[k] = in_schema_order(args[k], sub);
  for (const auto& [k, v] : args.items())
    if (!out.contains(k)) out[k] = v;
  return out;
}

// A template's local numbers, drawn once each in their bounds, as the request writes them.
std::map<std::string, std::string> draw_local_numbers(const RequestTemplate& t, Rng& rng) {
  std::map<std::string, std::string> out;
  for (const auto& part : t.parts) {
    if (part.number.empty() || out.count(part.number)) continue;
    const double scale = std::pow(10.0, part.decimals);
    const auto lo = static_cast<int64_t>(std::ceil(part.lo * scale - 1e-9));
    const auto hi = static_cast<int64_t>(std::floor(part.hi * scale + 1e-9));
    const int64_t v = lo + static_cast<int64_t>(pick(rng, static_cast<size_t>(hi - lo + 1)));
    out[part.number] = format_number(static_cast<double>(v) / scale, part.decimals);
  }
  return out;
}

bool is_time_of_day(const ordered_json& v) {
  if (!v.is_string()) return false;
  const std::string s = v.get<std::string>();
  return s.size() == 5 && s[2] == ':' && std::isdigit(static_cast<unsigned char>(s[0])) &&
         std::isdigit(static_cast<unsigned char>(s[4]));
}

// How a value reads when only the choice of tool matters: half the dates and times loosely.
std::string loose_render(const ordered_json& v, const ordered_json& schema, Rng& rng,
                         std::vector<TextPiece>& pieces) {
  const std::string format = schema.is_object() ? schema.value("format", std::string()) : "";
  if ((format == "date" || format == "date-time") && chance(rng, 0.5)) {
    const LooseDate d = loose_date(rng);
    // "on {date}" with "tomorrow": "tomorrow", not "on tomorrow"; "On {date}, ..." becomes
    // "Tomorrow, ...".
    std::string text = d.text;
    if (!d.after_on && !pieces.empty() && !pieces.back().value) {
      std::string& prev = pieces.back().text;
      const size_t n = prev.size();
      if (n >= 3 && (prev[n - 3] == 'o' || prev[n - 3] == 'O') &&
          prev.compare(n - 2, 2, "n ") == 0 && (n == 3 || prev[n - 4] == ' ')) {
        if (prev[n - 3] == 'O') text[0] = static_cast<char>(std::toupper(text[0]));
        prev.erase(n - 3);
      }
    }
    return format == "date-time" ? text + " at " + loose_time(rng) : text;
  }
  if (is_time_of_day(v) && chance(rng, 0.5)) return loose_time(rng);
  return render_value(v, schema, rng);
}

GenRequest fill_template(const GenTool& tool, const RequestTemplate& t, Rng& rng,
                         bool selection_only) {
  GenRequest req;
  const std::map<std::string, std::string> numbers = draw_local_numbers(t, rng);
  for (const auto& part : t.parts) {
    if (!part.number.empty()) {
      req.pieces.push_back({numbers.at(part.number), true});
      continue;
    }
    if (part.slot.empty()) {
      req.pieces.push_back({part.text, false});
      continue;
    }
    if (!part.derived.empty()) {
      // parse_template checked that every name is a number of the template.
      set_at(req.arguments, part.slot,
             replace_number_refs(part.derived,
                                 [&](const std::string& name) { return numbers.at(name); }));
      continue;
    }
    if (part.fixed) {
      // A fixed string is shown (and kept safe from noise); other fixed values are said by the
      // words around the slot ("mark it urgent{urgent=true}").
      if (part.value.is_string()) req.pieces.push_back({part.value.get<std::string>(), true});
      set_at(req.arguments, part.slot, part.value);
      continue;
    }
    const ordered_json& schema = *schema_at(tool.parameters, part.slot);
    const ordered_json* have = get_at(req.arguments, part.slot);
    ordered_json v = have ? *have
                          : draw_value(schema, part.slot.back(), rng,
                                       tool.name + " argument " + joined(part.slot));
    std::string shown = selection_only ? loose_render(v, schema, rng, req.pieces)
                                       : render_value(v, schema, rng);
    req.pieces.push_back({std::move(shown), true});
    if (!have) set_at(req.arguments, part.slot, std::move(v));
  }
  req.arguments = in_schema_order(req.arguments, tool.parameters);
  return req;
}

}  // namespace

std::string field_words(const std::string& key, const ordered_json& schema) {
  std::string d = schema.is_object() ? schema.value("description", std::string()) : "";
  while (!d.empty() && (d.back() == '.' || d.back() == ' ')) d.pop_back();
  if (d.empty() || d.size() > 48 || d.find_first_of(".:;()[]{}\"\n") != std::string::npos ||
      d.find(" or ") != std::string::npos)
    return name_words(key);
  for (const char* article : {"The ", "the ", "A ", "a ", "An ", "an "})
    if (d.rfind(article, 0) == 0) d = d.substr(std::string(article).size());
  if (d.size() > 1 && !std::isupper(static_cast<unsigned char>(d[1])))
    d[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(d[0])));
  return d;
}

std::vector<TextPiece> said_values(const ordered_json& args, const ordered_json& params,
                                   ValueListForm form, Rng& rng) {
  const ordered_json props =
      params.is_object() ? params.value("properties", ordered_json::object()) : ordered_json();
  std::vector<TextPiece> out;
  size_t i = 0;
  for (const auto& [k, v] : args.items()) {
    const ordered_json sub = props.is_object() && props.contains(k) ? props[k]
                                                                     : ordered_json::object();
    const bool last = i + 1 == args.size();
    const std::string sep = i == 0 ? "" : (last && form != ValueListForm::kColon ? " and " : ", ");
    const std::string key = name_words(k);
    const std::string value = render_value(v, sub, rng);
    switch (form) {
      case ValueListForm::kColon:
        out.push_back({sep + key + ": ", false});
        out.push_back({value, true});
        break;
      case ValueListForm::kSpace:
        out.push_back({sep + key + " ", false});
        out.push_back({value, true});
        break;
      case ValueListForm::kTheIs: {
        const bool plural = v.is_array() && v.size() > 1;
        out.push_back({sep + (i == 0 ? "The " : "the ") + field_words(k, sub) +
                           (plural ? " are " : " is "),
                       false});
        out.push_back({value, true});
        break;
      }
      case ValueListForm::kUseFor:
        out.push_back({sep.empty() ? "Use " : sep, false});
        out.push_back({value, true});
        out.push_back({" for the " + field_words(k, sub), false});
        break;
    }
    ++i;
  }
  return out;
}

namespace {

// A request for a tool without templates, from its description and parameters: a terse list
// ("Please get the weather for a city with city Oslo and unit celsius.") or said as a person
// would ("I'd like to get the weather for a city. The city is Oslo and the unit is celsius.").
GenRequest from_schema(const GenTool& tool, Rng& rng) {
  GenRequest req;
  ordered_json args = draw_value(tool.parameters, tool.name, rng, tool.name + " arguments");
  if (!args.is_object()) args = ordered_json::object();
  req.arguments = args;
  const std::string& phrase = tool.phrase;
  auto cap = [](std::string s) {
    if (!s.empty()) s[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(s[0])));
    return s;
  };
  auto add = [&](const std::string& text) { req.pieces.push_back({text, false}); };
  if (args.empty()) {
    static const char* kBare[] = {"Please ", "I need you to ", "I'd like you to ", "Can you "};
    const size_t k = pick(rng, 4);
    add(std::string(kBare[k]) + phrase + (k == 3 ? "?" : "."));
    return req;
  }
  const int style = static_cast<int>(pick(rng, 7));
  const ValueListForm form = style == 0   ? ValueListForm::kColon
                             : style <= 3 ? ValueListForm::kSpace
                             : style == 6 ? ValueListForm::kUseFor
                                          : ValueListForm::kTheIs;
  const std::vector<TextPiece> list = said_values(args, tool.parameters, form, rng);
  auto add_list = [&]() { req.pieces.insert(req.pieces.end(), list.begin(), list.end()); };
  switch (style) {
    case 0:
      add(cap(phrase) + ". ");
      break;
    case 1:
      add("Please " + phrase + " with ");
      break;
    case 2:
      add("Can you " + phrase + "? Use ");
      break;
    case 3:
      add("I need to " + phrase + " for ");
      break;
    case 4:
      add("I'd like to " + phrase + ". ");
      break;
    case 5:
      add("Can you help me " + phrase + "? ");
      break;
    default:
      add("I want to " + phrase + ". ");
      break;
  }
  add_list();
  add(".");
  return req;
}

void check_examples(const GenTool& tool, const std::string& where) {
  // One dry run per template: a template whose arguments cannot validate (a required parameter
  // without a slot, a nested object missing its own required field) fails here, at load time,
  // naming the template, rather than in the middle of generation.
  Rng rng(0);
  for (size_t i = 0; i < tool.examples.size(); ++i) {
    const GenRequest req = fill_template(tool, tool.examples[i], rng, /*selection_only=*/false);
    const auto problems = validate_json(req.arguments, tool.parameters, "arguments");
    if (!problems.empty())
      fail(where, ": x-toolsft-examples[", i, "]: the request's ", problems[0].path, ": ",
           problems[0].message, " (add a slot for it)");
  }
  if (tool.examples.empty()) (void)from_schema(tool, rng);  // draws every parameter type once
}

}  // namespace

ordered_json strip_toolsft_keys(const ordered_json& j) {
  if (j.is_array()) {
    ordered_json out = ordered_json::array();
    for (const auto& v : j) out.push_back(strip_toolsft_keys(v));
    return out;
  }
  if (!j.is_object()) return j;
  ordered_json out = ordered_json::object();
  for (const auto& [k, v] : j.items())
    if (k.rfind("x-toolsft-", 0) != 0) out[k] = strip_toolsft_keys(v);
  return out;
}

std::vector<GenTool> parse_gen_tools(const ordered_json& doc, const std::string& where) {
  const ordered_json* list = &doc;
  std::string at = where;
  if (doc.is_object() && doc.contains("tools")) {
    list = &doc["tools"];
    at = where + ": tools";
  } else {
    at = where + ": ";
  }
  if (!list->is_array())
    fail(where, ": expected a JSON list of tools (or {\"tools\": [...]}), got ", list->type_name());
  if (list->empty()) fail(where, ": the list of tools is empty");
  std::vector<GenTool> tools;
  std::set<std::string> names;
  for (size_t i = 0; i < list->size(); ++i) {
    const std::string w = str(at, "[", i, "]");
    const ordered_json fn = function_of_tool((*list)[i], w);
    const std::string fw = (*list)[i].contains("function") ? w + ".function" : w;
    GenTool t;
    t.name = fn["name"].get<std::string>();
    if (!names.insert(t.name).second) fail(fw, ": field 'name': \"", t.name, "\" is used twice");
    t.parameters = fn.contains("parameters")
                       ? strip_toolsft_keys(fn["parameters"])
                       : ordered_json{{"type", "object"}, {"properties", ordered_json::object()}};
    // x-toolsft-values inside the parameters are for drawing; keep them for draw_value.
    const ordered_json draw_params = fn.contains("parameters") ? fn["parameters"] : t.parameters;
    const auto problems = check_schema(draw_params, "parameters");
    if (!problems.empty())
      fail(fw, ": field '", problems[0].path, "': ", problems[0].message,
           problems.size() > 1 ? str(" (and ", problems.size() - 1, " more problems)") : "");
    t.phrase = phrase_of(fn);
    ordered_json clean_fn = strip_toolsft_keys(fn);
    // A function without parameters is offered with an empty object schema, so every row's
    // tools have the same shape for chat templates and for checking the calls.
    if (!clean_fn.contains("parameters")) clean_fn["parameters"] = t.parameters;
    t.tool = {{"type", "function"}, {"function", clean_fn}};
    t.parameters = draw_params;
    t.examples = parse_templates(fn, "x-toolsft-examples", t.parameters, fw);
    t.hard_examples = parse_templates(fn, "x-toolsft-hard-examples", t.parameters, fw);
    check_examples(t, fw);
    tools.push_back(std::move(t));
  }
  return tools;
}

std::vector<GenTool> load_gen_tools(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(path, ": cannot open the tools file");
  std::stringstream ss;
  ss << in.rdbuf();
  ordered_json doc;
  try {
    doc = ordered_json::parse(ss.str());
  } catch (const nlohmann::json::exception& e) {  // parse_error, or out_of_range (1e309)
    fail(path, ": not valid JSON: ", e.what());
  }
  return parse_gen_tools(doc, path);
}

const std::vector<GenTool>& builtin_gen_tools() {
  static const std::vector<GenTool> tools =
      parse_gen_tools(ordered_json::parse(builtin_tools_json()), "built-in tools");
  return tools;
}

GenRequest make_request(const GenTool& tool, Rng& rng, bool hard, bool selection_only) {
  const auto& pool = hard && !tool.hard_examples.empty() ? tool.hard_examples : tool.examples;
  if (hard && !tool.hard_examples.empty())  // selection only: its arguments are never used
    return fill_template(tool, pool[pick(rng, pool.size())], rng, /*selection_only=*/true);
  // Each value fits its own schema; the arguments as a whole can still break a rule across
  // them (an anyOf over the object, a fixed value clashing with a drawn one): draw again.
  std::vector<SchemaProblem> problems;
  for (int tries = 0; tries < 10; ++tries) {
    GenRequest req = pool.empty() ? from_schema(tool, rng)
                                  : fill_template(tool, pool[pick(rng, pool.size())], rng,
                                                  selection_only);
    problems = validate_json(req.arguments, tool.parameters, "arguments");
    if (problems.empty()) return req;
  }
  fail(tool.name, ": cannot make arguments that fit the parameters schema (", problems[0].path,
       ": ", problems[0].message, ")");
}

void add_framing(GenRequest& req, Rng& rng) {
  static const char* kPrefixes[] = {"Hey, ",
                                    "Hi! ",
                                    "Quick question: ",
                                    "Okay so ",
                                    "Hello. ",
                                    "Sorry to bother you, but ",
                                    "So, ",
                                    "I'm in a hurry. ",
                                    "Good morning! ",
                                    "One more thing: "};
  static const char* kSuffixes[] = {" Thanks!", " Thank you.",   " Thanks in advance.", " Please.",
                                    " Cheers.", " ASAP please.", " Appreciate it!"};
  if (chance(rng, 0.25)) {
    const std::string pre = pick_from(rng, kPrefixes, std::size(kPrefixes));
    // "Hey, what's..." rather than "Hey, What's...", unless the request opens with a value.
    if (!req.pieces.empty() && !req.pieces[0].value && pre.back() == ' ' &&
        pre[pre.size() - 2] != '.' && pre[pre.size() - 2] != '!' && pre[pre.size() - 2] != ':') {
      std::string& first = req.pieces[0].text;
      if (first.size() > 1 && !std::isupper(static_cast<unsigned char>(first[1])) &&
          first.rfind("I ", 0) != 0 && first.rfind("I'", 0) != 0)
        first[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(first[0])));
    }
    req.pieces.insert(req.pieces.begin(), {pre, false});
  }
  if (chance(rng, 0.2))
    req.pieces.push_back({pick_from(rng, kSuffixes, std::size(kSuffixes)), false});
}

std::string plain_text(const std::vector<TextPiece>& pieces) {
  std::string out;
  for (const auto& p : pieces) out += p.text;
  return out;
}

namespace {

bool is_letter(char c) {
  return std::isalpha(static_cast<unsigned char>(c)) != 0;
}

// One typo in a word of four or more letters of a text piece.
void add_typo(std::vector<TextPiece>& pieces, Rng& rng) {
  std::vector<std::pair<size_t, size_t>> words;  // (piece, start)
  for (size_t p = 0; p < pieces.size(); ++p) {
    if (pieces[p].value) continue;
    const std::string& t = pieces[p].text;
    for (size_t i = 0; i < t.size();) {
      size_t j = i;
      while (j < t.size() && is_letter(t[j])) ++j;
      if (j - i >= 4) words.push_back({p, i});
      i = j == i ? i + 1 : j;
    }
  }
  if (words.empty()) return;
  const auto [p, start] = words[pick(rng, words.size())];
  std::string& t = pieces[p].text;
  size_t end = start;
  while (end < t.size() && is_letter(t[end])) ++end;
  const size_t at = start + 1 + pick(rng, end - start - 2);  // never the first or last letter
  switch (pick(rng, 3)) {
    case 0:
      t.erase(at, 1);
      break;  // dropped
    case 1:
      t.insert(at, 1, t[at]);
      break;  // doubled
    default:  // swapped with the next; equal letters ("ll") would not change, so doubled
      if (t[at] != t[at + 1])
        std::swap(t[at], t[at + 1]);
      else
        t.insert(at, 1, t[at]);
      break;
  }
}

}  // namespace

std::string noisy_text(const std::vector<TextPiece>& pieces_in, const NoiseOptions& noise, Rng& rng,
                       bool values_too) {
  std::vector<TextPiece> pieces = pieces_in;
  if (chance(rng, noise.typos)) {
    add_typo(pieces, rng);
    if (chance(rng, 0.3)) add_typo(pieces, rng);
  }
  if (chance(rng, noise.no_punct)) {
    for (auto& p : pieces) {
      if (p.value) continue;
      std::string out;
      for (char c : p.text)
        if (std::string(".,!?;:'").find(c) == std::string::npos) out += c;
      p.text = out;
    }
  }
  if (chance(rng, noise.lowercase))
    for (auto& p : pieces)
      if (!p.value || values_too)
        for (char& c : p.text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  std::string text = plain_text(pieces);
  // Removed punctuation can leave doubled or edge spaces.
  std::string out;
  for (char c : text)
    if (!(c == ' ' && (out.empty() || out.back() == ' '))) out += c;
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

}  // namespace tsft
