// Dataset files -> validated, normalised rows: JSONL, a JSON array or one object; each row in
// prompt/completion, text, chat ({"messages", "tools"}) or ShareGPT ({"conversations"}, with
// LLaMA-Factory's function_call / observation turns) layout. Every problem names FILE:LINE: field.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace tsft {

struct DatasetRow {
  enum class Kind { kPromptCompletion, kText, kChat };
  Kind kind = Kind::kChat;
  std::string where;  // "FILE:LINE", the prefix of every message about this row
  int64_t line = 0;
  std::string prompt, completion;  // kPromptCompletion
  std::string text;                // kText
  // kChat: OpenAI messages: roles system/user/assistant/tool, content a string, tool_calls as
  // {"id"?, "type": "function", "function": {"name", "arguments": object}}, tool_call_id kept.
  nlohmann::ordered_json messages;
  // kChat: the tools offered, [{"type": "function", "function": {...}}, ...] exactly as the row
  // (or the dataset) gave them — never merged with other rows' schemas; null when none.
  nlohmann::ordered_json tools;
  bool own_tools = false;  // the row carried its own tools (else the dataset's, if any)
};

struct DatasetReadOptions {
  bool skip_invalid = false;  // count and skip bad rows instead of throwing
  // Tools for every chat row that has none of its own (a dataset whose rows share one tool
  // set); null = none. Give it normalised by read_tools_file or normalize_tool_list.
  nlohmann::ordered_json tools;
};

struct DatasetReadStats {
  int64_t rows = 0;  // non-blank rows read
  int64_t valid = 0;
  int64_t skipped_invalid = 0;
  std::vector<std::string> first_errors;  // the first 5 skipped rows' messages
  int64_t prompt_completion = 0, text = 0, chat = 0;
  int64_t own_tools = 0, dataset_tools = 0;  // chat rows offered their own / the dataset's tools
};

// Throws tsft::Error for an unreadable or empty file and (unless skip_invalid) for a bad row.
std::vector<DatasetRow> read_dataset(const std::string& path, const DatasetReadOptions& opt,
                                     DatasetReadStats* stats);

// A tool list: OpenAI tools or bare {"name", "description", "parameters"} functions (wrapped),
// or a JSON string holding such a list. `where` names the source in errors. Null/empty -> null.
// The row in toolsft's canonical layout ({"prompt", "completion"}, {"text"} or OpenAI
// {"messages", "tools"?}), which read_dataset reads back to the same row: how recipes write the
// user's rows, whatever layout they came in (ShareGPT, glaive), beside generated ones.
nlohmann::ordered_json row_to_json(const DatasetRow& row);

// OpenAI chat messages checked and normalised as chat rows' are (the server reads requests with
// it); a problem throws tsft::Error "WHERE: messages[i].field: message".
nlohmann::ordered_json normalize_chat_messages(const nlohmann::ordered_json& messages,
                                               const std::string& where);

nlohmann::ordered_json normalize_tool_list(const nlohmann::ordered_json& tools,
                                           const std::string& where);

// A tools file: a JSON list of tools, or an object with a "tools" list.
nlohmann::ordered_json read_tools_file(const std::string& path);

// "FILE:LINE: field: message" as a tsft::Error.
[[noreturn]] void row_error(const DatasetRow& row, const std::string& field,
                            const std::string& message);

}  // namespace tsft
