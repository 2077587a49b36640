// Confidence-gated tool calling: a reply may call a tool only when the model's probability of
// opening a call (its first token, model/call_start.h) reaches a threshold; below it the call is
// withheld and the reply answers in text (asks, or says no tool fits). The gate's examples are
// the turns where the model called, each correct when the turn needed a call, so its precision
// is the share of calls kept that were wanted: a higher threshold trades missed calls for fewer
// hallucinated ones. The tool-calling rates are given again for the chosen thresholds.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <span>
#include <vector>

#include "eval/confidence_gate.h"
#include "eval/tool_call_metrics.h"

namespace tsft {

// The tool-calling rates once calls below `threshold` are withheld (a withheld call's turn
// counts as answered in text).
struct CallGateRates {
  double threshold = 0;
  std::optional<double> ast_accuracy_single;     // over one-call turns
  std::optional<double> hallucinated_call_rate;  // over no-call turns
  std::optional<double> missed_call_rate;        // over call turns
};

struct CallGateReport {
  GateReport gate;  // over the turns where the model called
  std::vector<CallGateRates> rates;  // at each threshold of gate.curve, in its order
  std::optional<CallGateRates> at_operating_point, at_fixed;
};

CallGateRates call_gate_rates(std::span<const ToolCallReport::GateTurn> turns, double threshold);

// Call probabilities must lie in [0, 1].
CallGateReport call_gate(std::span<const ToolCallReport::GateTurn> turns,
                         const GateOptions& options);

// GateReport's object (docs/EVAL_REPORT.md) plus "operating_point_rates",
// "fixed_threshold_rates" (null where the point is) and "rates" (beside "curve").
nlohmann::ordered_json to_json(const CallGateRates& rates);
nlohmann::ordered_json to_json(const CallGateReport& report);

}  // namespace tsft
