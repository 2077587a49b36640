// The tree-walking evaluator. Scoping follows jinja2: a for loop (and a macro call) opens a
// scope, so `set` inside a loop does not leak out; namespaces are shared objects and do.
#include "chat/jinja_eval.h"

#include <climits>
#include <cmath>

#include "core/error.h"

namespace tsft::jinja {
namespace {

constexpr int kMaxCallDepth = 100;
constexpr size_t kMaxRepeat = size_t{1} << 26;  // 'x' * n beyond 64 MiB is refused, not allocated  // macro recursion; deeper is an error, not a stack overflow

enum class Flow { Normal, Break, Continue };

class Evaluator {
 public:
  Evaluator(const Template& tpl, std::shared_ptr<Dict> vars) : tpl_(tpl) {
    auto globals = Dict::make();
    add_builtin_globals(*globals);
    scopes_.push_back(globals);
    scopes_.push_back(std::move(vars));
    // Assignments at the top level go to a scope of their own so the caller's dict is untouched.
    scopes_.push_back(Dict::make());
  }

  std::string render() {
    std::string out;
    exec_body(tpl_.body, out);
    return out;
  }

 private:
  struct ScopeGuard {
    Evaluator& ev;
    explicit ScopeGuard(Evaluator& e) : ev(e) { ev.scopes_.push_back(Dict::make()); }
    ~ScopeGuard() { ev.scopes_.pop_back(); }
  };

  [[noreturn]] void fail_at(int line, int col, const std::string& msg) const {
    tsft::fail(tpl_.name, ":", line, ":", col, ": ", msg);
  }

  Value lookup(const std::string& name) const {
    for (auto it = scopes_.rbegin(); it != scopes_.rend(); ++it)
      if (const Value* v = (*it)->find(name)) return *v;
    return Value::undefined(name);
  }

  void assign(const std::vector<std::string>& targets, const Value& v, Dict& scope) {
    if (targets.size() == 1) {
      scope.set(targets[0], v);
      return;
    }
    List items = iterate(v);
    if (items.size() != targets.size())
      runtime_fail("cannot unpack " + std::to_string(items.size()) + " values into " +
                   std::to_string(targets.size()) + " names");
    for (size_t i = 0; i < targets.size(); ++i) scope.set(targets[i], items[i]);
  }

  Flow exec_body(const Body& body, std::string& out) {
    for (const auto& s : body) {
      Flow f = exec(*s, out);
      if (f != Flow::Normal) return f;
    }
    return Flow::Normal;
  }

  Flow exec(const Stmt& s, std::string& out) {
    try {
      return exec_inner(s, out);
    } catch (const RuntimeError& e) {
      fail_at(s.line, s.col, e.what());
    }
  }

  Flow exec_inner(const Stmt& s, std::string& out) {
    switch (s.kind) {
      case Stmt::Kind::Text: out += s.text; return Flow::Normal;
      case Stmt::Kind::Output: out += eval(*s.expr).str(); return Flow::Normal;
      case Stmt::Kind::If:
        for (const auto& [cond, body] : s.branches)
          if (eval(*cond).truthy()) return exec_body(body, out);
        return exec_body(s.else_body, out);
      case Stmt::Kind::For: return exec_for(s, out);
      case Stmt::Kind::Set: {
        Value v = eval(*s.expr);
        set_target(s, v);
        return Flow::Normal;
      }
      case Stmt::Kind::SetBlock: {
        std::string text;
        exec_body(s.body, text);
        set_target(s, apply_filters(s.filters, Value(text)));
        return Flow::Normal;
      }
      case Stmt::Kind::FilterBlock: {
        std::string text;
        Flow f = exec_body(s.body, text);
        out += apply_filters(s.filters, Value(text)).str();
        return f;
      }
      case Stmt::Kind::Macro:
        scopes_.back()->set(s.text, make_macro(s, s.body, s.params));
        return Flow::Normal;
      case Stmt::Kind::CallBlock: {
        Value caller = make_macro(s, s.body, s.params);
        const Expr& call = *s.expr;
        out += call_expr(call, &caller).str();
        return Flow::Normal;
      }
      case Stmt::Kind::Break: return Flow::Break;
      case Stmt::Kind::Continue: return Flow::Continue;
      case Stmt::Kind::Scope: return exec_body(s.body, out);
    }
    return Flow::Normal;
  }

