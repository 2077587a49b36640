// One evaluation run, shared by `toolsft eval` and the training recipes: every model on one
// dataset and task, as the report.json document (docs/EVAL_REPORT.md), and writing its files.
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "chat/tool_call.h"
#include "cli/eval_models.h"

namespace tsft {

using GateThresholds = std::map<std::string, std::optional<double>>;

struct EvalRequest {
  std::string data;                       // dataset file
  std::string task = "tool-selection";    // tool-selection | tool-calling | perplexity
  std::string mode = "scoring";           // tool selection: scoring | generation | both
  std::vector<EvalModelSpec> models;      // in table order
  std::string run_dir;                    // "" or a run whose metrics.jsonl gives the curves
  std::vector<std::string> labels;        // tool selection: candidates ("" = the data's answers)
  std::string sentinel;                   // tool selection: answer prefix stripped from labels
  nlohmann::ordered_json tools;           // tools for rows without their own (null = none)
  bool skip_invalid = false;
  ToolCallFormat tool_format = ToolCallFormat::kAuto;
  std::string decoding = "free";          // tool calling: free | constrained | both
  int64_t max_examples = 0;               // 0 = all
  int64_t max_errors = 20;                // wrong answers kept in the report's errors sample
  int64_t max_new_tokens = 0;             // 0 = automatic
  int64_t max_seq_len = 2048;             // perplexity
  int64_t batch_tokens = 1024;            // scoring and perplexity
  bool progress = true;
  // Tool selection (scoring) and tool calling: the confidence gate's target precision, in
  // (0, 1], and optionally a threshold chosen on other data to apply here: one for every model
  // (gate_threshold), or one per model by name (gate_thresholds, from gate_thresholds_of). At
  // most one of the two. Tool calling gates the call itself (eval/call_gate.h).
  double gate_precision = 0.99;
  std::optional<double> gate_threshold;
  GateThresholds gate_thresholds;
  std::string gate_thresholds_from;  // where gate_thresholds came from, for the report
  // Tool calling: the call gate applied while decoding (model/call_start.h), in [0, 1].
  std::optional<double> call_gate;
};

// Each gated model's chosen threshold (its gate.operating_point) in a report.json document, by
// model name; nullopt for a model whose gate reached no threshold there. `source` names the
// report in errors; `task` is the evaluation's (tool-selection or tool-calling). tsft::Error when
// the document is not a report of that task or no model in it has a gate (tool selection in
// scoring mode; tool calling on turns with tools).
GateThresholds gate_thresholds_of(const nlohmann::ordered_json& report, const std::string& source,
                                  const std::string& task);
GateThresholds read_gate_thresholds(const std::string& report_path, const std::string& task);

// Loads each model in turn and evaluates it. tsft::Error for bad requests and data.
nlohmann::ordered_json run_evaluation(const EvalRequest& request);

// out/report.json, report.md and report.html (each written beside and renamed in); prints the
// Markdown when asked, and the report's path unless `announce` is false (the caller says it).
void write_report(const nlohmann::ordered_json& report, const std::string& out,
                  bool print_markdown, bool announce = true);

}  // namespace tsft
