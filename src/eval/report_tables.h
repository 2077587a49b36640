// The numbers of a report.json (docs/EVAL_REPORT.md) as tables of display strings, built once and
// drawn by both the Markdown and the HTML renderer so that the two always show the same values.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "eval/text_util.h"

namespace tsft {

enum class ReportTask { kToolSelection, kToolCalling, kPerplexity };

// How a column is drawn: numbers right-aligned; labels as plain text; free text from the data
// (prompts, model outputs) as code, cut short in Markdown and wrapped in full in HTML.
enum class CellKind { kLabel, kNumber, kFreeText };

struct ReportTable {
  std::vector<std::string> headers;
  std::vector<CellKind> kinds;                 // one per column
  std::vector<std::vector<std::string>> rows;  // raw display text (not escaped); "—" when missing
};

// The report's task after checking the top level: "format" is toolsft-eval/1, "task" is known,
// "models" is an array of objects. tsft::Error naming the field otherwise.
ReportTask report_task(const nlohmann::ordered_json& report);
const char* task_key(ReportTask task);    // "tool_selection", the model's section for the task
const char* task_title(ReportTask task);  // "Tool selection"

// report.models[i]["name"], or "model <i+1>" when it has none.
std::string model_name(const nlohmann::ordered_json& report, size_t i);

// obj[key] as a finite number; nullopt when missing, null or not finite. A value of another type
// is a tsft::Error naming `where`.key.
std::optional<double> number_field(const nlohmann::ordered_json& obj, const char* key,
                                   const std::string& where);

// report.created for people: "2026-11-21T18:30:00Z" -> "2026-11-21 18:30 UTC"; other text as is.
std::string format_created(const std::string& created);

// One row per model: name, step, the task's headline metrics, seconds (see the .cpp for columns).
ReportTable comparison_table(const nlohmann::ordered_json& report);

// For one model (report.models[i]) of a tool-selection report: label, support, predicted,
// precision, recall, F1. nullopt when the model has no tool_selection section.
std::optional<ReportTable> per_class_table(const nlohmann::ordered_json& report, size_t i);

// Rows = expected labels, columns = predicted labels then "(invalid)"; the first column holds the
// row's label. nullopt when the model has no tool_selection section.
std::optional<ReportTable> confusion_table(const nlohmann::ordered_json& report, size_t i);

// The model's error sample for the report's task (prompt, expected, got, confidence or reason);
// nullopt when the task has no error sample (perplexity) or the model has no section for it.
std::optional<ReportTable> errors_table(const nlohmann::ordered_json& report, size_t i);

// The confidence gate of one model's tool selection (its tool_selection.gate): a row per target
// precision (threshold, coverage, precision, answered, abstained; dashes where no threshold
// reaches it), then the threshold chosen elsewhere when one was applied, then answering
// everything. nullopt when the model has no gate (generation mode, other tasks).
std::optional<ReportTable> gate_table(const nlohmann::ordered_json& report, size_t i);

// The call gate of one model's tool calling (its tool_calling.gate, eval/call_gate.h): no gate,
// a row per target precision, then the threshold chosen elsewhere when one was applied; each
// with its threshold, calls kept, their precision, and AST one-call, hallucinated and missed
// rates once the calls below it are withheld. nullopt when the model has no call gate.
std::optional<ReportTable> call_gate_table(const nlohmann::ordered_json& report, size_t i);
// What the call gate table means, for the sentence above it.
inline constexpr const char* kCallGateLead =
    "Keep a tool call only when the model's probability of opening a call (at its first token) "
    "is at least the threshold; below it the call is withheld and the turn is answered in text. "
    "Precision: calls kept that the turn wanted. The rates are the tool-calling ones with the "
    "gate applied.";

// One or two sentences on the same gate: what the target precision's threshold gives, or that no
// threshold reaches it, and what the applied threshold gives. nullopt when there is no gate.
std::optional<std::string> gate_summary(const nlohmann::ordered_json& report, size_t i);

// A threshold with enough decimals to tell it from 1 (0.87341 -> "0.8734", 0.999953 ->
// "0.9999530"); report.json holds the exact value.
std::string format_threshold(double t);

// A precision target without trailing zeros: 0.9 -> "90%", 0.995 -> "99.5%".
std::string format_target(double p);

// How many bytes at the start and at the end every text shares, cut back to whitespace so that no
// word is split: prompts of one evaluation repeat the task's instruction and the chat template's
// markers, and the part between is what tells the errors apart. Both 0 for fewer than two texts.
struct SharedEnds {
  size_t prefix = 0, suffix = 0;
};
SharedEnds shared_ends(const std::vector<std::string>& texts);

}  // namespace tsft