  void set_target(const Stmt& s, const Value& v) {
    if (!s.attr.empty()) {
      Value ns = lookup(s.targets[0]);
      if (!ns.is_dict() || !ns.as_dict().is_namespace)
        runtime_fail("cannot assign attribute on non-namespace object");
      // A namespace holding itself would be a reference cycle (leaked, unprintable): refuse it.
      if (reaches(v, &ns.as_dict(), 0)) runtime_fail("cannot store a namespace inside itself");
      ns.as_dict().set(s.attr, v);
      return;
    }
    assign(s.targets, v, *scopes_.back());
  }

  static bool reaches(const Value& v, const Dict* target, int depth) {
    if (depth > 512) return true;
    if (v.is_dict()) {
      if (&v.as_dict() == target) return true;
      for (const auto& kv : v.as_dict().items)
        if (reaches(kv.second, target, depth + 1)) return true;
    } else if (v.is_list()) {
      for (const auto& e : v.as_list())
        if (reaches(e, target, depth + 1)) return true;
    }
    return false;
  }

  Value apply_filters(const std::vector<ExprPtr>& filters, Value v) {
    for (const auto& f : filters) v = filter_call(*f, v);
    return v;
  }

  Flow exec_for(const Stmt& s, std::string& out) {
    Value seq = eval(*s.expr);
    if (!seq.is_list() && !seq.is_dict() && !seq.is_string() && !seq.is_undefined())
      runtime_fail(std::string("'") + seq.type_name() + "' object is not iterable");
    List items = iterate(seq);
    ScopeGuard guard(*this);
    Dict& scope = *scopes_.back();
    if (s.cond) {
      List kept;
      for (const auto& item : items) {
        assign(s.targets, item, scope);
        if (eval(*s.cond).truthy()) kept.push_back(item);
      }
      items = std::move(kept);
    }
    const size_t n = items.size();
    for (size_t i = 0; i < n; ++i) {
      assign(s.targets, items[i], scope);
      auto loop = Dict::make();
      loop->items.reserve(12);
      loop->set("index", Value(static_cast<int64_t>(i + 1)));
      loop->set("index0", Value(static_cast<int64_t>(i)));
      loop->set("revindex", Value(static_cast<int64_t>(n - i)));
      loop->set("revindex0", Value(static_cast<int64_t>(n - i - 1)));
      loop->set("first", Value(i == 0));
      loop->set("last", Value(i + 1 == n));
      loop->set("length", Value(static_cast<int64_t>(n)));
      loop->set("depth", Value(1));
      loop->set("depth0", Value(0));
      loop->set("previtem", i > 0 ? items[i - 1] : Value::undefined("previtem"));
      loop->set("nextitem", i + 1 < n ? items[i + 1] : Value::undefined("nextitem"));
      loop->set("cycle", Value(Function([i](CallArgs& a) -> Value {
                  if (a.args.empty()) runtime_fail("no items for cycling given");
                  return a.args[i % a.args.size()];
                })));
      scope.set("loop", Value(loop));
      Flow f = exec_body(s.body, out);
      if (f == Flow::Break) break;
    }
    if (n == 0) {
      scopes_.pop_back();
      scopes_.push_back(Dict::make());  // the else body does not see the loop variables
      return exec_body(s.else_body, out);
    }
    return Flow::Normal;
  }

