// The confidence gate of tool selection: coverage/precision curves computed by hand on small
// inputs (ties, all right, all wrong, a target no threshold reaches, no examples), operating
// points, a fixed threshold, the JSON shape, and the gate as ClassificationMetrics reports it;
// the call gate of tool calling (a call kept only at a high enough call probability) by hand.
#include <gtest/gtest.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <random>
#include <vector>

#include "eval/call_gate.h"
#include "eval/classification_metrics.h"
#include "eval/confidence_gate.h"

namespace tsft {
namespace {

using Json = nlohmann::ordered_json;

void expect_point(const GatePoint& p, double threshold, int64_t answered, int64_t correct,
                  double coverage) {
  EXPECT_EQ(p.threshold, threshold);
  EXPECT_EQ(p.answered, answered);
  EXPECT_EQ(p.correct, correct);
  EXPECT_DOUBLE_EQ(p.coverage, coverage);
  ASSERT_TRUE(p.precision.has_value());
  EXPECT_DOUBLE_EQ(*p.precision, static_cast<double>(correct) / static_cast<double>(answered));
}

// Six examples, given out of order. Sorted by confidence:
//   0.95 right | 0.9 right, 0.9 wrong | 0.7 right | 0.6 wrong, 0.6 wrong
// Curve (threshold: answered, correct -> precision):
//   0.95: 1, 1 -> 1     0.9: 3, 2 -> 2/3     0.7: 4, 3 -> 3/4     0.6: 6, 3 -> 1/2
// Precision falls then rises again (2/3 < 3/4), so the operating point for 0.7 or 0.75 must be
// 0.7, found by looking at every point, not by stopping at the first that falls short.
std::vector<GateExample> six() {
  return {{0.6, false}, {0.9, true}, {0.95, true}, {0.6, false}, {0.7, true}, {0.9, false}};
}

TEST(ConfidenceGate, CurveWithTiesByHand) {
  const std::vector<GateExample> ex = six();
  const std::vector<GatePoint> curve = coverage_precision_curve(ex);
  ASSERT_EQ(curve.size(), 4u);  // one point per distinct confidence
  expect_point(curve[0], 0.95, 1, 1, 1.0 / 6);
  expect_point(curve[1], 0.9, 3, 2, 0.5);  // both 0.9 examples: ties go in together
  expect_point(curve[2], 0.7, 4, 3, 4.0 / 6);
  expect_point(curve[3], 0.6, 6, 3, 1.0);  // the last point answers everything
}

TEST(ConfidenceGate, OperatingPointIsTheLowestThresholdReachingTheTarget) {
  const std::vector<GatePoint> curve = coverage_precision_curve(six());
  EXPECT_EQ(operating_point(curve, 1.0)->threshold, 0.95);
  EXPECT_EQ(operating_point(curve, 0.8)->threshold, 0.95);
  EXPECT_EQ(operating_point(curve, 0.75)->threshold, 0.7);  // 3/4 reaches 0.75 exactly
  EXPECT_EQ(operating_point(curve, 0.7)->threshold, 0.7);   // not 0.9 (2/3), not 0.95
  EXPECT_EQ(operating_point(curve, 0.5)->threshold, 0.6);
  EXPECT_EQ(operating_point(curve, 0.01)->threshold, 0.6);
}

TEST(ConfidenceGate, PrecisionEqualToTheTargetReachesIt) {
  // 99 of 100 and 19 of 20, each at one confidence: precision equals 0.99 / 0.95 as written.
  std::vector<GateExample> a(99, {0.8, true});
  a.push_back({0.8, false});
  const auto pa = operating_point(coverage_precision_curve(a), 0.99);
  ASSERT_TRUE(pa.has_value());
  EXPECT_EQ(pa->answered, 100);
  std::vector<GateExample> b(19, {0.5, true});
  b.push_back({0.5, false});
  EXPECT_TRUE(operating_point(coverage_precision_curve(b), 0.95).has_value());
  EXPECT_FALSE(operating_point(coverage_precision_curve(b), 0.951).has_value());
}

TEST(ConfidenceGate, FixedThresholdCountsEveryConfidenceAtOrAboveIt) {
  const std::vector<GateExample> ex = six();
  expect_point(gate_at(ex, 0.9), 0.9, 3, 2, 0.5);
  expect_point(gate_at(ex, 0.85), 0.85, 3, 2, 0.5);  // between confidences: same as 0.9
  expect_point(gate_at(ex, 0.6), 0.6, 6, 3, 1.0);    // both 0.6 examples
  expect_point(gate_at(ex, 0.0), 0.0, 6, 3, 1.0);
  const GatePoint none = gate_at(ex, 0.96);
  EXPECT_EQ(none.answered, 0);
  EXPECT_EQ(none.coverage, 0.0);
  EXPECT_FALSE(none.precision.has_value());
  // Every point of the curve is what its own threshold gives.
  for (const GatePoint& p : coverage_precision_curve(ex)) {
    const GatePoint q = gate_at(ex, p.threshold);
    EXPECT_EQ(q.answered, p.answered);
    EXPECT_EQ(q.correct, p.correct);
  }
}

TEST(ConfidenceGate, AllCorrect) {
  const std::vector<GateExample> ex = {{0.5, true}, {0.7, true}, {0.99, true}, {0.7, true}};
  const GateReport r = confidence_gate(ex, {});
  ASSERT_EQ(r.curve.size(), 3u);
  for (const GatePoint& p : r.curve) EXPECT_EQ(*p.precision, 1.0);
  ASSERT_TRUE(r.operating_point.has_value());
  expect_point(*r.operating_point, 0.5, 4, 4, 1.0);  // everything answered
  EXPECT_EQ(*r.full_coverage_precision, 1.0);
  EXPECT_EQ(*r.full_coverage_risk, 0.0);
}

TEST(ConfidenceGate, AllWrongReachesNoTarget) {
  const std::vector<GateExample> ex = {{0.9, false}, {0.4, false}, {0.9, false}};
  GateOptions o;
  o.target_precision = 0.5;
  const GateReport r = confidence_gate(ex, o);
  ASSERT_EQ(r.curve.size(), 2u);
  expect_point(r.curve[0], 0.9, 2, 0, 2.0 / 3);
  expect_point(r.curve[1], 0.4, 3, 0, 1.0);
  EXPECT_FALSE(r.operating_point.has_value());
  ASSERT_EQ(r.operating_points.size(), 4u);  // 0.5, 0.9, 0.95, 0.99
  for (const GateTarget& t : r.operating_points) EXPECT_FALSE(t.point.has_value());
  EXPECT_EQ(*r.full_coverage_precision, 0.0);
  EXPECT_EQ(*r.full_coverage_risk, 1.0);
}

TEST(ConfidenceGate, UnreachableTargetIsNullButTheCurveAndOtherTargetsRemain) {
  GateOptions o;
  o.target_precision = 0.99;
  o.table_targets = {0.5, 0.99};
  // In six() the one answer at 0.95 is right: precision 1 there reaches 0.99.
  EXPECT_EQ(confidence_gate(six(), o).operating_point->threshold, 0.95);
  // Without it, the curve is 0.9: 1 of 2, 0.7: 2 of 3, 0.6: 2 of 5, and nothing reaches 0.99.
  std::vector<GateExample> ex = six();
  ex.erase(std::find_if(ex.begin(), ex.end(),
                        [](const GateExample& e) { return e.confidence == 0.95; }));
  const GateReport u = confidence_gate(ex, o);
  EXPECT_FALSE(u.operating_point.has_value());
  EXPECT_EQ(u.curve.size(), 3u);
  ASSERT_EQ(u.operating_points.size(), 2u);
  EXPECT_EQ(u.operating_points[0].target_precision, 0.5);
  ASSERT_TRUE(u.operating_points[0].point.has_value());
  EXPECT_EQ(u.operating_points[0].point->threshold, 0.7);  // 2/3; at 0.6 it is 2/5
  EXPECT_EQ(u.operating_points[1].target_precision, 0.99);
  EXPECT_FALSE(u.operating_points[1].point.has_value());
  const Json j = to_json(u);
  EXPECT_TRUE(j["operating_point"].is_null());
  EXPECT_TRUE(j["operating_points"][1]["point"].is_null());
}

TEST(ConfidenceGate, NoExamples) {
  GateOptions o;
  o.fixed_threshold = 0.5;
  o.fixed_threshold_from = "--gate-threshold";
  const GateReport r = confidence_gate({}, o);
  EXPECT_EQ(r.n, 0);
  EXPECT_TRUE(r.curve.empty());
  EXPECT_FALSE(r.full_coverage_precision.has_value());
  EXPECT_FALSE(r.full_coverage_risk.has_value());
  EXPECT_FALSE(r.operating_point.has_value());
  ASSERT_TRUE(r.fixed.has_value());
  EXPECT_EQ(r.fixed->answered, 0);
  EXPECT_EQ(r.fixed->coverage, 0.0);
  EXPECT_FALSE(r.fixed->precision.has_value());
  const Json j = to_json(r);
  EXPECT_TRUE(j["full_coverage_precision"].is_null());
  EXPECT_TRUE(j["fixed_threshold"]["precision"].is_null());
  EXPECT_EQ(j["curve"], Json::array());
}

TEST(ConfidenceGate, OperatingPointsListEveryTargetOnceAscending) {
  GateOptions o;
  o.target_precision = 0.8;  // table_targets default 0.9, 0.95, 0.99
  GateReport r = confidence_gate(six(), o);
  std::vector<double> targets;
  for (const GateTarget& t : r.operating_points) targets.push_back(t.target_precision);
  EXPECT_EQ(targets, (std::vector<double>{0.8, 0.9, 0.95, 0.99}));
  o.target_precision = 0.95;
  r = confidence_gate(six(), o);
  EXPECT_EQ(r.operating_points.size(), 3u);
}

TEST(ConfidenceGate, AgreesWithBruteForceOnRandomData) {
  // Confidences on a coarse grid so that ties are common; every threshold of the grid is checked
  // against a direct count, and the operating point against a scan of every threshold.
  std::mt19937 rng(7);
  for (int trial = 0; trial < 50; ++trial) {
    std::vector<GateExample> ex(1 + rng() % 40);
    for (GateExample& e : ex) {
      e.confidence = static_cast<double>(rng() % 11) / 10;
      e.correct = rng() % 10 < 7;
    }
    const std::vector<GatePoint> curve = coverage_precision_curve(ex);
    for (size_t k = 1; k < curve.size(); ++k) {
      EXPECT_LT(curve[k].threshold, curve[k - 1].threshold);
      EXPECT_GT(curve[k].answered, curve[k - 1].answered);
    }
    EXPECT_EQ(curve.back().answered, static_cast<int64_t>(ex.size()));
    for (double target : {0.5, 0.7, 0.9, 1.0}) {
      std::optional<double> best;
      for (const GateExample& c : ex) {
        const GatePoint p = gate_at(ex, c.confidence);
        if (*p.precision >= target && (!best || c.confidence < *best)) best = c.confidence;
      }
      const auto op = operating_point(curve, target);
      ASSERT_EQ(op.has_value(), best.has_value()) << trial << " " << target;
      if (op) {
        EXPECT_EQ(op->threshold, *best);
      }
    }
  }
}

TEST(ConfidenceGate, JsonShape) {
  GateOptions o;
  o.target_precision = 0.7;
  o.table_targets = {0.9};
  o.fixed_threshold = 0.85;
  o.fixed_threshold_from = "val/report.json";
  const Json j = to_json(confidence_gate(six(), o));
  std::vector<std::string> keys;
  for (const auto& [k, v] : j.items()) keys.push_back(k);
  EXPECT_EQ(keys,
            (std::vector<std::string>{"target_precision", "n", "full_coverage_precision",
                                      "full_coverage_risk", "operating_point", "operating_points",
                                      "fixed_threshold", "fixed_threshold_from", "curve"}));
  EXPECT_EQ(j["target_precision"], 0.7);
  EXPECT_EQ(j["n"], 6);
  EXPECT_EQ(j["full_coverage_precision"], 0.5);
  EXPECT_EQ(j["full_coverage_risk"], 0.5);
  EXPECT_EQ(j["operating_point"], Json::parse(R"({"threshold": 0.7, "answered": 4, "correct": 3,
                            "coverage": 0.6666666666666666, "precision": 0.75})"));
  ASSERT_EQ(j["operating_points"].size(), 2u);
  EXPECT_EQ(j["operating_points"][0]["target_precision"], 0.7);
  EXPECT_EQ(j["operating_points"][1]["target_precision"], 0.9);
  EXPECT_EQ(j["operating_points"][1]["point"]["threshold"], 0.95);
  EXPECT_EQ(j["fixed_threshold"]["threshold"], 0.85);
  EXPECT_EQ(j["fixed_threshold"]["answered"], 3);
  EXPECT_EQ(j["fixed_threshold_from"], "val/report.json");
  ASSERT_EQ(j["curve"].size(), 4u);
  EXPECT_EQ(j["curve"][3], Json::parse(R"({"threshold": 0.6, "answered": 6, "correct": 3,
                                            "coverage": 1.0, "precision": 0.5})"));
  // Without a fixed threshold both of its fields are null.
  const Json k = to_json(confidence_gate(six(), {}));
  EXPECT_TRUE(k["fixed_threshold"].is_null());
  EXPECT_TRUE(k["fixed_threshold_from"].is_null());
}

TEST(ConfidenceGate, RiskIsCountedNotSubtracted) {
  std::vector<GateExample> ex(9, {0.9, true});
  ex.push_back({0.9, false});
  EXPECT_EQ(*confidence_gate(ex, {}).full_coverage_risk, 0.1);  // 1 - 0.9 would be 0.0999...
}

// ---- as the tool-selection metrics report it ----

TEST(ConfidenceGateInMetrics, ScoringUsesTheLargestProbabilityAndArgmax) {
  ClassificationOptions o;
  o.gate.target_precision = 0.6;
  o.gate.fixed_threshold = 0.55;
  o.gate.fixed_threshold_from = "--gate-threshold";
  ClassificationMetrics m({"a", "b", "c"}, o);
  const std::vector<std::vector<double>> probs = {
      {0.8, 0.1, 0.1},   // expected a: right at 0.8
      {0.2, 0.7, 0.1},   // expected c: wrong at 0.7
      {0.5, 0.5, 0.0},   // expected b: the first maximum (a) wins, so wrong at 0.5
      {0.1, 0.3, 0.6}};  // expected c: right at 0.6
  const int expected[] = {0, 2, 1, 2};
  for (size_t i = 0; i < probs.size(); ++i) {
    const auto& p = probs[i];
    const int pred = static_cast<int>(std::max_element(p.begin(), p.end()) - p.begin());
    m.add(expected[i], pred, p);
  }
  const ClassificationReport r = m.report();
  ASSERT_TRUE(r.gate.has_value());
  ASSERT_EQ(r.gate->curve.size(), 4u);
  expect_point(r.gate->curve[0], 0.8, 1, 1, 0.25);
  expect_point(r.gate->curve[1], 0.7, 2, 1, 0.5);
  expect_point(r.gate->curve[2], 0.6, 3, 2, 0.75);
  expect_point(r.gate->curve[3], 0.5, 4, 2, 1.0);
  EXPECT_EQ(r.gate->operating_point->threshold, 0.6);  // 2/3 >= 0.6
  expect_point(*r.gate->fixed, 0.55, 3, 2, 0.75);
  const Json j = to_json(r);
  ASSERT_TRUE(j.contains("gate"));
  EXPECT_EQ(j["gate"]["target_precision"], 0.6);
  EXPECT_EQ(j["gate"]["fixed_threshold_from"], "--gate-threshold");
  EXPECT_DOUBLE_EQ(j["gate"]["full_coverage_precision"].get<double>(), *r.accuracy);
}

TEST(ConfidenceGateInMetrics, GenerationWithoutProbabilitiesHasNoGate) {
  ClassificationOptions o;
  o.mode = SelectionMode::kGeneration;
  ClassificationMetrics m({"a", "b"}, o);
  m.add(0, 0);
  m.add(1, -1);
  const ClassificationReport r = m.report();
  EXPECT_FALSE(r.gate.has_value());
  EXPECT_TRUE(to_json(r)["gate"].is_null());
}

TEST(ConfidenceGateInMetrics, ScoringWithNoExamplesHasAnEmptyGate) {
  const ClassificationReport r = ClassificationMetrics({"a", "b"}).report();
  ASSERT_TRUE(r.gate.has_value());
  EXPECT_EQ(r.gate->n, 0);
  EXPECT_TRUE(r.gate->curve.empty());
  EXPECT_TRUE(to_json(r)["gate"]["operating_point"].is_null());
}

// The call gate, by hand. Seven turns (p = call probability; "called" = the model called):
//   one-call turn, p 0.95, called, AST pass     one-call turn, p 0.6, called, AST pass
//   one-call turn, p 0.8, called, AST fail      two-call turn, p 0.9, called, AST pass
//   one-call turn, p 0.3, answered in text      no-call turn, p 0.7, called (hallucinated)
//   no-call turn, p 0.2, answered in text
// Examples (called turns): 0.95 right, 0.9 right, 0.8 right, 0.7 wrong, 0.6 right.
std::vector<ToolCallReport::GateTurn> seven_turns() {
  using T = ToolCallReport::GateTurn;
  return {T{0.95, true, true, true, true},  T{0.6, true, true, true, true},
          T{0.8, true, true, true, false},  T{0.9, true, false, true, true},
          T{0.3, true, true, false, false}, T{0.7, false, false, true, false},
          T{0.2, false, false, false, false}};
}

TEST(CallGate, RatesWithholdCallsBelowTheThreshold) {
  const auto turns = seven_turns();
  const CallGateRates all = call_gate_rates(turns, 0.0);  // no gate: the model's own rates
  EXPECT_DOUBLE_EQ(*all.ast_accuracy_single, 2.0 / 4.0);
  EXPECT_DOUBLE_EQ(*all.hallucinated_call_rate, 1.0 / 2.0);
  EXPECT_DOUBLE_EQ(*all.missed_call_rate, 1.0 / 5.0);
  const CallGateRates at75 = call_gate_rates(turns, 0.75);  // the 0.7 and 0.6 calls withheld
  EXPECT_DOUBLE_EQ(*at75.ast_accuracy_single, 1.0 / 4.0);
  EXPECT_DOUBLE_EQ(*at75.hallucinated_call_rate, 0.0);
  EXPECT_DOUBLE_EQ(*at75.missed_call_rate, 2.0 / 5.0);
  const CallGateRates none = call_gate_rates({}, 0.5);
  EXPECT_FALSE(none.ast_accuracy_single.has_value());
  EXPECT_FALSE(none.hallucinated_call_rate.has_value());
}

TEST(CallGate, OperatingPointAndFixedThresholdComeWithTheirRates) {
  GateOptions opt;
  opt.target_precision = 1.0;
  opt.fixed_threshold = 0.65;
  opt.fixed_threshold_from = "--gate-threshold";
  const CallGateReport r = call_gate(seven_turns(), opt);
  ASSERT_EQ(r.gate.n, 5);  // the called turns
  ASSERT_EQ(r.gate.curve.size(), 5u);
  ASSERT_EQ(r.rates.size(), 5u);
  // Precision 1 holds down to 0.8 (3 of 3); at 0.7 the hallucinated call comes in.
  ASSERT_TRUE(r.gate.operating_point.has_value());
  EXPECT_EQ(r.gate.operating_point->threshold, 0.8);
  ASSERT_TRUE(r.at_operating_point.has_value());
  EXPECT_DOUBLE_EQ(*r.at_operating_point->ast_accuracy_single, 1.0 / 4.0);
  EXPECT_DOUBLE_EQ(*r.at_operating_point->hallucinated_call_rate, 0.0);
  ASSERT_TRUE(r.at_fixed.has_value());
  EXPECT_EQ(r.at_fixed->threshold, 0.65);
  EXPECT_DOUBLE_EQ(*r.at_fixed->hallucinated_call_rate, 1.0 / 2.0);
  EXPECT_DOUBLE_EQ(*r.at_fixed->missed_call_rate, 2.0 / 5.0);
  for (size_t k = 0; k < r.rates.size(); ++k)
    EXPECT_EQ(r.rates[k].threshold, r.gate.curve[k].threshold);
  const Json j = to_json(r);
  EXPECT_EQ(j["operating_point"]["threshold"], 0.8);
  EXPECT_EQ(j["operating_point_rates"]["threshold"], 0.8);
  EXPECT_EQ(j["fixed_threshold_from"], "--gate-threshold");
  EXPECT_EQ(j["rates"].size(), j["curve"].size());
  EXPECT_EQ(j.items().begin().key(), "target_precision");
  EXPECT_EQ((--j.end()).key(), "curve");
}

// call_gate() sweeps the curve once; each point's rates must be those counted directly at its
// threshold, ties of equal probabilities included.
TEST(CallGate, SweptRatesEqualRatesCountedAtEachThreshold) {
  std::mt19937 rng(11);
  std::vector<ToolCallReport::GateTurn> turns;
  for (int i = 0; i < 300; ++i) {
    ToolCallReport::GateTurn t;
    t.call_probability = static_cast<double>(rng() % 11) / 10.0;  // 0, 0.1, ..., 1: many ties
    t.call_turn = rng() % 4 != 0;
    t.single = t.call_turn && rng() % 3 != 0;
    t.called = rng() % 5 != 0;
    t.ast_pass = t.called && t.call_turn && rng() % 2 == 0;
    turns.push_back(t);
  }
  const CallGateReport r = call_gate(turns, GateOptions{});
  ASSERT_EQ(r.rates.size(), r.gate.curve.size());
  ASSERT_GE(r.rates.size(), 10u);
  for (const CallGateRates& swept : r.rates) {
    const CallGateRates direct = call_gate_rates(turns, swept.threshold);
    SCOPED_TRACE(swept.threshold);
    EXPECT_EQ(swept.ast_accuracy_single, direct.ast_accuracy_single);
    EXPECT_EQ(swept.hallucinated_call_rate, direct.hallucinated_call_rate);
    EXPECT_EQ(swept.missed_call_rate, direct.missed_call_rate);
  }
}

}  // namespace
}  // namespace tsft
