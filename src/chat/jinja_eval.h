// Evaluation of a parsed Jinja template: scopes, statements, expressions, macros and loops
// (jinja_eval.cpp), and the built-in filters, tests and methods (jinja_builtins.cpp).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "chat/jinja_parser.h"
#include "chat/jinja_value.h"

namespace tsft::jinja {

// Renders `tpl` with `vars` as the outermost scope. Runtime errors become tsft::Error
// "name:line:col: message". One call owns all its state, so concurrent renders are safe.
std::string render_template(const Template& tpl, const std::shared_ptr<Dict>& vars);

// Built-ins (jinja_builtins.cpp). They throw RuntimeError; the caller adds the position.
bool has_filter(const std::string& name);
Value apply_filter(const std::string& name, const Value& v, const CallArgs& args);
bool has_test(const std::string& name);
bool apply_test(const std::string& name, const Value& v, const CallArgs& args);
// obj.name: dict keys first unless `name` is a method (jinja2 tries getattr first), methods of
// str/list/dict, else undefined.
Value get_attr(const Value& obj, const std::string& name);
// obj[key]: list/string index (negative from the end), dict key; missing gives undefined.
Value get_item(const Value& obj, const Value& key);
// obj[start:stop:step] with Python semantics on lists and strings (code points).
Value get_slice(const Value& obj, const Value& start, const Value& stop, const Value& step);
// What a `for` loop walks: list items, dict keys, string characters; undefined is empty.
List iterate(const Value& v);
// Global functions every template sees: range, namespace, dict.
void add_builtin_globals(Dict& globals);

}  // namespace tsft::jinja