  Value make_macro(const Stmt& s, const Body& body,
                   const std::vector<std::pair<std::string, ExprPtr>>& params) {
    // Weak: the macro is stored in one of these scopes, and a strong capture would be a cycle.
    std::vector<std::weak_ptr<Dict>> closure(scopes_.begin(), scopes_.end());
    const Body* b = &body;
    const auto* p = &params;
    const Stmt* stmt = &s;
    return Value(Function([this, closure, b, p, stmt](CallArgs& a) -> Value {
      if (call_depth_ >= kMaxCallDepth) runtime_fail("maximum macro recursion depth exceeded");
      auto scope = Dict::make();
      std::vector<std::shared_ptr<Dict>> saved = std::move(scopes_);
      scopes_.clear();
      for (const auto& w : closure) {
        auto d = w.lock();
        scopes_.push_back(d ? d : Dict::make());  // a scope that ended (macro escaped its loop)
      }
      scopes_.push_back(scope);
      ++call_depth_;
      struct Restore {
        Evaluator& ev;
        std::vector<std::shared_ptr<Dict>>& saved;
        ~Restore() {
          ev.scopes_ = std::move(saved);
          --ev.call_depth_;
        }
      } restore{*this, saved};
      if (a.args.size() > p->size()) runtime_fail("macro '" + stmt->text + "' takes not more than " +
                                                  std::to_string(p->size()) + " argument(s)");
      for (size_t i = 0; i < p->size(); ++i) {
        const auto& [name, def] = (*p)[i];
        Value v = a.get(i, name, Value::undefined(name));
        if (v.is_undefined() && def) v = eval(*def);
        scope->set(name, v);
      }
      for (const auto& [k, v] : a.kwargs) {
        bool known = k == "caller";
        for (const auto& pp : *p) known = known || pp.first == k;
        if (!known) runtime_fail("macro '" + stmt->text + "' takes no keyword argument '" + k + "'");
        if (k == "caller") scope->set(k, v);
      }
      std::string out;
      exec_body(*b, out);
      return Value(out);
    }));
  }

  Value eval(const Expr& e) {
    try {
      return eval_inner(e);
    } catch (const RuntimeError& err) {
      fail_at(e.line, e.col, err.what());
    }
  }

  CallArgs eval_args(const Expr& e, size_t first) {
    CallArgs a;
    for (size_t i = first; i < e.args.size(); ++i) a.args.push_back(eval(*e.args[i]));
    for (const auto& [k, v] : e.kwargs) a.kwargs.emplace_back(k, eval(*v));
    return a;
  }

  Value filter_call(const Expr& f, const Value& v) {
    try {
      if (!has_filter(f.name)) runtime_fail("no filter named '" + f.name + "'");
      CallArgs a = eval_args(f, 1);
      return apply_filter(f.name, v, a);
    } catch (const RuntimeError& err) {
      fail_at(f.line, f.col, err.what());
    }
  }

  Value call_expr(const Expr& e, const Value* caller) {
    Value fn = eval(*e.args[0]);
    if (fn.is_undefined()) runtime_fail("'" + fn.undefined_name() + "' is undefined");
    if (!fn.is_function()) runtime_fail(std::string("'") + fn.type_name() + "' object is not callable");
    CallArgs a = eval_args(e, 1);
    if (caller) a.kwargs.emplace_back("caller", *caller);
    return fn.as_function()(a);
  }

  static void require_defined(const Value& v) {
    if (v.is_undefined()) runtime_fail("'" + v.undefined_name() + "' is undefined");
  }

