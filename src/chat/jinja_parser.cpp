// Recursive-descent parser following jinja2.parser.Parser: the precedence climb is
// condexpr > or > and > not > compare > +,- > ~ > *,/,//,% > ** > unary > postfix/filters.
#include "chat/jinja_parser.h"

#include <set>

#include "core/error.h"

namespace tsft::jinja {
namespace {

constexpr int kMaxDepth = 200;  // nested expressions/blocks; deeper input is refused, not crashed on

class Parser {
 public:
  Parser(std::vector<Token> tokens, const std::string& name) : toks_(std::move(tokens)), name_(name) {}

  Body parse_all() {
    std::vector<std::string> none;
    Body b = parse_body(none);
    if (cur().type != TokenType::Eof) fail_tok(cur(), "unexpected '" + cur().value + "'");
    return b;
  }

 private:
  struct DepthGuard {
    Parser& p;
    explicit DepthGuard(Parser& parser) : p(parser) {
      if (++p.depth_ > kMaxDepth) p.fail_tok(p.cur(), "template nested too deeply");
    }
    ~DepthGuard() { --p.depth_; }
  };

  const Token& cur() const { return toks_[pos_]; }
  const Token& peek(size_t n = 1) const { return toks_[std::min(pos_ + n, toks_.size() - 1)]; }
  const Token& next() {
    const Token& t = toks_[pos_];
    if (pos_ + 1 < toks_.size()) ++pos_;
    return t;
  }

  [[noreturn]] void fail_tok(const Token& t, const std::string& msg) const {
    tsft::fail(name_, ":", t.line, ":", t.col, ": ", msg);
  }

  static std::string describe(const Token& t) {
    switch (t.type) {
      case TokenType::Eof: return "end of template";
      case TokenType::BlockEnd: return "end of statement block";
      case TokenType::VarEnd: return "end of print statement";
      case TokenType::String: return "string";
      default: return "'" + t.value + "'";
    }
  }

  bool is_op(const char* op) const { return cur().type == TokenType::Op && cur().value == op; }
  bool is_name(const char* n) const { return cur().type == TokenType::Name && cur().value == n; }
  void expect_op(const char* op) {
    if (!is_op(op)) fail_tok(cur(), std::string("expected '") + op + "', got " + describe(cur()));
    next();
  }
  std::string expect_name() {
    if (cur().type != TokenType::Name) fail_tok(cur(), "expected a name, got " + describe(cur()));
    return next().value;
  }
  void expect_block_end() {
    if (cur().type != TokenType::BlockEnd) fail_tok(cur(), "expected end of statement block, got " + describe(cur()));
    next();
  }

  ExprPtr make(Expr::Kind k, const Token& at) {
    auto e = std::make_unique<Expr>();
    e->kind = k;
    e->line = at.line;
    e->col = at.col;
    return e;
  }
  StmtPtr make_stmt(Stmt::Kind k, const Token& at) {
    auto s = std::make_unique<Stmt>();
    s->kind = k;
    s->line = at.line;
    s->col = at.col;
    return s;
  }

  // Parses statements until a block tag whose keyword is in `ends` (left unconsumed: the
  // current token is then that keyword, after the BlockBegin).
  Body parse_body(const std::vector<std::string>& ends) {
    DepthGuard guard(*this);
    Body body;
    while (true) {
      const Token& t = cur();
      if (t.type == TokenType::Eof) {
        if (!ends.empty()) fail_tok(t, "unexpected end of template, expected '" + ends[0] + "'");
        return body;
      }
      if (t.type == TokenType::Text) {
        auto s = make_stmt(Stmt::Kind::Text, t);
        s->text = t.value;
        body.push_back(std::move(s));
        next();
      } else if (t.type == TokenType::VarBegin) {
        next();
        auto s = make_stmt(Stmt::Kind::Output, t);
        s->expr = parse_tuple_expr();
        if (cur().type != TokenType::VarEnd) fail_tok(cur(), "expected end of print statement, got " + describe(cur()));
        next();
        body.push_back(std::move(s));
      } else if (t.type == TokenType::BlockBegin) {
        const Token& kw = peek();
        if (kw.type == TokenType::Name) {
          for (const auto& e : ends)
            if (kw.value == e) {
              next();
              return body;
            }
        }
        next();
        body.push_back(parse_statement());
      } else {
        fail_tok(t, "unexpected " + describe(t));
      }
    }
  }

