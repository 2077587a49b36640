// The built-in filters, with jinja2's argument names and defaults; `tojson` is transformers'
// override: json.dumps(x, ensure_ascii=False, indent=indent, separators=separators, sort_keys).
#include <algorithm>
#include <climits>
#include <cmath>
#include <map>
#include <set>

#include "chat/jinja_eval.h"

namespace tsft::jinja {
namespace {

using FilterFn = Value (*)(const Value&, const CallArgs&);

Value sorted_keys_copy(const Value& v) {
  if (v.is_list()) {
    List l;
    for (const auto& e : v.as_list()) l.push_back(sorted_keys_copy(e));
    return Value(std::move(l));
  }
  if (!v.is_dict()) return v;
  auto d = Dict::make();
  for (const auto& [k, e] : v.as_dict().items) d->items.emplace_back(k, sorted_keys_copy(e));
  std::stable_sort(d->items.begin(), d->items.end(), [](const auto& x, const auto& y) { return x.first < y.first; });
  return Value(d);
}

Value f_tojson(const Value& v, const CallArgs& a) {
  // Positional order is transformers': (ensure_ascii, indent, separators, sort_keys).
  if (a.get(0, "ensure_ascii", Value(false)).truthy()) runtime_fail("tojson: ensure_ascii=True is not supported");
  Value indent = a.get(1, "indent", Value::none());
  Value seps = a.get(2, "separators", Value::none());
  bool sort = a.get(3, "sort_keys", Value(false)).truthy();
  int ind = -1;
  if (indent.is_int()) ind = static_cast<int>(std::max<int64_t>(0, indent.as_int()));
  else if (!indent.is_none() && !indent.is_undefined()) runtime_fail("tojson: indent must be an integer");
  std::string item_sep = ind >= 0 ? "," : ", ", key_sep = ": ";
  if (seps.is_list() && seps.as_list().size() == 2) {
    item_sep = seps.as_list()[0].str();
    key_sep = seps.as_list()[1].str();
  }
  return Value(to_json_string(sort ? sorted_keys_copy(v) : v, ind, item_sep, key_sep));
}

std::string need_str(const Value& v) { return v.is_undefined() ? "" : v.str(); }

Value call_method(const Value& obj, const char* name, const CallArgs& a) {
  Value fn = get_attr(obj, name);
  CallArgs copy = a;
  return fn.as_function()(copy);
}

Value f_trim(const Value& v, const CallArgs& a) {
  CallArgs m;
  m.args.push_back(a.get(0, "chars", Value::none()));
  return call_method(Value(need_str(v)), "strip", m);
}
Value f_upper(const Value& v, const CallArgs&) { return call_method(Value(need_str(v)), "upper", {}); }
Value f_lower(const Value& v, const CallArgs&) { return call_method(Value(need_str(v)), "lower", {}); }
Value f_title(const Value& v, const CallArgs&) {
  // jinja2 capitalizes after whitespace, '-', '(', '{', '[' and '<' only.
  std::string s = need_str(v);
  bool start = true;
  for (auto& c : s) {
    unsigned char u = static_cast<unsigned char>(c);
    if (u < 0x80) c = static_cast<char>(start ? std::toupper(u) : std::tolower(u));
    start = std::isspace(u) || c == '-' || c == '(' || c == '{' || c == '[' || c == '<';
  }
  return Value(s);
}
Value f_capitalize(const Value& v, const CallArgs&) {
  std::string s = need_str(v);
  for (size_t i = 0; i < s.size(); ++i) {
    unsigned char u = static_cast<unsigned char>(s[i]);
    if (u < 0x80) s[i] = static_cast<char>(i == 0 ? std::toupper(u) : std::tolower(u));
  }
  return Value(s);
}
Value f_length(const Value& v, const CallArgs&) {
  if (v.is_string()) return Value(static_cast<int64_t>(utf8_length(v.as_string())));
  if (v.is_list()) return Value(static_cast<int64_t>(v.as_list().size()));
  if (v.is_dict()) return Value(static_cast<int64_t>(v.as_dict().items.size()));
  if (v.is_undefined()) return Value(static_cast<int64_t>(0));
  runtime_fail(std::string("object of type '") + v.type_name() + "' has no len()");
}
Value f_first(const Value& v, const CallArgs&) {
  List l = iterate(v);
  return l.empty() ? Value::undefined("first") : l.front();
}
Value f_last(const Value& v, const CallArgs&) {
  List l = iterate(v);
  return l.empty() ? Value::undefined("last") : l.back();
}

// Resolves "a.b.0" attribute paths the way jinja2's make_attrgetter does.
Value attr_path(const Value& v, const Value& attribute) {
  if (attribute.is_int()) return get_item(v, attribute);
  std::string path = attribute.str();
  Value cur = v;
  size_t start = 0;
  while (true) {
    size_t dot = path.find('.', start);
    std::string part = path.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    bool digits = !part.empty() && std::all_of(part.begin(), part.end(), ::isdigit);
    cur = digits ? get_item(cur, Value(static_cast<int64_t>(std::stoll(part)))) : get_item(cur, Value(part));
    if (dot == std::string::npos) return cur;
    start = dot + 1;
  }
}

Value f_join(const Value& v, const CallArgs& a) {
  std::string sep = a.get(0, "d", Value("")).str();
  Value attribute = a.get(1, "attribute", Value::none());
  std::string out;
  bool first = true;
  for (const auto& e : iterate(v)) {
    if (!first) out += sep;
    first = false;
    out += attribute.is_none() ? e.str() : attr_path(e, attribute).str();
  }
  return Value(out);
}
Value f_default(const Value& v, const CallArgs& a) {
  bool boolean = a.get(1, "boolean", Value(false)).truthy();
  if (v.is_undefined() || (boolean && !v.truthy())) return a.get(0, "default_value", Value(""));
  return v;
}
Value f_replace(const Value& v, const CallArgs& a) {
  CallArgs m;
  m.args = {Value(a.get(0, "old").str()), Value(a.get(1, "new").str()), a.get(2, "count", Value(-1))};
  if (m.args[2].is_none()) m.args[2] = Value(-1);
  return call_method(Value(need_str(v)), "replace", m);
}
Value f_string(const Value& v, const CallArgs&) { return Value(v.str()); }
Value f_int(const Value& v, const CallArgs& a) {
  Value dflt = a.get(0, "default", Value(0));
  if (v.is_int() || v.is_bool()) return Value(v.as_int());
  if (v.is_float()) return Value(static_cast<int64_t>(v.as_double()));
  if (v.is_string()) {
    std::string s = v.as_string();
    try {
      size_t used = 0;
      int64_t base = a.get(1, "base", Value(10)).as_int();
      int64_t r = std::stoll(s, &used, static_cast<int>(base));
      if (used == s.size()) return Value(r);
      double d = std::stod(s, &used);
      if (used == s.size()) return Value(static_cast<int64_t>(d));
    } catch (const std::exception&) {
    }
  }
  return dflt;
}
Value f_float(const Value& v, const CallArgs& a) {
  Value dflt = a.get(0, "default", Value(0.0));
  if (v.is_number()) return Value(v.as_double());
  if (v.is_string()) {
    try {
      size_t used = 0;
      double d = std::stod(v.as_string(), &used);
      if (used == v.as_string().size()) return Value(d);
    } catch (const std::exception&) {
    }
  }
  return dflt;
}
Value f_list(const Value& v, const CallArgs&) { return Value(iterate(v)); }
Value f_items(const Value& v, const CallArgs&) {
  if (v.is_undefined()) return Value(List{});
  if (!v.is_dict()) runtime_fail("items: can only get item pairs from a mapping");
  List l;
  for (const auto& [k, e] : v.as_dict().items) l.push_back(Value::tuple(List{Value(k), e}));
  return Value(std::move(l));
}
Value f_keys(const Value& v, const CallArgs&) { return Value(iterate(v.is_dict() ? v : Value(List{}))); }
Value f_values(const Value& v, const CallArgs&) {
  List l;
  if (v.is_dict())
    for (const auto& kv : v.as_dict().items) l.push_back(kv.second);
  return Value(std::move(l));
}

// select/reject/selectattr/rejectattr share one body: `args` start with the test name.
Value select_impl(const Value& v, const CallArgs& a, bool want, bool by_attr) {
  size_t first = by_attr ? 1 : 0;
  Value attribute = by_attr ? a.get(0, "attribute") : Value::none();
  CallArgs test_args;
  std::string test;
  if (a.args.size() > first) {
    test = a.args[first].str();
    test_args.args.assign(a.args.begin() + static_cast<long>(first) + 1, a.args.end());
  }
  if (!test.empty() && !has_test(test)) runtime_fail("no test named '" + test + "'");
  List out;
  for (const auto& e : iterate(v)) {
    Value x = by_attr ? attr_path(e, attribute) : e;
    bool ok = test.empty() ? x.truthy() : apply_test(test, x, test_args);
    if (ok == want) out.push_back(e);
  }
  return Value(std::move(out));
}
Value f_select(const Value& v, const CallArgs& a) { return select_impl(v, a, true, false); }
Value f_reject(const Value& v, const CallArgs& a) { return select_impl(v, a, false, false); }
Value f_selectattr(const Value& v, const CallArgs& a) { return select_impl(v, a, true, true); }
Value f_rejectattr(const Value& v, const CallArgs& a) { return select_impl(v, a, false, true); }

Value f_map(const Value& v, const CallArgs& a) {
  List out;
  Value attribute = a.get(99, "attribute", Value::none());
  if (!attribute.is_none()) {
    Value dflt = a.get(99, "default", Value::undefined());
    for (const auto& e : iterate(v)) {
      Value x = attr_path(e, attribute);
      out.push_back(x.is_undefined() && !dflt.is_undefined() ? dflt : x);
    }
    return Value(std::move(out));
  }
  if (a.args.empty()) runtime_fail("map requires a filter argument");
  std::string filter = a.args[0].str();
  if (!has_filter(filter)) runtime_fail("no filter named '" + filter + "'");
  CallArgs fa;
  fa.args.assign(a.args.begin() + 1, a.args.end());
  fa.kwargs = a.kwargs;
  for (const auto& e : iterate(v)) out.push_back(apply_filter(filter, e, fa));
  return Value(std::move(out));
}

Value sort_key(const Value& e, const Value& attribute, bool case_sensitive) {
  Value x = attribute.is_none() ? e : attr_path(e, attribute);
  if (!case_sensitive && x.is_string()) return Value(f_lower(x, {}).as_string());
  return x;
}
Value f_unique(const Value& v, const CallArgs& a) {
  bool cs = a.get(0, "case_sensitive", Value(false)).truthy();
  Value attribute = a.get(1, "attribute", Value::none());
  List out, seen;
  for (const auto& e : iterate(v)) {
    Value k = sort_key(e, attribute, cs);
    bool dup = false;
    for (const auto& s : seen) dup = dup || values_equal(s, k);
    if (!dup) {
      seen.push_back(k);
      out.push_back(e);
    }
  }
  return Value(std::move(out));
}
Value f_sort(const Value& v, const CallArgs& a) {
  bool reverse = a.get(0, "reverse", Value(false)).truthy();
  bool cs = a.get(1, "case_sensitive", Value(false)).truthy();
  Value attribute = a.get(2, "attribute", Value::none());
  List l = iterate(v);
  std::stable_sort(l.begin(), l.end(), [&](const Value& x, const Value& y) {
    int c = compare_values(sort_key(x, attribute, cs), sort_key(y, attribute, cs));
    return reverse ? c > 0 : c < 0;
  });
  return Value(std::move(l));
}
Value f_reverse(const Value& v, const CallArgs&) {
  if (v.is_string()) {
    auto cs = utf8_chars(v.as_string());
    std::string s;
    for (auto it = cs.rbegin(); it != cs.rend(); ++it) s += *it;
    return Value(s);
  }
  List l = iterate(v);
  std::reverse(l.begin(), l.end());
  return Value(std::move(l));
}
Value f_safe(const Value& v, const CallArgs&) { return v; }
Value f_escape(const Value& v, const CallArgs&) {
  std::string out;
  for (char c : need_str(v)) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&#34;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return Value(out);
}
Value f_indent(const Value& v, const CallArgs& a) {
  Value w = a.get(0, "width", Value(4));
  std::string pad = w.is_string() ? w.as_string() : std::string(static_cast<size_t>(std::max<int64_t>(0, w.as_int())), ' ');
  bool first = a.get(1, "first", Value(false)).truthy();
  bool blank = a.get(2, "blank", Value(false)).truthy();
  if (!v.is_string()) runtime_fail(std::string("indent: expected a string, got '") + v.type_name() + "'");
  // jinja2 appends "\n" before splitlines() so a trailing newline survives.
  std::string s = need_str(v) + "\n";
  std::vector<std::string> lines;
  size_t start = 0;
  for (size_t p; (p = s.find('\n', start)) != std::string::npos; start = p + 1) lines.push_back(s.substr(start, p - start));
  std::string rv;
  for (size_t i = 0; i < lines.size(); ++i) {
    if (i == 0) {
      rv = lines[0];
      continue;
    }
    rv += "\n";
    if (blank || !lines[i].empty()) rv += pad;
    rv += lines[i];
  }
  if (first) rv = pad + rv;
  return Value(rv);
}
Value f_round(const Value& v, const CallArgs& a) {
  int64_t precision = a.get(0, "precision", Value(0)).as_int();
  std::string method = a.get(1, "method", Value("common")).str();
  if (!v.is_number()) runtime_fail(std::string("round: '") + v.type_name() + "' is not a number");
  if (method == "common" && !v.is_float()) return Value(v.as_int());  // Python round(int, n) is an int
  double m = std::pow(10.0, static_cast<double>(precision));
  double x = v.as_double() * m;
  double r = method == "ceil" ? std::ceil(x) : method == "floor" ? std::floor(x) : std::nearbyint(x);
  return Value(r / m);
}
Value f_abs(const Value& v, const CallArgs&) {
  if (!v.is_number()) runtime_fail(std::string("bad operand type for abs(): '") + v.type_name() + "'");
  if (v.is_float()) return Value(std::fabs(v.as_double()));
  if (v.as_int() == INT64_MIN) runtime_fail("integer overflow in abs");
  return Value(v.as_int() < 0 ? -v.as_int() : v.as_int());
}
Value minmax(const Value& v, const CallArgs& a, bool want_max) {
  bool cs = a.get(0, "case_sensitive", Value(false)).truthy();
  Value attribute = a.get(1, "attribute", Value::none());
  List l = iterate(v);
  if (l.empty()) return Value::undefined(want_max ? "max" : "min");
  size_t best = 0;
  for (size_t i = 1; i < l.size(); ++i) {
    int c = compare_values(sort_key(l[i], attribute, cs), sort_key(l[best], attribute, cs));
    if (want_max ? c > 0 : c < 0) best = i;
  }
  return l[best];
}
Value f_min(const Value& v, const CallArgs& a) { return minmax(v, a, false); }
Value f_max(const Value& v, const CallArgs& a) { return minmax(v, a, true); }
Value f_sum(const Value& v, const CallArgs& a) {
  Value attribute = a.get(0, "attribute", Value::none());
  Value total = a.get(1, "start", Value(0));
  for (const auto& e : iterate(v)) {
    Value x = attribute.is_none() ? e : attr_path(e, attribute);
    if (!x.is_number() || !total.is_number()) runtime_fail("sum: unsupported operand types");
    total = (x.is_float() || total.is_float()) ? Value(total.as_double() + x.as_double()) : Value(total.as_int() + x.as_int());
  }
  return total;
}
Value f_batch(const Value& v, const CallArgs& a) {
  int64_t n = a.get(0, "linecount").as_int();
  if (n <= 0) runtime_fail("batch: linecount must be positive");
  Value fill = a.get(1, "fill_with", Value::none());
  List out, cur;
  for (const auto& e : iterate(v)) {
    cur.push_back(e);
    if (static_cast<int64_t>(cur.size()) == n) {
      out.push_back(Value(cur));
      cur.clear();
    }
  }
  if (!cur.empty()) {
    if (!fill.is_none())
      while (static_cast<int64_t>(cur.size()) < n) cur.push_back(fill);
    out.push_back(Value(cur));
  }
  return Value(std::move(out));
}
Value f_dictsort(const Value& v, const CallArgs& a) {
  bool cs = a.get(0, "case_sensitive", Value(false)).truthy();
  bool by_value = a.get(1, "by", Value("key")).str() == "value";
  bool reverse = a.get(2, "reverse", Value(false)).truthy();
  List l = f_items(v, {}).as_list();
  std::stable_sort(l.begin(), l.end(), [&](const Value& x, const Value& y) {
    int c = compare_values(sort_key(x.as_list()[by_value], Value::none(), cs), sort_key(y.as_list()[by_value], Value::none(), cs));
    return reverse ? c > 0 : c < 0;
  });
  return Value(std::move(l));
}

const std::map<std::string, FilterFn>& filters() {
  static const std::map<std::string, FilterFn> kFilters = {
      {"tojson", f_tojson},       {"trim", f_trim},           {"upper", f_upper},
      {"lower", f_lower},         {"title", f_title},         {"capitalize", f_capitalize},
      {"length", f_length},       {"count", f_length},        {"first", f_first},
      {"last", f_last},           {"join", f_join},           {"default", f_default},
      {"d", f_default},           {"replace", f_replace},     {"string", f_string},
      {"int", f_int},             {"float", f_float},         {"list", f_list},
      {"items", f_items},         {"keys", f_keys},           {"values", f_values},
      {"select", f_select},       {"reject", f_reject},       {"selectattr", f_selectattr},
      {"rejectattr", f_rejectattr}, {"map", f_map},           {"unique", f_unique},
      {"sort", f_sort},           {"reverse", f_reverse},     {"safe", f_safe},
      {"escape", f_escape},       {"e", f_escape},            {"forceescape", f_escape},
      {"indent", f_indent},       {"round", f_round},         {"abs", f_abs},
      {"min", f_min},             {"max", f_max},             {"sum", f_sum},
      {"batch", f_batch},         {"dictsort", f_dictsort},
  };
  return kFilters;
}

}  // namespace

bool has_filter(const std::string& name) { return filters().count(name) > 0; }

Value apply_filter(const std::string& name, const Value& v, const CallArgs& args) {
  auto it = filters().find(name);
  if (it == filters().end()) runtime_fail("no filter named '" + name + "'");
  return it->second(v, args);
}

}  // namespace tsft::jinja
