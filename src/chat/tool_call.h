// Tool-call parsing: turns a model's generated text (Hermes/Qwen, Llama 3 JSON, Mistral, or the
// plain "name:/parameters:" form) into OpenAI-shaped tool calls, reporting malformed output.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace tsft {

struct ToolCall {
  std::string id;  // "call_<n>", 1-based in order of appearance; callers may overwrite
  std::string name;
  std::string arguments_json;  // compact JSON object text, as OpenAI's function.arguments
};

enum class ToolCallFormat { kHermes, kLlama3Json, kMistral, kNameParameters, kAuto };

// What the model said. Model output is untrusted, so a malformed reply is a value
// (valid = false, error = the reason), never an exception.
struct ParsedReply {
  std::string content;          // text outside tool calls, trimmed
  std::vector<ToolCall> calls;  // the calls that parsed; with !valid, the good ones only
  bool valid = true;
  std::string
      error;  // the first problem when !valid, e.g. "tool call 2: invalid JSON at byte 17: ..."
  bool truncated = false;  // a call was opened and never closed (output cut by max_tokens)
};

// Never throws for any input text.
ParsedReply parse_tool_calls(std::string_view text, ToolCallFormat format);

// "hermes", "qwen", "smollm", "llama3", "mistral", "name_parameters", "auto".
// Throws tsft::Error naming the accepted values for anything else (a user's config mistake).
ToolCallFormat tool_call_format_from_name(std::string_view name);
const char* tool_call_format_name(ToolCallFormat format);

// {"content": ..., "tool_calls": [{"id", "type": "function", "function": {"name", "arguments"}}]}
// as in an OpenAI assistant message: content is null when empty and there are calls, and
// tool_calls is left out when there are none.
std::string to_openai_json(const ParsedReply& reply);

}  // namespace tsft