  StmtPtr parse_statement() {
    const Token& kw = cur();
    if (kw.type != TokenType::Name) fail_tok(kw, "expected a statement keyword, got " + describe(kw));
    const std::string k = kw.value;
    if (k == "if") return parse_if();
    if (k == "for") return parse_for();
    if (k == "set") return parse_set();
    if (k == "macro") return parse_macro();
    if (k == "call") return parse_call_block();
    if (k == "filter") return parse_filter_block();
    if (k == "break" || k == "continue") {
      auto s = make_stmt(k == "break" ? Stmt::Kind::Break : Stmt::Kind::Continue, kw);
      next();
      expect_block_end();
      return s;
    }
    if (k == "generation" || k == "with") {
      // transformers' {% generation %} only marks assistant spans; render its body in place.
      auto s = make_stmt(Stmt::Kind::Scope, kw);
      next();
      if (k == "with") fail_tok(kw, "'with' is not supported");
      expect_block_end();
      s->body = parse_body({"endgeneration"});
      next();
      expect_block_end();
      return s;
    }
    static const std::set<std::string> kEnds = {"endif", "endfor", "endmacro", "endset", "endcall",
                                                "endfilter", "else", "elif", "endgeneration"};
    if (kEnds.count(k)) fail_tok(kw, "unexpected '" + k + "'");
    fail_tok(kw, "unknown tag '" + k + "'");
  }

  StmtPtr parse_if() {
    auto s = make_stmt(Stmt::Kind::If, cur());
    next();
    while (true) {
      ExprPtr cond = parse_expression();
      expect_block_end();
      Body b = parse_body({"endif", "elif", "else"});
      s->branches.emplace_back(std::move(cond), std::move(b));
      std::string kw = next().value;
      if (kw == "elif") continue;
      if (kw == "else") {
        expect_block_end();
        s->else_body = parse_body({"endif"});
        next();
      }
      expect_block_end();
      return s;
    }
  }

  std::vector<std::string> parse_targets() {
    std::vector<std::string> names;
    bool paren = is_op("(");
    if (paren) next();
    names.push_back(expect_name());
    while (is_op(",")) {
      next();
      if (cur().type != TokenType::Name) break;
      names.push_back(expect_name());
    }
    if (paren) expect_op(")");
    return names;
  }

  StmtPtr parse_for() {
    auto s = make_stmt(Stmt::Kind::For, cur());
    next();
    s->targets = parse_targets();
    if (!is_name("in")) fail_tok(cur(), "expected 'in', got " + describe(cur()));
    next();
    s->expr = parse_tuple_expr(/*with_condexpr=*/false);
    if (is_name("if")) {
      next();
      s->cond = parse_expression();
    }
    if (is_name("recursive")) fail_tok(cur(), "recursive loops are not supported");
    expect_block_end();
    s->body = parse_body({"endfor", "else"});
    if (next().value == "else") {
      expect_block_end();
      s->else_body = parse_body({"endfor"});
      next();
    }
    expect_block_end();
    return s;
  }

  StmtPtr parse_set() {
    const Token& at = cur();
    next();
    std::vector<std::string> names;
    std::string attr;
    names.push_back(expect_name());
    if (is_op(".")) {
      next();
      attr = expect_name();
    } else {
      while (is_op(",")) {
        next();
        names.push_back(expect_name());
      }
    }
    if (is_op("=")) {
      next();
      auto s = make_stmt(Stmt::Kind::Set, at);
      s->targets = std::move(names);
      s->attr = std::move(attr);
      s->expr = parse_tuple_expr();
      expect_block_end();
      return s;
    }
    auto s = make_stmt(Stmt::Kind::SetBlock, at);
    s->targets = std::move(names);
    s->attr = std::move(attr);
    parse_filter_chain(s->filters);
    expect_block_end();
    s->body = parse_body({"endset"});
    next();
    expect_block_end();
    return s;
  }

  void parse_filter_chain(std::vector<ExprPtr>& out) {
    while (is_op("|")) {
      next();
      out.push_back(parse_filter(nullptr));
    }
  }

  void parse_params(Stmt& s) {
    expect_op("(");
    while (!is_op(")")) {
      if (!s.params.empty()) expect_op(",");
      std::string p = expect_name();
      ExprPtr def;
      if (is_op("=")) {
        next();
        def = parse_expression();
      }
      s.params.emplace_back(p, std::move(def));
    }
    next();
  }

