// The coverage/precision curve by one sort and one pass, operating points read off it, and a fixed
// threshold counted directly; every undefined precision is null, never NaN.
#include "eval/confidence_gate.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"
#include "eval/rate.h"

namespace tsft {

namespace {

using Json = nlohmann::ordered_json;

void check_confidence(double c) {
  TSFT_CHECK(c >= 0 && c <= 1, "confidence ", c);  // also rejects NaN
}

GatePoint point_of(double threshold, int64_t answered, int64_t correct, int64_t n) {
  GatePoint p;
  p.threshold = threshold;
  p.answered = answered;
  p.correct = correct;
  p.coverage = n > 0 ? static_cast<double>(answered) / static_cast<double>(n) : 0.0;
  if (answered > 0) p.precision = static_cast<double>(correct) / static_cast<double>(answered);
  return p;
}

Json or_null(const std::optional<GatePoint>& p) {
  return p ? to_json(*p) : Json(nullptr);
}

}  // namespace

std::vector<GatePoint> coverage_precision_curve(std::span<const GateExample> examples) {
  std::vector<GateExample> sorted(examples.begin(), examples.end());
  for (const GateExample& e : sorted) check_confidence(e.confidence);
  std::sort(sorted.begin(), sorted.end(),
            [](const GateExample& a, const GateExample& b) { return a.confidence > b.confidence; });
  const int64_t n = static_cast<int64_t>(sorted.size());
  std::vector<GatePoint> curve;
  int64_t correct = 0;
  for (int64_t i = 0; i < n; ++i) {
    correct += sorted[i].correct ? 1 : 0;
    // A point only after the last example of a run of equal confidences: a threshold answers all
    // of them or none.
    if (i + 1 == n || sorted[i + 1].confidence != sorted[i].confidence)
      curve.push_back(point_of(sorted[i].confidence, i + 1, correct, n));
  }
  return curve;
}

std::optional<GatePoint> operating_point(const std::vector<GatePoint>& curve,
                                         double target_precision) {
  TSFT_CHECK(target_precision > 0 && target_precision <= 1, "target precision ", target_precision);
  std::optional<GatePoint> best;
  for (size_t k = 0; k < curve.size(); ++k) {  // thresholds descending: the last match is lowest
    const GatePoint& p = curve[k];
    TSFT_CHECK(k == 0 || p.threshold < curve[k - 1].threshold, "curve not sorted by threshold");
    if (p.precision && *p.precision >= target_precision) best = p;
  }
  return best;
}

GatePoint gate_at(std::span<const GateExample> examples, double threshold) {
  TSFT_CHECK(threshold >= 0 && threshold <= 1, "threshold ", threshold);
  int64_t answered = 0, correct = 0;
  for (const GateExample& e : examples) {
    check_confidence(e.confidence);
    if (e.confidence >= threshold) {
      ++answered;
      correct += e.correct ? 1 : 0;
    }
  }
  return point_of(threshold, answered, correct, static_cast<int64_t>(examples.size()));
}

GateReport confidence_gate(std::span<const GateExample> examples, const GateOptions& options) {
  GateReport r;
  r.n = static_cast<int64_t>(examples.size());
  r.target_precision = options.target_precision;
  r.curve = coverage_precision_curve(examples);
  if (!r.curve.empty()) {
    const GatePoint& all = r.curve.back();
    r.full_coverage_precision = all.precision;
    // Counted rather than 1 - precision, so that 1 wrong in 10 is 0.1, not 0.09999999999999998.
    r.full_coverage_risk =
        static_cast<double>(all.answered - all.correct) / static_cast<double>(all.answered);
  }
  r.operating_point = operating_point(r.curve, options.target_precision);
  std::vector<double> targets = options.table_targets;
  targets.push_back(options.target_precision);
  std::sort(targets.begin(), targets.end());
  targets.erase(std::unique(targets.begin(), targets.end()), targets.end());
  for (double t : targets) r.operating_points.push_back({t, operating_point(r.curve, t)});
  if (options.fixed_threshold) {
    r.fixed = gate_at(examples, *options.fixed_threshold);
    r.fixed_threshold_from = options.fixed_threshold_from;
  }
  return r;
}

nlohmann::ordered_json to_json(const GatePoint& p) {
  return Json{{"threshold", p.threshold},
              {"answered", p.answered},
              {"correct", p.correct},
              {"coverage", p.coverage},
              {"precision", or_null(p.precision)}};
}

nlohmann::ordered_json to_json(const GateReport& r) {
  Json j;
  j["target_precision"] = r.target_precision;
  j["n"] = r.n;
  j["full_coverage_precision"] = or_null(r.full_coverage_precision);
  j["full_coverage_risk"] = or_null(r.full_coverage_risk);
  j["operating_point"] = or_null(r.operating_point);
  Json targets = Json::array();
  for (const GateTarget& t : r.operating_points)
    targets.push_back({{"target_precision", t.target_precision}, {"point", or_null(t.point)}});
  j["operating_points"] = std::move(targets);
  j["fixed_threshold"] = or_null(r.fixed);
  j["fixed_threshold_from"] = r.fixed ? Json(r.fixed_threshold_from) : Json(nullptr);
  Json curve = Json::array();
  for (const GatePoint& p : r.curve) curve.push_back(to_json(p));
  j["curve"] = std::move(curve);  // last: by far the longest field
  return j;
}

}  // namespace tsft
