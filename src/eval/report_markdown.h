// report.json (docs/EVAL_REPORT.md) as Markdown: a title line, the model comparison table, and the
// last model's per-class table and confusion matrix or error sample; aligned for terminals.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace tsft {

// The whole report.md. Missing or null values show as "—". tsft::Error naming the field when the
// report does not follow the contract (wrong format tag, unknown task, a number that is a string).
std::string render_markdown(const nlohmann::ordered_json& report);

}  // namespace tsft