  StmtPtr parse_macro() {
    auto s = make_stmt(Stmt::Kind::Macro, cur());
    next();
    s->text = expect_name();
    parse_params(*s);
    expect_block_end();
    s->body = parse_body({"endmacro"});
    next();
    expect_block_end();
    return s;
  }

  StmtPtr parse_call_block() {
    auto s = make_stmt(Stmt::Kind::CallBlock, cur());
    next();
    if (is_op("(")) parse_params(*s);
    s->expr = parse_expression();
    if (s->expr->kind != Expr::Kind::Call) fail_tok(cur(), "expected a call");
    expect_block_end();
    s->body = parse_body({"endcall"});
    next();
    expect_block_end();
    return s;
  }

  StmtPtr parse_filter_block() {
    auto s = make_stmt(Stmt::Kind::FilterBlock, cur());
    next();
    s->filters.push_back(parse_filter(nullptr));
    parse_filter_chain(s->filters);
    expect_block_end();
    s->body = parse_body({"endfilter"});
    next();
    expect_block_end();
    return s;
  }

  // ---- expressions ----

  ExprPtr parse_tuple_expr(bool with_condexpr = true) {
    const Token& at = cur();
    ExprPtr first = with_condexpr ? parse_expression() : parse_or();
    if (!is_op(",")) return first;
    auto t = make(Expr::Kind::Tuple, at);
    t->args.push_back(std::move(first));
    while (is_op(",")) {
      next();
      if (cur().type == TokenType::VarEnd || cur().type == TokenType::BlockEnd || is_op(")")) break;
      t->args.push_back(with_condexpr ? parse_expression() : parse_or());
    }
    return t;
  }

  ExprPtr parse_expression() {
    DepthGuard guard(*this);
    const Token& at = cur();
    ExprPtr e = parse_or();
    while (is_name("if")) {
      next();
      auto c = make(Expr::Kind::Cond, at);
      c->args.push_back(parse_or());
      c->args.push_back(std::move(e));
      if (is_name("else")) {
        next();
        c->args.push_back(parse_expression());
      } else {
        c->args.push_back(nullptr);
      }
      e = std::move(c);
    }
    return e;
  }

  ExprPtr binary(Expr::Kind k, const Token& at, ExprPtr a, ExprPtr b, std::string op = {}) {
    auto e = make(k, at);
    e->name = std::move(op);
    e->args.push_back(std::move(a));
    e->args.push_back(std::move(b));
    return e;
  }

  ExprPtr parse_or() {
    ExprPtr e = parse_and();
    while (is_name("or")) {
      const Token& at = next();
      e = binary(Expr::Kind::Or, at, std::move(e), parse_and());
    }
    return e;
  }

  ExprPtr parse_and() {
    ExprPtr e = parse_not();
    while (is_name("and")) {
      const Token& at = next();
      e = binary(Expr::Kind::And, at, std::move(e), parse_not());
    }
    return e;
  }

  ExprPtr parse_not() {
    if (is_name("not")) {
      DepthGuard guard(*this);
      auto e = make(Expr::Kind::Not, next());
      e->args.push_back(parse_not());
      return e;
    }
    return parse_compare();
  }

  ExprPtr parse_compare() {
    ExprPtr e = parse_math1();
    ExprPtr chain;
    while (true) {
      std::string op;
      const Token& at = cur();
      if (cur().type == TokenType::Op &&
          (cur().value == "==" || cur().value == "!=" || cur().value == "<" || cur().value == "<=" ||
           cur().value == ">" || cur().value == ">=")) {
        op = next().value;
      } else if (is_name("in")) {
        next();
        op = "in";
      } else if (is_name("not") && peek().type == TokenType::Name && peek().value == "in") {
        next();
        next();
        op = "notin";
      } else {
        break;
      }
      ExprPtr rhs = parse_math1();
      if (!chain) {
        chain = make(Expr::Kind::Compare, at);
        chain->args.push_back(std::move(e));
      }
      chain->ops.push_back(op);
      chain->args.push_back(std::move(rhs));
    }
    if (!chain) return e;
    if (chain->ops.size() == 1) {  // the common case: one plain binary comparison
      auto b = make(Expr::Kind::Binary, cur());
      b->line = chain->line;
      b->col = chain->col;
      b->name = chain->ops[0];
      b->args = std::move(chain->args);
      return b;
    }
    return chain;
  }

