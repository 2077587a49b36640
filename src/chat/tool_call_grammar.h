// Schema-constrained tool calls, at the level of bytes: a grammar compiled from the offered tools
// (their JSON Schemas), the tool_choice and the wire syntax, and a matcher that says which next
// bytes keep a reply able to end as plain text or as well-formed calls that validate.
#pragma once

#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tsft {

enum class ToolChoiceMode { kAuto, kNone, kRequired, kNamed };

struct ToolChoiceSpec {
  ToolChoiceMode mode = ToolChoiceMode::kAuto;
  std::string name;  // kNamed: the function every call must name
};

// How a call is written. Hermes/Qwen (the default, and what toolsft's tool prompt teaches
// SmolLM2): <tool_call>\n{"name": ..., "arguments": {...}}\n</tool_call>, one or more. Llama 3's
// JSON form has no markers: the reply is one {"name": ..., "parameters": {...}} object.
struct ToolCallSyntax {
  std::string open = "<tool_call>";
  std::string close = "</tool_call>";
  std::string arguments_key = "arguments";
  static ToolCallSyntax hermes() { return {}; }
  static ToolCallSyntax llama3_json() { return {"", "", "parameters"}; }
};

namespace grammar_detail {
struct Node;
struct Config;
}  // namespace grammar_detail

// Compiled once per request (tools + choice + syntax); immutable, shareable between threads.
//
// What a matcher accepts, by mode:
// - auto: plain text, which may go on into calls (text, then <tool_call>...); after the first
//   call only whitespace, more calls, or the end.
// - none: plain text that never contains the call marker.
// - required / named: whitespace, then one or more calls (named: all to that function).
// Llama 3 syntax: in auto, a reply whose first non-space byte is '{' is a call, any other is text.
//
// Inside a call the JSON must be the call object (name first, then the arguments) and the
// arguments must validate against the function's schema: types, enum/const, required keys, no
// unknown keys (validate_json's rule), string lengths, patterns (compiled to an automaton; a
// pattern it cannot compile is checked when the string closes), format date/date-time, number
// bounds, integer vs number, array lengths and uniqueItems, anyOf/oneOf/allOf (oneOf is
// enforced as anyOf; validate_json still checks the result). Whitespace runs are at most 4
// bytes and numbers have at most 15 integer and 12 fraction digits with no exponent, so a model
// cannot loop in either; every byte accepted leaves a completion that ends validly.
class ToolCallGrammar {
 public:
  // tools: OpenAI tool objects (or bare function objects). tsft::Error naming the tool and the
  // schema path for a schema it cannot use (check_schema's problems), an unknown named tool,
  // or required/named with no tools.
  ToolCallGrammar(const nlohmann::ordered_json& tools, ToolChoiceSpec choice,
                  ToolCallSyntax syntax = ToolCallSyntax::hermes());
  ~ToolCallGrammar();
  ToolCallGrammar(const ToolCallGrammar&) = delete;
  ToolCallGrammar& operator=(const ToolCallGrammar&) = delete;

  const ToolCallSyntax& syntax() const { return syntax_; }
  const ToolChoiceSpec& choice() const { return choice_; }

 private:
  friend class ToolCallMatcher;
  ToolCallSyntax syntax_;
  ToolChoiceSpec choice_;
  std::vector<std::unique_ptr<grammar_detail::Node>> nodes_;  // owns every node
  const grammar_detail::Node* call_ = nullptr;                // the call object (anyOf tools)
};

// The state of one reply being written. Copyable (a decoder tries a token on a copy).
class ToolCallMatcher {
 public:
  explicit ToolCallMatcher(std::shared_ptr<const ToolCallGrammar> grammar);
  ~ToolCallMatcher();
  ToolCallMatcher(const ToolCallMatcher&);
  ToolCallMatcher& operator=(const ToolCallMatcher&);
  ToolCallMatcher(ToolCallMatcher&&) noexcept;
  ToolCallMatcher& operator=(ToolCallMatcher&&) noexcept;

  // Appends bytes if the result can still end validly; otherwise returns false and leaves the
  // state as it was.
  bool feed(std::string_view bytes);
  // Whether feed(bytes) would succeed, without changing anything.
  bool allows(std::string_view bytes) const;
  // For each byte value, whether feeding that one byte would succeed.
  void allowed_bytes(bool out[256]) const;
  // Whether the reply may end here (EOS).
  bool can_end() const;
  // Bytes that take the reply from here to a place where it may end, or nullopt if none is found
  // within max_bytes; "" where the reply may already end. Found greedily: at each byte the first
  // (in the order quote, brace, bracket, separators, digits, letters, the rest) that reaches a
  // place in the grammar not reached before (so a pattern such as [0-9]+\.[0-9]+ moves on to its
  // '.'); where that walk runs out of new places, breadth first over places, up to
  // kMaxClosingSearch of them. Short in practice (open strings, objects and arrays closed,
  // missing required keys given minimal values), not guaranteed shortest; deterministic.
  std::optional<std::string> closing_bytes(size_t max_bytes = 256) const;
  static constexpr size_t kMaxClosingSearch = 2048;
  // Whether the reply is inside a call (past the marker; no plain text possible).
  bool in_call() const;
  int64_t calls_finished() const;

 private:
  std::shared_ptr<const ToolCallGrammar> grammar_;
  std::vector<grammar_detail::Config> configs_;  // the live alternatives (anyOf, number ends)
};

}  // namespace tsft
