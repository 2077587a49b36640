// Tool-selection metrics: one label per example (the tool to use) -> accuracy, per-class and
// macro precision/recall/F1, a confusion matrix, calibration (ECE) and an error sample.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "eval/confidence_gate.h"

namespace tsft {

// "scoring": the model ranks the labels by log-probability (predictions are always valid and
// come with a probability vector). "generation": the model writes a tool name, which may name
// no label (predicted = -1) and has no probabilities, so calibration is null.
enum class SelectionMode { kScoring, kGeneration };
const char* selection_mode_name(SelectionMode mode);

struct ClassificationOptions {
  SelectionMode mode = SelectionMode::kScoring;
  // Equal-width bins: [0, 1/B], then (i/B, (i+1)/B] (a confidence on an edge goes to the lower
  // bin, as sklearn.calibration.calibration_curve; its edges are used bit for bit).
  int calibration_bins = 10;
  int max_errors = 20;  // the error sample keeps the first max_errors wrong examples
  GateOptions gate;     // the confidence gate, computed whenever calibration is
};

struct ClassMetrics {
  std::string label;
  int64_t support = 0;    // examples whose expected label is this one
  int64_t predicted = 0;  // examples predicted as this label
  // Null when undefined: precision when never predicted, recall when never expected, F1 when
  // neither (F1 = 2tp / (2tp + fp + fn), so a class with support but never predicted has F1 0).
  std::optional<double> precision, recall, f1;
};

struct CalibrationBin {
  double lo = 0, hi = 0;
  int64_t count = 0;
  std::optional<double> confidence, accuracy;  // means over the bin; null when count == 0
};

struct Calibration {
  std::optional<double> ece;  // null when there were no examples
  std::vector<CalibrationBin> bins;
};

struct ClassificationError {
  std::string prompt, expected, got;
  std::optional<double> confidence;
};

// Everything a report's "tool_selection" object holds. Rates are null (never NaN) when their
// denominator is 0, e.g. every rate of an empty evaluation.
struct ClassificationReport {
  SelectionMode mode = SelectionMode::kScoring;
  std::vector<std::string> labels;
  int64_t n = 0;
  int64_t invalid = 0;
  std::optional<double> accuracy, invalid_rate;
  // sklearn's average="macro" with zero_division=0: the mean over ALL labels, where a
  // per-class value that is undefined (null above) counts as 0. Null only when n == 0.
  std::optional<double> macro_precision, macro_recall, macro_f1;
  std::vector<ClassMetrics> per_class;
  // rows: expected label; columns: predicted label, then one last "(invalid)" column.
  std::vector<std::vector<int64_t>> confusion;
  // Present in scoring mode (with every bin empty and ece null when n == 0), and in generation
  // mode only when the examples came with probabilities.
  std::optional<Calibration> calibration;
  // Coverage/precision of answering only above a confidence threshold; present exactly when
  // calibration is, from the same (confidence, correct) pairs.
  std::optional<GateReport> gate;
  std::vector<ClassificationError> errors;
};

// Accumulates examples one at a time, so an eval driver can stream them.
class ClassificationMetrics {
 public:
  // Labels must be distinct and non-empty (tsft::Error otherwise: they come from the dataset).
  explicit ClassificationMetrics(std::vector<std::string> labels,
                                 ClassificationOptions options = {});

  // expected: index into labels. predicted: index into labels, or -1 when the output names no
  // label. probabilities: one value per label, required in scoring mode, optional in
  // generation mode (but then for all examples or none).
  // Calibration uses confidence = max probability and correct = (argmax == expected), the
  // first maximum winning ties, as numpy's argmax. raw_output, when given, is what the error
  // sample shows as "got" for invalid predictions (else "(invalid)").
  void add(int expected, int predicted, std::span<const double> probabilities = {},
           std::string_view prompt = {}, std::string_view raw_output = {});

  ClassificationReport report() const;
  const std::vector<std::string>& labels() const { return labels_; }

 private:
  std::vector<std::string> labels_;
  ClassificationOptions options_;
  std::vector<std::vector<int64_t>> confusion_;  // (labels, labels + 1)
  int64_t n_ = 0;
  int64_t with_probabilities_ = 0;
  std::vector<int64_t> bin_count_, bin_correct_;
  std::vector<double> bin_confidence_sum_;
  std::vector<double> bin_edges_;  // the bins - 1 interior edges i / bins
  std::vector<GateExample> gate_examples_;
  std::vector<ClassificationError> errors_;
};

// The report's "tool_selection" object (docs/EVAL_REPORT.md).
nlohmann::ordered_json to_json(const ClassificationReport& report);

}  // namespace tsft