  ExprPtr parse_math1() {
    ExprPtr e = parse_concat();
    while (is_op("+") || is_op("-")) {
      const Token& at = cur();
      std::string op = next().value;
      e = binary(Expr::Kind::Binary, at, std::move(e), parse_concat(), op);
    }
    return e;
  }

  ExprPtr parse_concat() {
    ExprPtr e = parse_math2();
    while (is_op("~")) {
      const Token& at = next();
      e = binary(Expr::Kind::Binary, at, std::move(e), parse_math2(), "~");
    }
    return e;
  }

  ExprPtr parse_math2() {
    ExprPtr e = parse_pow();
    while (is_op("*") || is_op("/") || is_op("//") || is_op("%")) {
      const Token& at = cur();
      std::string op = next().value;
      e = binary(Expr::Kind::Binary, at, std::move(e), parse_pow(), op);
    }
    return e;
  }

  ExprPtr parse_pow() {
    ExprPtr e = parse_unary(true);
    while (is_op("**")) {
      const Token& at = next();
      e = binary(Expr::Kind::Binary, at, std::move(e), parse_unary(true), "**");
    }
    return e;
  }

  ExprPtr parse_unary(bool with_filter) {
    DepthGuard guard(*this);
    ExprPtr e;
    if (is_op("-") || is_op("+")) {
      const Token& at = cur();
      auto u = make(next().value == "-" ? Expr::Kind::Neg : Expr::Kind::Pos, at);
      u->args.push_back(parse_unary(false));
      e = std::move(u);
    } else {
      e = parse_primary();
    }
    e = parse_postfix(std::move(e));
    if (with_filter) e = parse_filter_expr(std::move(e));
    return e;
  }

  ExprPtr parse_primary() {
    const Token& t = cur();
    switch (t.type) {
      case TokenType::Name: {
        next();
        if (t.value == "true" || t.value == "True") return constant(Value(true), t);
        if (t.value == "false" || t.value == "False") return constant(Value(false), t);
        if (t.value == "none" || t.value == "None") return constant(Value::none(), t);
        auto e = make(Expr::Kind::Name, t);
        e->name = t.value;
        return e;
      }
      case TokenType::String: {
        std::string s = next().value;
        while (cur().type == TokenType::String) s += next().value;  // adjacent literals join
        return constant(Value(s), t);
      }
      case TokenType::Int: {
        next();
        try {
          return constant(Value(static_cast<int64_t>(std::stoll(t.value))), t);
        } catch (const std::exception&) {
          fail_tok(t, "integer literal out of range");
        }
      }
      case TokenType::Float: next(); return constant(Value(std::stod(t.value)), t);
      case TokenType::Op:
        if (t.value == "(") {
          next();
          if (is_op(")")) {
            next();
            return make(Expr::Kind::Tuple, t);
          }
          ExprPtr e = parse_tuple_expr();
          expect_op(")");
          return e;
        }
        if (t.value == "[") {
          next();
          auto e = make(Expr::Kind::List, t);
          while (!is_op("]")) {
            if (!e->args.empty()) {
              expect_op(",");
              if (is_op("]")) break;
            }
            e->args.push_back(parse_expression());
          }
          next();
          return e;
        }
        if (t.value == "{") {
          next();
          auto e = make(Expr::Kind::DictLit, t);
          while (!is_op("}")) {
            if (!e->args.empty()) {
              expect_op(",");
              if (is_op("}")) break;
            }
            e->args.push_back(parse_expression());
            expect_op(":");
            e->args.push_back(parse_expression());
          }
          next();
          return e;
        }
        break;
      default: break;
    }
    fail_tok(t, "unexpected " + describe(t));
  }

  ExprPtr constant(Value v, const Token& at) {
    auto e = make(Expr::Kind::Const, at);
    e->value = std::move(v);
    return e;
  }

