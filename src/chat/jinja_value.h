// The dynamic value of the Jinja interpreter: undefined, none, bool, int, float, string, list,
// ordered dict and callables, with Python's truthiness, str()/repr() and comparison rules.
#pragma once

#include <climits>
#include <cstdint>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace tsft::jinja {

// A runtime error without a position; the evaluator adds "name:line:col: " where it catches it.
class RuntimeError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

[[noreturn]] inline void runtime_fail(const std::string& msg) { throw RuntimeError(msg); }

class Value;
using List = std::vector<Value>;
struct Dict;
struct CallArgs;
using Function = std::function<Value(CallArgs&)>;

class Value {
 public:
  enum class Kind { Undefined, None, Bool, Int, Float, String, List, Dict, Function };

  Value() = default;  // undefined
  static Value none() { Value v; v.kind_ = Kind::None; return v; }
  static Value undefined(std::string name = {}) { Value v; v.str_ = std::move(name); return v; }
  Value(bool b) : kind_(Kind::Bool), int_(b) {}
  Value(int v) : kind_(Kind::Int), int_(v) {}
  Value(int64_t v) : kind_(Kind::Int), int_(v) {}
  Value(size_t v) : kind_(Kind::Int), int_(static_cast<int64_t>(v)) {}
  Value(double v) : kind_(Kind::Float), float_(v) {}
  Value(std::string s) : kind_(Kind::String), str_(std::move(s)) {}
  Value(const char* s) : kind_(Kind::String), str_(s) {}
  Value(List l) : kind_(Kind::List), list_(std::make_shared<List>(std::move(l))) {}
  Value(std::shared_ptr<Dict> d) : kind_(Kind::Dict), dict_(std::move(d)) {}
  Value(Function f) : kind_(Kind::Function), fn_(std::make_shared<Function>(std::move(f))) {}
  // A tuple is a list that prints as (a, b): literals like (1, 2) and dict.items() pairs.
  static Value tuple(List l) { Value v(std::move(l)); v.tuple_ = true; return v; }
  static Value from_json(const nlohmann::ordered_json& j);  // fails beyond 256 levels

  Kind kind() const { return kind_; }
  bool is_undefined() const { return kind_ == Kind::Undefined; }
  bool is_none() const { return kind_ == Kind::None; }
  bool is_bool() const { return kind_ == Kind::Bool; }
  bool is_int() const { return kind_ == Kind::Int; }
  bool is_float() const { return kind_ == Kind::Float; }
  bool is_number() const { return kind_ == Kind::Int || kind_ == Kind::Float || kind_ == Kind::Bool; }
  bool is_string() const { return kind_ == Kind::String; }
  bool is_list() const { return kind_ == Kind::List; }
  bool is_tuple() const { return tuple_; }
  bool is_dict() const { return kind_ == Kind::Dict; }
  bool is_function() const { return kind_ == Kind::Function; }

  bool as_bool() const { return int_ != 0; }
  int64_t as_int() const { return kind_ == Kind::Float ? float_to_int(float_) : int_; }
  double as_double() const { return kind_ == Kind::Float ? float_ : static_cast<double>(int_); }
  const std::string& as_string() const { return str_; }
  // For an undefined value: the name it was looked up under (for error messages).
  const std::string& undefined_name() const { return str_; }
  List& as_list() const { return *list_; }
  Dict& as_dict() const { return *dict_; }
  const Function& as_function() const { return *fn_; }
  const std::shared_ptr<Dict>& dict_ptr() const { return dict_; }

  bool truthy() const;
  std::string str() const;   // Python str(): what {{ x }} prints
  std::string repr() const;  // Python repr(): inside lists and dicts
  nlohmann::ordered_json to_json() const;  // fails on undefined and functions
  const char* type_name() const;

 private:
  // Truncates toward zero like Python's int(), saturating where int64 ends (NaN gives 0).
  static int64_t float_to_int(double d) {
    if (!(d == d)) return 0;
    if (d >= 9.2233720368547758e18) return INT64_MAX;
    if (d <= -9.2233720368547758e18) return INT64_MIN;
    return static_cast<int64_t>(d);
  }
  static Value from_json(const nlohmann::ordered_json& j, int depth);

  Kind kind_ = Kind::Undefined;
  bool tuple_ = false;
  int64_t int_ = 0;
  double float_ = 0;
  std::string str_;
  std::shared_ptr<List> list_;
  std::shared_ptr<Dict> dict_;
  std::shared_ptr<Function> fn_;
};

// Insertion-ordered mapping with string keys (JSON objects, dict literals, namespaces).
struct Dict {
  std::vector<std::pair<std::string, Value>> items;
  bool is_namespace = false;

  const Value* find(const std::string& key) const;
  void set(const std::string& key, Value v);
  static std::shared_ptr<Dict> make() { return std::make_shared<Dict>(); }
};

struct CallArgs {
  std::vector<Value> args;
  std::vector<std::pair<std::string, Value>> kwargs;

  // Python-style binding: the i-th positional argument or the keyword `name`, else `fallback`.
  Value get(size_t i, const std::string& name, Value fallback = Value()) const;
};

// Python semantics shared by the evaluator and the filters.
bool values_equal(const Value& a, const Value& b);
int compare_values(const Value& a, const Value& b);  // <0, 0, >0; fails on unorderable types
std::string python_float_repr(double v);
std::string python_string_repr(const std::string& s);
// json.dumps(v, ensure_ascii=False, indent=indent (<0: None), separators=(item_sep, key_sep)).
std::string to_json_string(const Value& v, int indent, const std::string& item_sep,
                           const std::string& key_sep);

// UTF-8 helpers: Python strings index code points, not bytes.
std::vector<std::string> utf8_chars(const std::string& s);
size_t utf8_length(const std::string& s);

}  // namespace tsft::jinja