  Value eval_inner(const Expr& e) {
    switch (e.kind) {
      case Expr::Kind::Const: return e.value;
      case Expr::Kind::Name: return lookup(e.name);
      case Expr::Kind::List:
      case Expr::Kind::Tuple: {
        List l;
        for (const auto& a : e.args) l.push_back(eval(*a));
        return e.kind == Expr::Kind::Tuple ? Value::tuple(std::move(l)) : Value(std::move(l));
      }
      case Expr::Kind::DictLit: {
        auto d = Dict::make();
        for (size_t i = 0; i + 1 < e.args.size(); i += 2) {
          Value k = eval(*e.args[i]);
          d->set(k.str(), eval(*e.args[i + 1]));
        }
        return Value(d);
      }
      case Expr::Kind::Attr: {
        Value obj = eval(*e.args[0]);
        require_defined(obj);
        Value r = get_attr(obj, e.name);
        if (r.is_undefined()) return Value::undefined(e.name);
        return r;
      }
      case Expr::Kind::Item: {
        Value obj = eval(*e.args[0]);
        require_defined(obj);
        Value key = eval(*e.args[1]);
        Value r = get_item(obj, key);
        if (r.is_undefined()) return Value::undefined(key.str());
        return r;
      }
      case Expr::Kind::Slice: {
        Value obj = eval(*e.args[0]);
        require_defined(obj);
        Value parts[3];
        for (int i = 0; i < 3; ++i)
          parts[i] = e.args[i + 1] ? eval(*e.args[i + 1]) : Value::none();
        return get_slice(obj, parts[0], parts[1], parts[2]);
      }
      case Expr::Kind::Call: return call_expr(e, nullptr);
      case Expr::Kind::Filter: return filter_call(e, eval(*e.args[0]));
      case Expr::Kind::Test: {
        if (!has_test(e.name)) runtime_fail("no test named '" + e.name + "'");
        Value v = eval(*e.args[0]);
        CallArgs a = eval_args(e, 1);
        return Value(apply_test(e.name, v, a) != e.negated);
      }
      case Expr::Kind::Neg:
      case Expr::Kind::Pos: {
        Value v = eval(*e.args[0]);
        if (!v.is_number()) runtime_fail(std::string("bad operand type for unary -: '") + v.type_name() + "'");
        if (e.kind == Expr::Kind::Pos) return v.is_bool() ? Value(v.as_int()) : v;
        if (v.is_float()) return Value(-v.as_double());
        if (v.as_int() == INT64_MIN) runtime_fail("integer overflow in unary -");
        return Value(-v.as_int());
      }
      case Expr::Kind::Not: return Value(!eval(*e.args[0]).truthy());
      case Expr::Kind::And: {
        Value a = eval(*e.args[0]);
        return a.truthy() ? eval(*e.args[1]) : a;
      }
      case Expr::Kind::Or: {
        Value a = eval(*e.args[0]);
        return a.truthy() ? a : eval(*e.args[1]);
      }
      case Expr::Kind::Cond:
        if (eval(*e.args[0]).truthy()) return eval(*e.args[1]);
        return e.args[2] ? eval(*e.args[2]) : Value::undefined();
      case Expr::Kind::Binary: return binary(e.name, eval(*e.args[0]), eval(*e.args[1]));
      case Expr::Kind::Compare: {
        Value left = eval(*e.args[0]);
        for (size_t i = 0; i < e.ops.size(); ++i) {
          Value right = eval(*e.args[i + 1]);
          if (!binary(e.ops[i], left, right).truthy()) return Value(false);
          left = std::move(right);
        }
        return Value(true);
      }
    }
    return Value();
  }

  static bool contains(const Value& container, const Value& item) {
    if (container.is_string()) {
      if (!item.is_string()) runtime_fail("'in <string>' requires string as left operand");
      return container.as_string().find(item.as_string()) != std::string::npos;
    }
    if (container.is_dict()) return item.is_string() && container.as_dict().find(item.as_string());
    if (container.is_list()) {
      for (const auto& x : container.as_list())
        if (values_equal(x, item)) return true;
      return false;
    }
    if (container.is_undefined()) return false;
    runtime_fail(std::string("argument of type '") + container.type_name() + "' is not iterable");
  }

