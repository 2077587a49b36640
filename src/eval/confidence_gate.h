// Confidence-gated tool choice: a router that answers only when the chosen tool's probability
// reaches a threshold and abstains below it. Owns the coverage/precision curve of scored examples,
// the threshold that reaches a target precision, and what a threshold chosen elsewhere gives.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace tsft {

// One scored example: its confidence (the largest probability, in [0, 1]) and whether the tool
// with that probability was the expected one.
struct GateExample {
  double confidence = 0;
  bool correct = false;
};

// What a threshold gives: every example with confidence >= threshold is answered (ties at the
// threshold all included), the rest abstain.
struct GatePoint {
  double threshold = 0;
  int64_t answered = 0;
  int64_t correct = 0;              // answered with the expected tool
  double coverage = 0;              // answered / n (0 when n == 0)
  std::optional<double> precision;  // correct / answered; null when nothing is answered
};

struct GateTarget {
  double target_precision = 0;
  std::optional<GatePoint> point;  // null when no threshold reaches the target on this data
};

struct GateOptions {
  double target_precision = 0.99;  // in (0, 1]
  // Targets listed beside target_precision in the report's table of operating points.
  std::vector<double> table_targets = {0.90, 0.95, 0.99};
  // A threshold chosen on other (held-out) data, in [0, 1]: what it gives on this data.
  std::optional<double> fixed_threshold;
  std::string fixed_threshold_from;  // where it came from, for the report ("--gate-threshold")
};

struct GateReport {
  int64_t n = 0;
  double target_precision = 0;
  // Answering everything: precision = accuracy, risk = 1 - accuracy. Null when n == 0.
  std::optional<double> full_coverage_precision, full_coverage_risk;
  // One point per distinct confidence, thresholds descending (coverage ascending); the last point
  // answers everything. Empty when n == 0.
  std::vector<GatePoint> curve;
  std::optional<GatePoint> operating_point;  // for target_precision; null when unreachable
  std::vector<GateTarget> operating_points;  // table_targets and target_precision, ascending
  std::optional<GatePoint> fixed;            // at fixed_threshold, when one was given
  std::string fixed_threshold_from;
};

// The curve described in GateReport::curve. Confidences must lie in [0, 1] (no NaN).
std::vector<GatePoint> coverage_precision_curve(std::span<const GateExample> examples);

// The lowest threshold on the curve whose precision is >= target (so the highest coverage that
// reaches it; precision need not rise with the threshold, so every point is looked at). nullopt
// when no point reaches it. Precision is compared as correct / answered >= target in doubles, so
// 99 of 100 reaches 0.99 exactly as written.
std::optional<GatePoint> operating_point(const std::vector<GatePoint>& curve,
                                         double target_precision);

// What one threshold (any value in [0, 1], not only a confidence of the data) gives.
GatePoint gate_at(std::span<const GateExample> examples, double threshold);

GateReport confidence_gate(std::span<const GateExample> examples, const GateOptions& options);

// The report's "gate" object (docs/EVAL_REPORT.md).
nlohmann::ordered_json to_json(const GatePoint& point);
nlohmann::ordered_json to_json(const GateReport& report);

}  // namespace tsft
