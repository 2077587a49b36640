// Attribute and item access, Python str/dict methods, slicing, iteration, tests and the global
// functions (range, namespace, dict), as jinja2 exposes them to a sandboxed template.
#include <algorithm>
#include <cmath>
#include <set>

#include "chat/jinja_eval.h"

namespace tsft::jinja {
namespace {

bool is_py_space(const std::string& c) {
  return c == " " || c == "\t" || c == "\n" || c == "\r" || c == "\v" || c == "\f" ||
         c == "\x1c" || c == "\x1d" || c == "\x1e" || c == "\x1f" || c == "\xc2\x85" ||
         c == "\xc2\xa0" || c == "\xe3\x80\x80" || c == "\xe2\x80\xa8" || c == "\xe2\x80\xa9";
}

std::string join_chars(const std::vector<std::string>& cs, size_t b, size_t e) {
  std::string s;
  for (size_t i = b; i < e; ++i) s += cs[i];
  return s;
}

std::string require_str(const Value& v, const char* what) {
  if (!v.is_string()) runtime_fail(std::string(what) + " arg must be None or str");
  return v.as_string();
}

std::string ascii_map(std::string s, int (*fn)(int)) {
  for (auto& c : s)
    if (static_cast<unsigned char>(c) < 0x80) c = static_cast<char>(fn(static_cast<unsigned char>(c)));
  return s;
}

std::vector<std::string> split_str(const std::string& s, const Value& sep, int64_t maxsplit) {
  std::vector<std::string> out;
  if (sep.is_none() || sep.is_undefined()) {
    auto cs = utf8_chars(s);
    size_t i = 0;
    while (true) {
      while (i < cs.size() && is_py_space(cs[i])) ++i;
      if (i >= cs.size()) break;
      if (maxsplit >= 0 && static_cast<int64_t>(out.size()) == maxsplit) {
        size_t e = cs.size();
        while (e > i && is_py_space(cs[e - 1])) --e;
        out.push_back(join_chars(cs, i, e));
        break;
      }
      size_t j = i;
      while (j < cs.size() && !is_py_space(cs[j])) ++j;
      out.push_back(join_chars(cs, i, j));
      i = j;
    }
    return out;
  }
  std::string d = require_str(sep, "split");
  if (d.empty()) runtime_fail("empty separator");
  size_t start = 0;
  while (true) {
    size_t p = s.find(d, start);
    if (p == std::string::npos || (maxsplit >= 0 && static_cast<int64_t>(out.size()) == maxsplit)) {
      out.push_back(s.substr(start));
      return out;
    }
    out.push_back(s.substr(start, p - start));
    start = p + d.size();
  }
}

Value string_method(const std::string& s, const std::string& name, const CallArgs& a) {
  if (name == "strip" || name == "lstrip" || name == "rstrip") {
    Value chars = a.get(0, "chars", Value::none());
    auto cs = utf8_chars(s);
    std::set<std::string> set;
    if (!chars.is_none() && !chars.is_undefined())
      for (auto& c : utf8_chars(require_str(chars, name.c_str()))) set.insert(c);
    auto strip_it = [&](const std::string& c) { return chars.is_none() || chars.is_undefined() ? is_py_space(c) : set.count(c) > 0; };
    size_t b = 0, e = cs.size();
    if (name != "rstrip")
      while (b < e && strip_it(cs[b])) ++b;
    if (name != "lstrip")
      while (e > b && strip_it(cs[e - 1])) --e;
    return Value(join_chars(cs, b, e));
  }
  if (name == "split") {
    List l;
    for (auto& part : split_str(s, a.get(0, "sep", Value::none()), a.get(1, "maxsplit", Value(-1)).as_int()))
      l.push_back(Value(part));
    return Value(std::move(l));
  }
  if (name == "startswith" || name == "endswith") {
    Value p = a.get(0, "prefix");
    List options = p.is_list() ? p.as_list() : List{p};
    for (const auto& o : options) {
      std::string x = require_str(o, name.c_str());
      if (x.size() > s.size()) continue;
      if (name == "startswith" ? s.compare(0, x.size(), x) == 0 : s.compare(s.size() - x.size(), x.size(), x) == 0)
        return Value(true);
    }
    return Value(false);
  }
  if (name == "replace") {
    std::string from = require_str(a.get(0, "old"), "replace"), to = require_str(a.get(1, "new"), "replace");
    int64_t count = a.get(2, "count", Value(-1)).as_int();
    std::string out;
    size_t start = 0;
    int64_t done = 0;
    if (from.empty()) {
      auto cs = utf8_chars(s);
      for (size_t i = 0; i <= cs.size(); ++i) {
        if (count < 0 || done < count) {
          out += to;
          ++done;
        }
        if (i < cs.size()) out += cs[i];
      }
      return Value(out);
    }
    while (count < 0 || done < count) {
      size_t p = s.find(from, start);
      if (p == std::string::npos) break;
      out += s.substr(start, p - start) + to;
      start = p + from.size();
      ++done;
    }
    return Value(out + s.substr(start));
  }
  if (name == "upper") return Value(ascii_map(s, ::toupper));
  if (name == "lower") return Value(ascii_map(s, ::tolower));
  if (name == "title" || name == "capitalize") {
    std::string out = s;
    bool start = true;
    for (auto& c : out) {
      bool alpha = std::isalpha(static_cast<unsigned char>(c));
      if (alpha) c = static_cast<char>(start ? std::toupper(c) : std::tolower(c));
      if (name == "title") start = !alpha;
      else start = false;
    }
    return Value(out);
  }
  if (name == "find" || name == "rfind" || name == "count" || name == "index") {
    std::string sub = require_str(a.get(0, "sub"), name.c_str());
    if (name == "count") {
      if (sub.empty()) return Value(static_cast<int64_t>(utf8_length(s) + 1));
      int64_t n = 0;
      for (size_t p = s.find(sub); p != std::string::npos; p = s.find(sub, p + sub.size())) ++n;
      return Value(n);
    }
    size_t p = name == "rfind" ? s.rfind(sub) : s.find(sub);
    if (p == std::string::npos) {
      if (name == "index") runtime_fail("substring not found");
      return Value(static_cast<int64_t>(-1));
    }
    return Value(static_cast<int64_t>(utf8_length(s.substr(0, p))));
  }
  if (name == "join") {
    std::string out;
    bool first = true;
    for (const auto& v : iterate(a.get(0, "iterable"))) {
      if (!first) out += s;
      first = false;
      out += require_str(v, "join");
    }
    return Value(out);
  }
  if (name == "splitlines") {
    List l;
    for (auto& part : split_str(s, Value("\n"), -1)) l.push_back(Value(part));
    if (!l.empty() && l.back().as_string().empty()) l.pop_back();
    return Value(std::move(l));
  }
  if (name == "isdigit" || name == "isalpha" || name == "isspace" || name == "isalnum") {
    if (s.empty()) return Value(false);
    for (unsigned char c : s) {
      bool ok = name == "isdigit" ? std::isdigit(c) : name == "isalpha" ? std::isalpha(c)
              : name == "isspace" ? std::isspace(c) : std::isalnum(c);
      if (!ok) return Value(false);
    }
    return Value(true);
  }
  runtime_fail("'str' object has no attribute '" + name + "'");
}

Value dict_method(const Value& d, const std::string& name, const CallArgs& a) {
  const Dict& dict = d.as_dict();
  if (name == "get") {
    Value key = a.get(0, "key");
    const Value* v = key.is_string() ? dict.find(key.as_string()) : nullptr;
    return v ? *v : a.get(1, "default", Value::none());
  }
  List l;
  for (const auto& [k, v] : dict.items) {
    if (name == "items") l.push_back(Value::tuple(List{Value(k), v}));
    else if (name == "keys") l.push_back(Value(k));
    else l.push_back(v);
  }
  return Value(std::move(l));
}

int64_t normalize_index(int64_t i, int64_t n) { return i < 0 ? i + n : i; }

}  // namespace

List iterate(const Value& v) {
  switch (v.kind()) {
    case Value::Kind::List: return v.as_list();
    case Value::Kind::Undefined: return {};
    case Value::Kind::Dict: {
      List l;
      for (const auto& kv : v.as_dict().items) l.push_back(Value(kv.first));
      return l;
    }
    case Value::Kind::String: {
      List l;
      for (auto& c : utf8_chars(v.as_string())) l.push_back(Value(c));
      return l;
    }
    default: runtime_fail(std::string("'") + v.type_name() + "' object is not iterable");
  }
}

Value get_attr(const Value& obj, const std::string& name) {
  if (obj.is_dict()) {
    static const std::set<std::string> kMethods = {"get", "items", "keys", "values"};
    if (!obj.as_dict().is_namespace && kMethods.count(name))
      return Value(Function([obj, name](CallArgs& a) { return dict_method(obj, name, a); }));
    const Value* v = obj.as_dict().find(name);
    return v ? *v : Value::undefined(name);
  }
  if (obj.is_string()) {
    static const std::set<std::string> kMethods = {
        "strip", "lstrip", "rstrip", "split", "startswith", "endswith", "replace", "upper", "lower",
        "title", "capitalize", "find", "rfind", "count", "index", "join", "splitlines", "isdigit",
        "isalpha", "isspace", "isalnum"};
    if (!kMethods.count(name)) return Value::undefined(name);
    std::string s = obj.as_string();
    return Value(Function([s, name](CallArgs& a) { return string_method(s, name, a); }));
  }
  if (obj.is_list() && (name == "append" || name == "pop" || name == "insert" || name == "extend"))
    runtime_fail("access to attribute '" + name + "' of 'list' object is unsafe");  // immutable sandbox
  if (obj.is_list() && (name == "count" || name == "index")) {
    List l = obj.as_list();
    return Value(Function([l, name](CallArgs& a) -> Value {
      Value x = a.get(0, "value");
      int64_t n = 0;
      for (size_t i = 0; i < l.size(); ++i) {
        if (!values_equal(l[i], x)) continue;
        if (name == "index") return Value(static_cast<int64_t>(i));
        ++n;
      }
      if (name == "index") runtime_fail("value is not in list");
      return Value(n);
    }));
  }
  return Value::undefined(name);
}

Value get_item(const Value& obj, const Value& key) {
  if (obj.is_dict()) {
    if (!key.is_string()) {
      const Value* v = obj.as_dict().find(key.str());
      return v && !key.is_none() ? *v : Value::undefined();
    }
    const Value* v = obj.as_dict().find(key.as_string());
    return v ? *v : Value::undefined(key.as_string());
  }
  if ((obj.is_list() || obj.is_string()) && (key.is_int() || key.is_bool())) {
    if (obj.is_list()) {
      const auto& l = obj.as_list();
      int64_t i = normalize_index(key.as_int(), static_cast<int64_t>(l.size()));
      return i >= 0 && i < static_cast<int64_t>(l.size()) ? l[static_cast<size_t>(i)] : Value::undefined();
    }
    auto cs = utf8_chars(obj.as_string());
    int64_t i = normalize_index(key.as_int(), static_cast<int64_t>(cs.size()));
    return i >= 0 && i < static_cast<int64_t>(cs.size()) ? Value(cs[static_cast<size_t>(i)]) : Value::undefined();
  }
  if (key.is_string()) return get_attr(obj, key.as_string());
  return Value::undefined();
}

Value get_slice(const Value& obj, const Value& start, const Value& stop, const Value& step_v) {
  // jinja2's getitem turns a TypeError into an undefined value.
  if (!obj.is_list() && !obj.is_string()) return Value::undefined();
  for (const Value* v : {&start, &stop, &step_v})
    if (!v->is_none() && !v->is_int() && !v->is_bool()) return Value::undefined();
  std::vector<std::string> cs;
  int64_t n = obj.is_list() ? static_cast<int64_t>(obj.as_list().size())
                            : static_cast<int64_t>((cs = utf8_chars(obj.as_string())).size());
  int64_t step = step_v.is_none() ? 1 : step_v.as_int();
  if (step == 0) runtime_fail("slice step cannot be zero");
  // CPython's PySlice_AdjustIndices.
  auto adjust = [&](const Value& v, int64_t dflt) {
    if (v.is_none()) return dflt;
    int64_t i = v.as_int();
    if (i < 0) {
      i += n;
      if (i < 0) i = step < 0 ? -1 : 0;
    } else if (i >= n) {
      i = step < 0 ? n - 1 : n;
    }
    return i;
  };
  int64_t b = adjust(start, step < 0 ? n - 1 : 0);
  int64_t e = adjust(stop, step < 0 ? -1 : n);
  List l;
  std::string s;
  for (int64_t i = b; step > 0 ? i < e : i > e; i += step) {
    if (obj.is_list()) l.push_back(obj.as_list()[static_cast<size_t>(i)]);
    else s += cs[static_cast<size_t>(i)];
  }
  return obj.is_list() ? Value(std::move(l)) : Value(s);
}

bool has_test(const std::string& name) {
  static const std::set<std::string> kTests = {
      "defined", "undefined", "none", "string", "mapping", "iterable", "sequence", "number",
      "integer", "float", "boolean", "true", "false", "odd", "even", "divisibleby", "equalto",
      "eq", "==", "ne", "!=", "lt", "<", "le", "<=", "gt", ">", "ge", ">=", "lessthan",
      "greaterthan", "in", "lower", "upper", "callable", "sameas", "escaped", "filter", "test"};
  return kTests.count(name) > 0;
}

bool apply_test(const std::string& name, const Value& v, const CallArgs& a) {
  if (name == "defined") return !v.is_undefined();
  if (name == "undefined") return v.is_undefined();
  if (name == "none") return v.is_none();
  if (name == "string") return v.is_string();
  if (name == "mapping") return v.is_dict();
  if (name == "iterable") return v.is_list() || v.is_dict() || v.is_string() || v.is_undefined();
  if (name == "sequence") return v.is_list() || v.is_dict() || v.is_string();
  if (name == "number") return v.is_number();
  if (name == "integer") return v.is_int();
  if (name == "float") return v.is_float();
  if (name == "boolean") return v.is_bool();
  if (name == "true") return v.is_bool() && v.as_bool();
  if (name == "false") return v.is_bool() && !v.as_bool();
  if (name == "callable") return v.is_function();
  if (name == "escaped") return false;
  if (name == "filter") return has_filter(a.get(0, "name").str());
  if (name == "test") return has_test(a.get(0, "name").str());
  if (name == "lower" || name == "upper") {
    if (!v.is_string()) return false;
    const std::string& s = v.as_string();
    bool cased = false;
    for (unsigned char c : s) {
      if (std::isalpha(c)) cased = true;
      if (name == "lower" ? std::isupper(c) : std::islower(c)) return false;
    }
    return cased;
  }
  if (name == "odd" || name == "even") {
    if (!v.is_int() && !v.is_bool()) runtime_fail("test '" + name + "' needs an integer");
    int64_t r = v.as_int() % 2;
    return name == "odd" ? r != 0 : r == 0;
  }
  Value other = a.get(0, "value");
  if (name == "divisibleby") {
    if (!v.is_number() || !other.is_number() || other.as_int() == 0) runtime_fail("divisibleby needs non-zero numbers");
    return v.as_int() % other.as_int() == 0;
  }
  if (name == "sameas") {
    if (v.kind() != other.kind()) return false;
    if (v.is_list() || v.is_dict()) return v.is_list() ? &v.as_list() == &other.as_list() : &v.as_dict() == &other.as_dict();
    return values_equal(v, other);
  }
  if (name == "equalto" || name == "eq" || name == "==") return values_equal(v, other);
  if (name == "ne" || name == "!=") return !values_equal(v, other);
  if (name == "lt" || name == "<" || name == "lessthan") return compare_values(v, other) < 0;
  if (name == "le" || name == "<=") return compare_values(v, other) <= 0;
  if (name == "gt" || name == ">" || name == "greaterthan") return compare_values(v, other) > 0;
  if (name == "ge" || name == ">=") return compare_values(v, other) >= 0;
  if (name == "in") {
    if (other.is_string()) return v.is_string() && other.as_string().find(v.as_string()) != std::string::npos;
    if (other.is_dict()) return v.is_string() && other.as_dict().find(v.as_string());
    for (const auto& x : iterate(other))
      if (values_equal(x, v)) return true;
    return false;
  }
  runtime_fail("no test named '" + name + "'");
}

void add_builtin_globals(Dict& globals) {
  globals.set("range", Value(Function([](CallArgs& a) -> Value {
    if (a.args.empty() || a.args.size() > 3) runtime_fail("range expected 1 to 3 arguments");
    for (const auto& x : a.args)
      if (!x.is_int() && !x.is_bool()) runtime_fail("range() integer argument expected");
    int64_t start = 0, stop, step = 1;
    if (a.args.size() == 1) {
      stop = a.args[0].as_int();
    } else {
      start = a.args[0].as_int();
      stop = a.args[1].as_int();
      if (a.args.size() == 3) step = a.args[2].as_int();
    }
    if (step == 0) runtime_fail("range() arg 3 must not be zero");
    List l;
    for (int64_t i = start; step > 0 ? i < stop : i > stop; i += step) {
      if (l.size() >= 1'000'000) runtime_fail("range too large");
      l.push_back(Value(i));
    }
    return Value(std::move(l));
  })));
  auto make_dict = [](CallArgs& a, bool ns) -> Value {
    auto d = Dict::make();
    d->is_namespace = ns;
    for (const auto& x : a.args) {
      if (!x.is_dict()) runtime_fail("expected a mapping as positional argument");
      for (const auto& [k, v] : x.as_dict().items) d->set(k, v);
    }
    for (const auto& [k, v] : a.kwargs) d->set(k, v);
    return Value(d);
  };
  globals.set("namespace", Value(Function([make_dict](CallArgs& a) { return make_dict(a, true); })));
  globals.set("dict", Value(Function([make_dict](CallArgs& a) { return make_dict(a, false); })));
}

}  // namespace tsft::jinja
