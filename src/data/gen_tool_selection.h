// Synthetic tool-selection data: requests for each tool (templates, slot values, framing, noise,
// a share of misleading "hard negatives") labelled with the tool's name, as JSONL rows.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "data/gen_tools.h"

namespace tsft {

struct ToolSelectionOptions {
  int64_t n = 1000;
  uint64_t seed = 0;
  // kPromptCompletion: {"prompt": tool_selection_prompt(...), "completion": answer};
  // kChat: {"messages": [system tool_selection_system(...), user request, assistant answer]}.
  enum class Format { kPromptCompletion, kChat } format = Format::kPromptCompletion;
  // The answer is sentinel + name when a sentinel is given ("<tool>get_weather"), else " " +
  // name in prompt/completion rows (the prompt ends "Tool:") and the bare name in chat rows.
  std::string sentinel;
  double hard_share = 0.1;  // rows whose words point at another tool
  NoiseOptions noise;
  int retries = 20;  // fresh draws for a request already written, before it is kept as a duplicate
};

struct GenStats {
  std::map<std::string, int64_t> per_class;  // tool name (selection) or row kind (calling)
  std::map<std::string, int64_t> per_tool;   // calling: tool calls per tool
  int64_t hard = 0;                          // selection: hard-negative rows
  int64_t duplicates = 0;                    // rows whose request text was already written
};

// The instruction both training and evaluation use, so a model sees one prompt layout:
// "Choose the one tool that handles the request.\nTools: a, b, c\nRequest: ...\nTool:".
std::string tool_selection_prompt(const std::vector<std::string>& tool_names,
                                  const std::string& request);
std::string tool_selection_system(const std::vector<std::string>& tool_names);
std::string tool_selection_answer(const std::string& name, const std::string& sentinel, bool chat);

// Receives each row as it is made, so a large file never has to be held in memory.
using RowSink = std::function<void(nlohmann::ordered_json row)>;

// n rows, classes balanced (each tool n/k times, the first n%k tools once more), in a shuffled
// order. The same tools, options and seed give the same rows. `stats` may be null.
std::vector<nlohmann::ordered_json> generate_tool_selection(const std::vector<GenTool>& tools,
                                                            const ToolSelectionOptions& opt,
                                                            GenStats* stats);
void generate_tool_selection(const std::vector<GenTool>& tools, const ToolSelectionOptions& opt,
                             GenStats* stats, const RowSink& sink);

}  // namespace tsft
