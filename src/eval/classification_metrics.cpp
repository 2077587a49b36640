// ClassificationMetrics: streaming counts (confusion matrix, calibration bins) and the derived
// rates, with every undefined rate kept as null rather than NaN.
#include "eval/classification_metrics.h"

#include <algorithm>
#include <cmath>
#include <unordered_set>

#include "core/error.h"
#include "eval/rate.h"

namespace tsft {

namespace {

using Json = nlohmann::ordered_json;

}  // namespace

const char* selection_mode_name(SelectionMode mode) {
  return mode == SelectionMode::kScoring ? "scoring" : "generation";
}

ClassificationMetrics::ClassificationMetrics(std::vector<std::string> labels,
                                             ClassificationOptions options)
    : labels_(std::move(labels)), options_(options) {
  std::unordered_set<std::string> seen;
  for (size_t i = 0; i < labels_.size(); ++i) {
    if (labels_[i].empty()) fail("tool selection: label ", i, " is empty");
    if (!seen.insert(labels_[i]).second) fail("tool selection: label '", labels_[i], "' twice");
  }
  TSFT_CHECK(options_.calibration_bins >= 1, "calibration_bins = ", options_.calibration_bins);
  TSFT_CHECK(options_.max_errors >= 0);
  TSFT_CHECK(options_.gate.target_precision > 0 && options_.gate.target_precision <= 1,
             "gate target precision ", options_.gate.target_precision);
  TSFT_CHECK(!options_.gate.fixed_threshold ||
                 (*options_.gate.fixed_threshold >= 0 && *options_.gate.fixed_threshold <= 1),
             "gate threshold ", *options_.gate.fixed_threshold);
  const size_t k = labels_.size();
  confusion_.assign(k, std::vector<int64_t>(k + 1, 0));
  const int bins = options_.calibration_bins;
  bin_count_.assign(bins, 0);
  bin_correct_.assign(bins, 0);
  bin_confidence_sum_.assign(bins, 0.0);
  // Interior edges as i * (1 / bins), bit-identical to numpy.linspace's (i / bins is not: 6 / 10
  // is 0.6 but linspace gives 0.6000000000000001), so every confidence lands in the same bin as
  // in sklearn's calibration_curve, which puts a confidence on an edge in the lower bin.
  const double width = 1.0 / bins;
  for (int i = 1; i < bins; ++i) bin_edges_.push_back(i * width);
}

void ClassificationMetrics::add(int expected, int predicted, std::span<const double> probabilities,
                                std::string_view prompt, std::string_view raw_output) {
  const int k = static_cast<int>(labels_.size());
  TSFT_CHECK(expected >= 0 && expected < k, "expected label ", expected, " of ", k);
  TSFT_CHECK(predicted >= -1 && predicted < k, "predicted label ", predicted, " of ", k);
  TSFT_CHECK(probabilities.empty() || static_cast<int>(probabilities.size()) == k,
             probabilities.size(), " probabilities for ", k, " labels");
  TSFT_CHECK(options_.mode != SelectionMode::kScoring || !probabilities.empty(),
             "scoring mode needs the probabilities");
  // A mix would make the calibration cover a silent subset of the examples.
  TSFT_CHECK(n_ == 0 || (with_probabilities_ == n_) == !probabilities.empty(),
             "every example or none must come with probabilities");

  ++n_;
  confusion_[expected][predicted < 0 ? k : predicted] += 1;

  std::optional<double> confidence;
  if (!probabilities.empty()) {
    ++with_probabilities_;
    for (double p : probabilities) TSFT_CHECK(p >= 0 && p <= 1, "probability ", p);  // no NaN
    const auto top = std::max_element(probabilities.begin(), probabilities.end());
    confidence = *top;
    const bool correct = (top - probabilities.begin()) == expected;
    // numpy.searchsorted(edges, confidence) with side="left", as calibration_curve.
    const size_t bin =
        std::lower_bound(bin_edges_.begin(), bin_edges_.end(), *top) - bin_edges_.begin();
    bin_count_[bin] += 1;
    bin_correct_[bin] += correct ? 1 : 0;
    bin_confidence_sum_[bin] += *top;
    gate_examples_.push_back({*top, correct});
  }

  if (predicted != expected && static_cast<int>(errors_.size()) < options_.max_errors) {
    std::string got = predicted >= 0       ? labels_[predicted]
                      : raw_output.empty() ? std::string("(invalid)")
                                           : std::string(raw_output);
    errors_.push_back({std::string(prompt), labels_[expected], std::move(got), confidence});
  }
}

ClassificationReport ClassificationMetrics::report() const {
  ClassificationReport r;
  const size_t k = labels_.size();
  r.mode = options_.mode;
  r.labels = labels_;
  r.n = n_;
  r.confusion = confusion_;
  r.errors = errors_;

  int64_t correct = 0;
  std::vector<int64_t> predicted_count(k, 0);
  for (size_t e = 0; e < k; ++e) {
    correct += confusion_[e][e];
    r.invalid += confusion_[e][k];
    for (size_t p = 0; p < k; ++p) predicted_count[p] += confusion_[e][p];
  }
  r.accuracy = ratio(correct, n_);
  r.invalid_rate = ratio(r.invalid, n_);

  double sum_p = 0, sum_r = 0, sum_f = 0;
  for (size_t c = 0; c < k; ++c) {
    ClassMetrics m;
    m.label = labels_[c];
    const int64_t tp = confusion_[c][c];
    for (size_t p = 0; p <= k; ++p) m.support += confusion_[c][p];
    m.predicted = predicted_count[c];
    const int64_t fp = m.predicted - tp, fn = m.support - tp;
    m.precision = ratio(tp, m.predicted);
    m.recall = ratio(tp, m.support);
    m.f1 = ratio(2.0 * tp, 2.0 * tp + fp + fn);
    sum_p += m.precision.value_or(0.0);
    sum_r += m.recall.value_or(0.0);
    sum_f += m.f1.value_or(0.0);
    r.per_class.push_back(std::move(m));
  }
  if (n_ > 0) {
    r.macro_precision = sum_p / static_cast<double>(k);
    r.macro_recall = sum_r / static_cast<double>(k);
    r.macro_f1 = sum_f / static_cast<double>(k);
  }

  if (options_.mode == SelectionMode::kScoring || with_probabilities_ > 0) {
    Calibration cal;
    const int bins = options_.calibration_bins;
    double ece = 0;
    for (int b = 0; b < bins; ++b) {
      CalibrationBin bin;
      bin.lo = static_cast<double>(b) / bins;
      bin.hi = static_cast<double>(b + 1) / bins;
      bin.count = bin_count_[b];
      if (bin.count > 0) {
        const double n_bin = static_cast<double>(bin.count);
        bin.confidence = bin_confidence_sum_[b] / n_bin;
        bin.accuracy = static_cast<double>(bin_correct_[b]) / n_bin;
        ece += n_bin / static_cast<double>(with_probabilities_) *
               std::abs(*bin.accuracy - *bin.confidence);
      }
      cal.bins.push_back(bin);
    }
    if (with_probabilities_ > 0) cal.ece = ece;
    r.calibration = std::move(cal);
    r.gate = confidence_gate(gate_examples_, options_.gate);
  }
  return r;
}

nlohmann::ordered_json to_json(const ClassificationReport& r) {
  Json j;
  j["mode"] = selection_mode_name(r.mode);
  j["labels"] = r.labels;
  j["n"] = r.n;
  j["accuracy"] = or_null(r.accuracy);
  j["macro_precision"] = or_null(r.macro_precision);
  j["macro_recall"] = or_null(r.macro_recall);
  j["macro_f1"] = or_null(r.macro_f1);
  j["invalid"] = r.invalid;
  j["invalid_rate"] = or_null(r.invalid_rate);
  Json per_class = Json::array();
  for (const ClassMetrics& m : r.per_class) {
    per_class.push_back({{"label", m.label},
                         {"support", m.support},
                         {"predicted", m.predicted},
                         {"precision", or_null(m.precision)},
                         {"recall", or_null(m.recall)},
                         {"f1", or_null(m.f1)}});
  }
  j["per_class"] = std::move(per_class);
  j["confusion"] = r.confusion;
  if (r.calibration) {
    Json bins = Json::array();
    for (const CalibrationBin& b : r.calibration->bins) {
      bins.push_back({{"lo", b.lo},
                      {"hi", b.hi},
                      {"count", b.count},
                      {"confidence", or_null(b.confidence)},
                      {"accuracy", or_null(b.accuracy)}});
    }
    j["calibration"] = {{"ece", or_null(r.calibration->ece)}, {"bins", std::move(bins)}};
  } else {
    j["calibration"] = nullptr;
  }
  j["gate"] = r.gate ? to_json(*r.gate) : Json(nullptr);
  Json errors = Json::array();
  for (const ClassificationError& e : r.errors) {
    errors.push_back({{"prompt", e.prompt},
                      {"expected", e.expected},
                      {"got", e.got},
                      {"confidence", or_null(e.confidence)}});
  }
  j["errors"] = std::move(errors);
  return j;
}

}  // namespace tsft