  static Value binary(const std::string& op, const Value& a, const Value& b) {
    if (op == "~") return Value(a.str() + b.str());
    if (op == "==") return Value(values_equal(a, b));
    if (op == "!=") return Value(!values_equal(a, b));
    if (op == "in") return Value(contains(b, a));
    if (op == "notin") return Value(!contains(b, a));
    if (op == "<") return Value(compare_values(a, b) < 0);
    if (op == "<=") return Value(compare_values(a, b) <= 0);
    if (op == ">") return Value(compare_values(a, b) > 0);
    if (op == ">=") return Value(compare_values(a, b) >= 0);
    require_defined(a);
    require_defined(b);
    if (op == "+") {
      if (a.is_string() && b.is_string()) return Value(a.as_string() + b.as_string());
      if (a.is_list() && b.is_list()) {
        List l = a.as_list();
        l.insert(l.end(), b.as_list().begin(), b.as_list().end());
        return Value(std::move(l));
      }
    }
    if (op == "*" && (a.is_string() || a.is_list() || b.is_string() || b.is_list())) {
      const Value& seq = (a.is_string() || a.is_list()) ? a : b;
      const Value& count = (a.is_string() || a.is_list()) ? b : a;
      if (count.is_int() || count.is_bool()) {
        int64_t n = std::max<int64_t>(0, count.as_int());
        size_t unit = seq.is_string() ? seq.as_string().size() : seq.as_list().size();
        if (unit > 0 && n > static_cast<int64_t>(kMaxRepeat / unit)) runtime_fail("repetition result too large");
        if (seq.is_string()) {
          std::string s;
          for (int64_t i = 0; i < n; ++i) s += seq.as_string();
          return Value(s);
        }
        List l;
        for (int64_t i = 0; i < n; ++i) l.insert(l.end(), seq.as_list().begin(), seq.as_list().end());
        return Value(std::move(l));
      }
    }
    if (!a.is_number() || !b.is_number())
      runtime_fail("unsupported operand type(s) for " + op + ": '" + a.type_name() + "' and '" +
                   b.type_name() + "'");
    bool floats = a.is_float() || b.is_float();
    if (op == "/") {
      if (b.as_double() == 0) runtime_fail("division by zero");
      return Value(a.as_double() / b.as_double());
    }
    if (floats) {
      double x = a.as_double(), y = b.as_double();
      if (op == "+") return Value(x + y);
      if (op == "-") return Value(x - y);
      if (op == "*") return Value(x * y);
      if (op == "**") return Value(std::pow(x, y));
      if (y == 0) runtime_fail("float division by zero");
      if (op == "//") return Value(std::floor(x / y));
      if (op == "%") {
        double r = std::fmod(x, y);
        if (r != 0 && ((r < 0) != (y < 0))) r += y;
        return Value(r);
      }
    } else {
      // Python ints are unbounded; ours are 64-bit, so overflow is an error rather than UB.
      int64_t x = a.as_int(), y = b.as_int(), r = 0;
      bool overflow = false;
      if (op == "+") overflow = __builtin_add_overflow(x, y, &r);
      else if (op == "-") overflow = __builtin_sub_overflow(x, y, &r);
      else if (op == "*") overflow = __builtin_mul_overflow(x, y, &r);
      else if (op == "**") {
        if (y < 0) return Value(std::pow(static_cast<double>(x), static_cast<double>(y)));
        r = 1;
        if (x == -1) r = (y % 2) ? -1 : 1;
        else if (x == 0) r = y == 0 ? 1 : 0;
        else if (x != 1)
          for (int64_t i = 0; i < y && !overflow; ++i) overflow = __builtin_mul_overflow(r, x, &r);
      }
      if (overflow) runtime_fail("integer overflow in " + op);
      if (op == "+" || op == "-" || op == "*" || op == "**") return Value(r);
      if (y == 0) runtime_fail("integer division or modulo by zero");
      if (x == INT64_MIN && y == -1) runtime_fail("integer overflow in " + op);
      int64_t q = x / y;
      r = x % y;
      if (r != 0 && ((r < 0) != (y < 0))) {
        --q;
        r += y;
      }
      if (op == "//") return Value(q);
      if (op == "%") return Value(r);
    }
    runtime_fail("unknown operator " + op);
  }

  const Template& tpl_;
  std::vector<std::shared_ptr<Dict>> scopes_;
  int call_depth_ = 0;
};

}  // namespace

std::string render_template(const Template& tpl, const std::shared_ptr<Dict>& vars) {
  Evaluator ev(tpl, vars);
  return ev.render();
}

}  // namespace tsft::jinja