  ExprPtr parse_postfix(ExprPtr e) {
    while (true) {
      if (is_op(".")) {
        const Token& at = next();
        auto a = make(Expr::Kind::Attr, at);
        a->line = e->line;
        a->col = e->col;
        if (cur().type == TokenType::Int) {
          a->kind = Expr::Kind::Item;
          a->args.push_back(std::move(e));
          a->args.push_back(constant(Value(static_cast<int64_t>(std::stoll(next().value))), at));
        } else {
          a->name = expect_name();
          a->args.push_back(std::move(e));
        }
        e = std::move(a);
      } else if (is_op("[")) {
        e = parse_subscript(std::move(e));
      } else if (is_op("(")) {
        e = parse_call(std::move(e));
      } else {
        return e;
      }
    }
  }

  ExprPtr parse_subscript(ExprPtr obj) {
    const Token& at = next();  // '['
    ExprPtr parts[3];
    int n = 0;
    bool is_slice = false;
    while (true) {
      if (is_op("]")) break;
      if (is_op(":")) {
        next();
        is_slice = true;
        if (++n > 2) fail_tok(cur(), "invalid slice");
        continue;
      }
      if (parts[n]) fail_tok(cur(), "expected ']', got " + describe(cur()));
      parts[n] = parse_expression();
    }
    next();
    if (!is_slice) {
      if (!parts[0]) fail_tok(at, "empty subscript");
      auto e = make(Expr::Kind::Item, at);
      e->line = obj->line;
      e->col = obj->col;
      e->args.push_back(std::move(obj));
      e->args.push_back(std::move(parts[0]));
      return e;
    }
    auto e = make(Expr::Kind::Slice, at);
    e->line = obj->line;
    e->col = obj->col;
    e->args.push_back(std::move(obj));
    for (auto& p : parts) e->args.push_back(std::move(p));
    return e;
  }

  void parse_call_args(Expr& e) {
    expect_op("(");
    int count = 0;
    while (!is_op(")")) {
      if (count > 0) {
        expect_op(",");
        if (is_op(")")) break;
      }
      ++count;
      if (cur().type == TokenType::Name && peek().type == TokenType::Op && peek().value == "=") {
        std::string k = next().value;
        next();
        e.kwargs.emplace_back(k, parse_expression());
      } else {
        if (!e.kwargs.empty()) fail_tok(cur(), "positional argument follows keyword argument");
        e.args.push_back(parse_expression());
      }
    }
    next();
  }

  void call_args(Expr& e) {
    parse_call_args(e);
  }

  ExprPtr parse_call(ExprPtr fn) {
    auto e = make(Expr::Kind::Call, cur());
    e->line = fn->line;  // errors point at the start of the called expression
    e->col = fn->col;
    e->args.push_back(std::move(fn));
    call_args(*e);
    return e;
  }

  ExprPtr parse_filter(ExprPtr obj) {
    const Token& at = cur();
    auto f = make(Expr::Kind::Filter, at);
    f->name = expect_name();
    while (is_op(".")) {
      next();
      f->name += "." + expect_name();
    }
    f->args.push_back(std::move(obj));
    if (is_op("(")) call_args(*f);
    return f;
  }

  ExprPtr parse_filter_expr(ExprPtr e) {
    while (true) {
      if (is_op("|")) {
        next();
        e = parse_filter(std::move(e));
      } else if (is_name("is")) {
        const Token& at = next();
        auto t = make(Expr::Kind::Test, at);
        if (is_name("not")) {
          next();
          t->negated = true;
        }
        t->name = expect_name();
        t->args.push_back(std::move(e));
        if (is_op("(")) {
          call_args(*t);
        } else if ((cur().type == TokenType::Name || cur().type == TokenType::String ||
                    cur().type == TokenType::Int || cur().type == TokenType::Float || is_op("[") ||
                    is_op("{")) &&
                   !is_name("else") && !is_name("or") && !is_name("and") && !is_name("is") &&
                   !is_name("if")) {
          // jinja2 allows one bare argument: `x is divisibleby 3`, `x is sameas none`.
          t->args.push_back(parse_postfix(parse_primary()));
        }
        e = std::move(t);
      } else if (is_op("(")) {
        e = parse_call(std::move(e));
      } else {
        return e;
      }
    }
  }

  std::vector<Token> toks_;
  const std::string& name_;
  size_t pos_ = 0;
  int depth_ = 0;
};

}  // namespace

std::unique_ptr<Template> parse_template(const std::string& source, const std::string& name) {
  auto t = std::make_unique<Template>();
  t->name = name;
  Parser p(tokenize(source, name), name);
  t->body = p.parse_all();
  return t;
}

}  // namespace tsft::jinja
