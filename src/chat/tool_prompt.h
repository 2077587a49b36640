// Tools for templates that ignore them (SmolLM2): the tool list goes into the system turn, the
// assistant's tool calls into its text as <tool_call> JSON, tool results into <tool_response>
// user turns — the Hermes/Qwen wire format, so one parser reads every model's calls.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "chat/chat_template.h"

namespace tsft {

struct ToolPromptStyle {
  // Text before and after the tool list (one JSON object per line) in the system turn.
  std::string before_tools =
      "# Tools\n\nYou may call one or more functions to assist with the user query.\n\n"
      "You are provided with function signatures within <tools></tools> XML tags:\n<tools>\n";
  std::string after_tools =
      "\n</tools>\n\nFor each function call, return a json object with function name and "
      "arguments within <tool_call></tool_call> XML tags:\n<tool_call>\n"
      "{\"name\": <function-name>, \"arguments\": <args-json-object>}\n</tool_call>";
  // The system text used when the conversation has none (empty: the tool prompt alone).
  std::string default_system;
};

// Whether the template itself renders `tools`: a probe conversation is rendered with a tool of a
// unique name and the name is looked for in the output (no guessing from the template's text).
bool template_renders_tools(const ChatTemplate& tpl, const nlohmann::ordered_json& extra);

// `messages` rewritten for a template that ignores tools (see the header comment). Tool-call
// arguments given as JSON strings are parsed, so the model learns one object syntax.
nlohmann::ordered_json inject_tool_prompt(const nlohmann::ordered_json& messages,
                                          const nlohmann::ordered_json& tools,
                                          const ToolPromptStyle& style);

// JSON text as Python's json.dumps(x, ensure_ascii=False) writes it (", " and ": ").
std::string python_json(const nlohmann::ordered_json& x);

}  // namespace tsft
