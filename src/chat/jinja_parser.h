// The Jinja AST (expressions and statements) and the parser that builds it from tokens with
// jinja2's operator precedence; every node keeps the line and column it came from.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "chat/jinja_lexer.h"
#include "chat/jinja_value.h"

namespace tsft::jinja {

struct Expr;
using ExprPtr = std::unique_ptr<Expr>;

struct Expr {
  enum class Kind {
    Const,    // value
    Name,     // name
    List,     // args
    Tuple,    // args
    DictLit,  // args: key, value, key, value, ...
    Attr,     // args[0].name
    Item,     // args[0][args[1]]
    Slice,    // args[0][args[1]:args[2]:args[3]] (null = omitted)
    Call,     // args[0](args[1:], kwargs)
    Filter,   // args[0] | name(args[1:], kwargs)
    Test,     // args[0] is [not] name(args[1:], kwargs); negated
    Neg,      // -args[0]
    Pos,      // +args[0]
    Not,      // not args[0]
    Binary,   // args[0] op args[1]: + - * / // % ** ~ == != < <= > >= in notin
    And,
    Or,
    Cond,     // args[1] if args[0] else args[2] (args[2] may be null)
    Compare,  // a chain args[0] ops[0] args[1] ops[1] args[2] ...: each operand evaluated once
  };
  Kind kind;
  int line = 0, col = 0;
  Value value;
  std::string name;  // name, attribute, filter/test name or operator
  bool negated = false;
  std::vector<ExprPtr> args;
  std::vector<std::pair<std::string, ExprPtr>> kwargs;
  std::vector<std::string> ops;  // Compare
};

struct Stmt;
using StmtPtr = std::unique_ptr<Stmt>;
using Body = std::vector<StmtPtr>;

struct Stmt {
  enum class Kind { Text, Output, If, For, Set, SetBlock, Macro, CallBlock, Break, Continue, FilterBlock, Scope };
  Kind kind;
  int line = 0, col = 0;
  std::string text;                  // Text; Macro name
  ExprPtr expr;                      // Output; For iterable; Set value; CallBlock call
  ExprPtr cond;                      // For "if" filter
  std::vector<std::string> targets;  // For/Set names (several = tuple unpacking)
  std::string attr;                  // Set ns.attr: targets[0] is the namespace
  std::vector<std::pair<ExprPtr, Body>> branches;  // If/elif
  Body body, else_body;
  std::vector<std::pair<std::string, ExprPtr>> params;  // Macro/CallBlock parameters, defaults
  std::vector<ExprPtr> filters;      // SetBlock/FilterBlock: Filter nodes whose args[0] is null
};

struct Template {
  std::string name;
  Body body;
};

// Throws tsft::Error "name:line:col: message" on a syntax error.
std::unique_ptr<Template> parse_template(const std::string& source, const std::string& name);

}  // namespace tsft::jinja
