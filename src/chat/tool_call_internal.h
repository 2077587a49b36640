// Shared pieces of the tool-call parsers (tool_call.cpp, tool_call_formats.cpp): a bracket
// scanner that finds where a JSON value ends, and the builder that turns JSON into ToolCalls.
#pragma once

#include <cstddef>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "chat/tool_call.h"

namespace tsft::tool_call_detail {

using Json = nlohmann::ordered_json;

// Nesting deeper than this is refused before nlohmann sees it: dump() recurses, and model
// output must not be able to overflow the stack.
inline constexpr int kMaxJsonDepth = 256;

enum class SpanStatus { kComplete, kIncomplete, kMismatch, kTooDeep };

struct JsonSpan {
  SpanStatus status;
  size_t end;  // kComplete/kMismatch: one past the closing (or offending) byte; else text.size()
};

// text[start] must be '{', '[' or '"'. Follows strings and escapes, so braces inside strings
// do not count. Does not validate anything else: nlohmann does that on the span.
JsonSpan scan_json_value(std::string_view text, size_t start);

std::string_view trim(std::string_view s);
size_t skip_space(std::string_view text, size_t pos);
bool is_space(char c);

// Result of nlohmann parsing; error is "invalid JSON at byte N: ..." when !ok, N counted from
// the start of the call's JSON (base = where text starts inside it).
struct JsonParse {
  bool ok = false;
  Json value;
  std::string error;
};
JsonParse parse_json(std::string_view text, size_t base = 0);

// An object that a model meant as a call: it names one of the call keys.
bool is_call_candidate(const Json& value);

// Collects content and calls while a format parser walks the text. The first error is kept;
// parsing goes on so that the good calls after a bad one are still returned.
class ReplyBuilder {
 public:
  void add_content(std::string_view text) { content_.append(text); }

  // One call from a JSON object ({"name", "arguments"|"parameters"} or OpenAI's
  // {"function": {...}}), or each element of an array of them.
  void add_calls_from_json(const Json& value);
  // A call whose name came from outside the JSON (Mistral "name[ARGS]{...}", "name: f").
  void add_call(std::string_view name, const Json& arguments);
  // Parses text and adds the call(s) it holds; a parse error is reported for the next call.
  void add_calls_from_text(std::string_view json_text);

  // Marks the next call as bad (reason gets the "tool call N: " prefix).
  void fail_call(const std::string& reason);
  // The next call was opened and the text ended first.
  void truncate_call(const std::string& reason);

  int next_call_number() const { return attempted_ + 1; }
  ParsedReply finish();

 private:
  void add_one(const Json& value);
  bool set_arguments(const Json& arguments, ToolCall& call);
  void record_error(const std::string& reason);

  ParsedReply reply_;
  std::string content_;
  int attempted_ = 0;
};

ParsedReply parse_hermes(std::string_view text);
ParsedReply parse_llama3_json(std::string_view text);
ParsedReply parse_mistral(std::string_view text);
ParsedReply parse_name_parameters(std::string_view text);

}  // namespace tsft::tool_call_detail
