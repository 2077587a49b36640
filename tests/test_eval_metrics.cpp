// Evaluation metrics on small hand-computed cases: tool selection (per-class, macro, confusion,
// calibration), tool calling (every AST failure reason and the sums) and perplexity.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/error.h"
#include "eval/classification_metrics.h"
#include "eval/perplexity.h"
#include "eval/tool_call_metrics.h"

namespace tsft {
namespace {

using Json = nlohmann::ordered_json;
using ::testing::HasSubstr;

// nlohmann writes NaN and infinity as null, so a NaN would slip through a dump: walk the values.
void expect_no_nan(const Json& j, const std::string& path = "$") {
  if (j.is_number_float()) {
    EXPECT_TRUE(std::isfinite(j.get<double>())) << path;
  } else if (j.is_object()) {
    for (const auto& [k, v] : j.items()) expect_no_nan(v, path + "." + k);
  } else if (j.is_array()) {
    for (size_t i = 0; i < j.size(); ++i) expect_no_nan(j[i], path + "[" + std::to_string(i) + "]");
  }
}

ClassificationOptions generation() {
  ClassificationOptions o;
  o.mode = SelectionMode::kGeneration;
  return o;
}

// ---------------------------------------------------------------------------------------------
// Tool selection

// labels a b c d; (expected -> predicted): a->a, a->a, a->b, a->d, b->b, b->(invalid), c->b.
// c is never predicted, d never expected.
TEST(ClassificationMetrics, PerClassMacroConfusionWithNeverPredictedAndNeverExpected) {
  ClassificationMetrics m({"a", "b", "c", "d"}, generation());
  const int a = 0, b = 1, c = 2, d = 3;
  m.add(a, a);
  m.add(a, a);
  m.add(a, b);
  m.add(a, d);
  m.add(b, b);
  m.add(b, -1, {}, "p6", "call foo()");
  m.add(c, b);
  const ClassificationReport r = m.report();
  EXPECT_EQ(r.n, 7);
  EXPECT_DOUBLE_EQ(*r.accuracy, 3.0 / 7);  // a,a  a,a  b,b
  EXPECT_EQ(r.invalid, 1);
  EXPECT_DOUBLE_EQ(*r.invalid_rate, 1.0 / 7);
  const std::vector<std::vector<int64_t>> confusion = {
      {2, 1, 0, 1, 0}, {0, 1, 0, 0, 1}, {0, 1, 0, 0, 0}, {0, 0, 0, 0, 0}};
  EXPECT_EQ(r.confusion, confusion);

  ASSERT_EQ(r.per_class.size(), 4u);
  // a: tp 2, support 4, predicted 2: P 1, R 1/2, F1 = 2*2 / (2*2 + 0 + 2) = 2/3
  EXPECT_EQ(r.per_class[a].support, 4);
  EXPECT_EQ(r.per_class[a].predicted, 2);
  EXPECT_DOUBLE_EQ(*r.per_class[a].precision, 1.0);
  EXPECT_DOUBLE_EQ(*r.per_class[a].recall, 0.5);
  EXPECT_DOUBLE_EQ(*r.per_class[a].f1, 2.0 / 3);
  // b: tp 1, support 2, predicted 3 (a->b, b->b, c->b): P 1/3, R 1/2, F1 = 2 / (2 + 2 + 1) = 0.4
  EXPECT_EQ(r.per_class[b].predicted, 3);
  EXPECT_DOUBLE_EQ(*r.per_class[b].precision, 1.0 / 3);
  EXPECT_DOUBLE_EQ(*r.per_class[b].recall, 0.5);
  EXPECT_DOUBLE_EQ(*r.per_class[b].f1, 0.4);
  // c: never predicted -> precision undefined; R 0/1; F1 = 0 / (0 + 0 + 1) = 0
  EXPECT_EQ(r.per_class[c].support, 1);
  EXPECT_FALSE(r.per_class[c].precision.has_value());
  EXPECT_DOUBLE_EQ(*r.per_class[c].recall, 0.0);
  EXPECT_DOUBLE_EQ(*r.per_class[c].f1, 0.0);
  // d: never expected -> recall undefined; P 0/1; F1 = 0 / (0 + 1 + 0) = 0
  EXPECT_EQ(r.per_class[d].support, 0);
  EXPECT_DOUBLE_EQ(*r.per_class[d].precision, 0.0);
  EXPECT_FALSE(r.per_class[d].recall.has_value());
  EXPECT_DOUBLE_EQ(*r.per_class[d].f1, 0.0);
  // macro, undefined as 0 (sklearn zero_division=0; checked with sklearn 1.x
  // precision_recall_fscore_support(labels=[a,b,c,d], average="macro")):
  // P = (1 + 1/3 + 0 + 0) / 4 = 1/3, R = (1/2 + 1/2 + 0 + 0) / 4 = 1/4,
  // F1 = (2/3 + 0.4 + 0 + 0) / 4 = 4/15
  EXPECT_DOUBLE_EQ(*r.macro_precision, 1.0 / 3);
  EXPECT_DOUBLE_EQ(*r.macro_recall, 0.25);
  EXPECT_DOUBLE_EQ(*r.macro_f1, 4.0 / 15);
  EXPECT_FALSE(r.calibration.has_value());

  // The first wrong examples, in order, with the raw output for the invalid one.
  ASSERT_EQ(r.errors.size(), 4u);
  EXPECT_EQ(r.errors[0].expected, "a");
  EXPECT_EQ(r.errors[0].got, "b");
  EXPECT_EQ(r.errors[1].got, "d");
  EXPECT_EQ(r.errors[2].prompt, "p6");
  EXPECT_EQ(r.errors[2].got, "call foo()");
  EXPECT_FALSE(r.errors[2].confidence.has_value());
  EXPECT_EQ(r.errors[3].expected, "c");

  const Json j = to_json(r);
  EXPECT_EQ(j["mode"], "generation");
  EXPECT_TRUE(j["per_class"][2]["precision"].is_null());
  EXPECT_TRUE(j["per_class"][3]["recall"].is_null());
  EXPECT_TRUE(j["calibration"].is_null());
  EXPECT_EQ(j["confusion"][1], Json::parse("[0,1,0,0,1]"));
  EXPECT_TRUE(j["errors"][2]["confidence"].is_null());
  for (const char* key : {"labels", "n", "accuracy", "macro_precision", "macro_recall", "macro_f1",
                          "invalid_rate", "per_class", "confusion", "calibration", "errors"}) {
    EXPECT_TRUE(j.contains(key)) << key;
  }
  expect_no_nan(j);
}

TEST(ClassificationMetrics, AllInvalid) {
  ClassificationMetrics m({"a", "b"}, generation());
  m.add(0, -1);
  m.add(1, -1);
  const ClassificationReport r = m.report();
  EXPECT_DOUBLE_EQ(*r.accuracy, 0.0);
  EXPECT_DOUBLE_EQ(*r.invalid_rate, 1.0);
  EXPECT_EQ(r.confusion, (std::vector<std::vector<int64_t>>{{0, 0, 1}, {0, 0, 1}}));
  for (const ClassMetrics& c : r.per_class) {
    EXPECT_EQ(c.support, 1);
    EXPECT_EQ(c.predicted, 0);
    EXPECT_FALSE(c.precision.has_value());
    EXPECT_DOUBLE_EQ(*c.recall, 0.0);
    EXPECT_DOUBLE_EQ(*c.f1, 0.0);  // 0 / (0 + 0 + 1)
  }
  EXPECT_DOUBLE_EQ(*r.macro_precision, 0.0);
  EXPECT_DOUBLE_EQ(*r.macro_recall, 0.0);
  EXPECT_DOUBLE_EQ(*r.macro_f1, 0.0);
  ASSERT_EQ(r.errors.size(), 2u);
  EXPECT_EQ(r.errors[1].got, "(invalid)");
  expect_no_nan(to_json(r));
}

TEST(ClassificationMetrics, EmptyInputHasEveryRateNull) {
  ClassificationMetrics m({"a", "b"});  // scoring mode
  const ClassificationReport r = m.report();
  EXPECT_EQ(r.n, 0);
  EXPECT_FALSE(r.accuracy.has_value());
  EXPECT_FALSE(r.invalid_rate.has_value());
  EXPECT_FALSE(r.macro_precision.has_value());
  EXPECT_FALSE(r.macro_recall.has_value());
  EXPECT_FALSE(r.macro_f1.has_value());
  ASSERT_TRUE(r.calibration.has_value());
  EXPECT_FALSE(r.calibration->ece.has_value());
  ASSERT_EQ(r.calibration->bins.size(), 10u);
  const Json j = to_json(r);
  expect_no_nan(j);
  for (const char* key :
       {"accuracy", "macro_precision", "macro_recall", "macro_f1", "invalid_rate"}) {
    EXPECT_TRUE(j[key].is_null()) << key;
  }
  for (const Json& c : j["per_class"]) {
    EXPECT_EQ(c["support"], 0);
    EXPECT_TRUE(c["precision"].is_null());
    EXPECT_TRUE(c["recall"].is_null());
    EXPECT_TRUE(c["f1"].is_null());
  }
  EXPECT_TRUE(j["calibration"]["ece"].is_null());
  for (const Json& bin : j["calibration"]["bins"]) {
    EXPECT_EQ(bin["count"], 0);
    EXPECT_TRUE(bin["confidence"].is_null());
    EXPECT_TRUE(bin["accuracy"].is_null());
  }
  EXPECT_EQ(j["errors"], Json::array());
}

// labels x y; scoring, so predicted = argmax (first maximum on ties). Bins are (i/10, (i+1)/10],
// a confidence on an edge going to the lower bin (sklearn's calibration_curve):
//   expected x, [0.95 0.05] -> conf .95 bin 9, correct
//   expected y, [0.85 0.15] -> conf .85 bin 8, wrong
//   expected x, [0.80 0.20] -> conf .80, on an edge -> bin 7, correct
//   expected y, [0.40 0.60] -> conf .60, on an edge -> bin 5, correct
//   expected y, [0.50 0.50] -> tie: argmax x, conf .5, on an edge -> bin 4, wrong
// bins 4: conf .5 acc 0 | 5: .6 acc 1 | 7: .8 acc 1 | 8: .85 acc 0 | 9: .95 acc 1
// ECE = (.5 + .4 + .2 + .85 + .05) / 5 = 2.0 / 5 = 0.4
// (sklearn 1.9.1: calibration_curve(correct, conf, n_bins=10) gives the same bins; ECE 0.4)
TEST(ClassificationMetrics, CalibrationBinsEdgesTiesAndEmptyBins) {
  ClassificationMetrics m({"x", "y"});
  const std::vector<std::pair<int, std::vector<double>>> rows = {
      {0, {0.95, 0.05}}, {1, {0.85, 0.15}}, {0, {0.8, 0.2}}, {1, {0.4, 0.6}}, {1, {0.5, 0.5}}};
  for (const auto& [expected, probs] : rows) {
    const int argmax = probs[1] > probs[0] ? 1 : 0;
    m.add(expected, argmax, probs, "q");
  }
  const ClassificationReport r = m.report();
  EXPECT_DOUBLE_EQ(*r.accuracy, 3.0 / 5);
  ASSERT_TRUE(r.calibration.has_value());
  const auto& bins = r.calibration->bins;
  ASSERT_EQ(bins.size(), 10u);
  const std::vector<int64_t> counts = {0, 0, 0, 0, 1, 1, 0, 1, 1, 1};
  for (int i = 0; i < 10; ++i) {
    SCOPED_TRACE(i);
    EXPECT_EQ(bins[i].count, counts[i]);
    EXPECT_DOUBLE_EQ(bins[i].lo, i / 10.0);
    EXPECT_DOUBLE_EQ(bins[i].hi, (i + 1) / 10.0);
    EXPECT_EQ(bins[i].confidence.has_value(), counts[i] > 0);
    EXPECT_EQ(bins[i].accuracy.has_value(), counts[i] > 0);
  }
  EXPECT_DOUBLE_EQ(*bins[4].confidence, 0.5);
  EXPECT_DOUBLE_EQ(*bins[4].accuracy, 0.0);
  EXPECT_DOUBLE_EQ(*bins[5].confidence, 0.6);
  EXPECT_DOUBLE_EQ(*bins[5].accuracy, 1.0);
  EXPECT_DOUBLE_EQ(*bins[7].confidence, 0.8);
  EXPECT_DOUBLE_EQ(*bins[8].confidence, 0.85);
  EXPECT_DOUBLE_EQ(*bins[8].accuracy, 0.0);
  EXPECT_NEAR(*r.calibration->ece, 0.4, 1e-12);
  ASSERT_EQ(r.errors.size(), 2u);
  EXPECT_DOUBLE_EQ(*r.errors[1].confidence, 0.5);
  EXPECT_EQ(r.errors[1].got, "x");
  const Json j = to_json(r);
  EXPECT_EQ(j["mode"], "scoring");
  EXPECT_TRUE(j["calibration"]["bins"][0]["confidence"].is_null());
  expect_no_nan(j);
}

TEST(ClassificationMetrics, PerfectPredictionsAndConfigurableBins) {
  // All correct at confidence 1 (last bin) -> ECE 0; all correct at .75 (4 bins: .75 is an
  // edge, so bin 2 = (.5, .75]) -> ECE = |1 - .75| = .25.
  ClassificationOptions four;
  four.calibration_bins = 4;
  ClassificationMetrics sure({"a", "b"}), unsure({"a", "b"}, four);
  for (int i = 0; i < 3; ++i) {
    sure.add(i % 2, i % 2, i % 2 ? std::vector<double>{0, 1} : std::vector<double>{1, 0});
    unsure.add(i % 2, i % 2,
               i % 2 ? std::vector<double>{0.25, 0.75} : std::vector<double>{0.75, 0.25});
  }
  const ClassificationReport r = sure.report(), u = unsure.report();
  EXPECT_DOUBLE_EQ(*r.accuracy, 1.0);
  EXPECT_DOUBLE_EQ(*r.macro_precision, 1.0);
  EXPECT_DOUBLE_EQ(*r.macro_recall, 1.0);
  EXPECT_DOUBLE_EQ(*r.macro_f1, 1.0);
  EXPECT_DOUBLE_EQ(*r.calibration->ece, 0.0);
  EXPECT_EQ(r.calibration->bins[9].count, 3);
  EXPECT_TRUE(r.errors.empty());
  ASSERT_EQ(u.calibration->bins.size(), 4u);
  EXPECT_EQ(u.calibration->bins[2].count, 3);
  EXPECT_EQ(u.calibration->bins[3].count, 0);
  EXPECT_DOUBLE_EQ(*u.calibration->ece, 0.25);
}

TEST(ClassificationMetrics, ErrorSampleKeepsTheFirstK) {
  ClassificationOptions o = generation();
  o.max_errors = 2;
  ClassificationMetrics m({"a", "b"}, o);
  m.add(0, 1, {}, "first");
  m.add(0, 0, {}, "right");
  m.add(1, 0, {}, "second");
  m.add(1, 0, {}, "third");
  const ClassificationReport r = m.report();
  ASSERT_EQ(r.errors.size(), 2u);
  EXPECT_EQ(r.errors[0].prompt, "first");
  EXPECT_EQ(r.errors[1].prompt, "second");
}

TEST(ClassificationMetrics, BadLabelsAreUserErrors) {
  EXPECT_THROW(ClassificationMetrics({"a", "a"}), Error);
  EXPECT_THROW(ClassificationMetrics({"a", ""}), Error);
}

// ---------------------------------------------------------------------------------------------
// Perplexity

TEST(Perplexity, TokenWeightedMean) {
  PerplexityAccumulator acc;
  EXPECT_FALSE(acc.mean_loss().has_value());
  Json j = to_json(acc);
  EXPECT_TRUE(j["loss"].is_null());
  EXPECT_TRUE(j["perplexity"].is_null());
  EXPECT_EQ(j["tokens"], 0);
  // (2.0 + 1.0) / (3 + 1) = 0.75; exp(0.75)
  acc.add(2.0, 3);
  acc.add(1.0, 1);
  EXPECT_EQ(acc.tokens(), 4);
  EXPECT_DOUBLE_EQ(*acc.mean_loss(), 0.75);
  EXPECT_DOUBLE_EQ(*acc.perplexity(), std::exp(0.75));
  j = to_json(acc);
  EXPECT_DOUBLE_EQ(j["loss"].get<double>(), 0.75);
  EXPECT_DOUBLE_EQ(j["perplexity"].get<double>(), std::exp(0.75));
  EXPECT_EQ(j["tokens"], 4);
  // exp(1000) overflows: null, not infinity.
  PerplexityAccumulator huge;
  huge.add(1000.0, 1);
  EXPECT_FALSE(huge.perplexity().has_value());
  expect_no_nan(to_json(huge));
}

// ---------------------------------------------------------------------------------------------
// Tool calling

const Json kTools = Json::parse(R"([
  {"type": "function", "function": {"name": "get_weather", "description": "Weather",
   "parameters": {"type": "object", "properties": {
     "city": {"type": "string"}, "days": {"type": "integer"},
     "unit": {"type": "string", "enum": ["c", "f"], "default": "c"}},
    "required": ["city"]}}},
  {"type": "function", "function": {"name": "search_web", "description": "Search",
   "parameters": {"type": "object", "properties": {"query": {"type": "string"}},
    "required": ["query"]}}}
])");

ParsedReply reply(const std::vector<std::pair<std::string, std::string>>& calls) {
  ParsedReply r;
  for (size_t i = 0; i < calls.size(); ++i) {
    r.calls.push_back({"call_" + std::to_string(i + 1), calls[i].first, calls[i].second});
  }
  return r;
}

ToolCallTurn turn(std::vector<ExpectedCall> expected, ParsedReply predicted, Json tools = kTools) {
  ToolCallTurn t;
  t.tools = std::move(tools);
  t.expected = std::move(expected);
  t.predicted = std::move(predicted);
  t.prompt = "prompt";
  return t;
}

ExpectedCall call(const std::string& name, const char* args) {
  return {name, Json::parse(args)};
}

std::string reason_of(const ToolCallTurn& t) {
  const TurnResult r = check_turn(t);
  EXPECT_EQ(r.ast_pass, r.reason.empty());
  return r.reason;
}

TEST(AstValues, NormalisationRules) {
  const auto eq = [](const char* a, const char* b) {
    return ast_values_equal(Json::parse(a), Json::parse(b));
  };
  EXPECT_TRUE(eq("1", "1.0"));
  EXPECT_TRUE(eq("-3", "-3.0"));
  EXPECT_FALSE(eq("1", "1.5"));
  EXPECT_TRUE(eq(R"("New York")", R"("  new \t YORK ")"));
  EXPECT_FALSE(eq(R"("New York")", R"("NewYork")"));
  EXPECT_FALSE(eq(R"("1")", "1"));
  EXPECT_FALSE(eq("true", "1"));
  EXPECT_TRUE(eq("null", "null"));
  EXPECT_FALSE(eq("null", "0"));
  EXPECT_TRUE(eq("[1, 2]", "[1.0, 2]"));
  EXPECT_FALSE(eq("[1, 2]", "[2, 1]"));  // arrays in order
  EXPECT_FALSE(eq("[1, 2]", "[1, 2, 3]"));
  EXPECT_TRUE(
      eq(R"({"a": {"b": "X", "c": [1]}, "d": 2})", R"({"d": 2.0, "a": {"c": [1], "b": "x"}})"));
  EXPECT_FALSE(eq(R"({"a": 1})", R"({"a": 1, "b": 2})"));
  // 2^63 + 1 vs 2^63: different integers although one double would call them equal.
  EXPECT_FALSE(eq("9223372036854775809", "9223372036854775808"));
  // Exact equality keeps strings as they are but still ignores key order and 1 vs 1.0.
  EXPECT_TRUE(json_values_equal(Json::parse(R"({"a": 1, "b": "X"})"),
                                Json::parse(R"({"b": "X", "a": 1.0})")));
  EXPECT_FALSE(json_values_equal(Json::parse(R"("X")"), Json::parse(R"("x")")));
}

TEST(AstCheck, PassingTurnsUnorderedParallelNumbersStringsDefaults) {
  // Parallel calls in the other order, numbers 3 vs 3.0, strings differing in case and spaces.
  const TurnResult r = check_turn(turn(
      {call("get_weather", R"({"city": "Paris", "days": 3})"),
       call("get_weather", R"({"city": "New York"})"), call("search_web", R"({"query": "news"})")},
      reply({{"search_web", R"({"query":"news"})"},
             {"get_weather", R"({"city":"new  york"})"},
             {"get_weather", R"({"days":3.0,"city":"Paris"})"}})));
  EXPECT_TRUE(r.ast_pass) << r.reason;
  EXPECT_EQ(r.name_matches, 3);
  EXPECT_EQ(r.arguments_parsed, 3);
  EXPECT_EQ(r.exact_arguments, 2);  // "new  york" is not exactly "New York"
  EXPECT_EQ(r.expected_arguments, 4);
  EXPECT_EQ(r.correct_arguments, 4);
  // An argument on one side only passes when the other side means the schema's default.
  EXPECT_EQ(reason_of(turn({call("get_weather", R"({"city": "Paris"})")},
                           reply({{"get_weather", R"({"city":"Paris","unit":"c"})"}}))),
            "");
  EXPECT_EQ(reason_of(turn({call("get_weather", R"({"city": "Paris", "unit": "C"})")},
                           reply({{"get_weather", R"({"city":"paris"})"}}))),
            "");
  // A no-call turn answered with text passes, with tools offered or not.
  EXPECT_EQ(reason_of(turn({}, reply({}))), "");
  EXPECT_EQ(reason_of(turn({}, reply({}), Json::array())), "");
  EXPECT_EQ(reason_of(turn({}, reply({}), nullptr)), "");
}

TEST(AstCheck, EveryFailureReason) {
  const std::vector<ExpectedCall> paris = {call("get_weather", R"({"city": "Paris", "days": 3})")};
  EXPECT_EQ(reason_of(turn(paris, reply({{"foo", R"({"city":"Paris"})"}}))),
            "unknown function 'foo'");
  EXPECT_EQ(reason_of(turn(paris, reply({{"get_weather", R"({"days":3})"}}))),
            "missing required argument 'city' in get_weather");
  EXPECT_EQ(
      reason_of(turn(paris, reply({{"get_weather", R"({"city":"Paris","days":3,"zip":"75"})"}}))),
      "unknown argument 'zip' in get_weather");
  const std::string type =
      reason_of(turn(paris, reply({{"get_weather", R"({"city":"Paris","days":"3"})"}})));
  EXPECT_THAT(type, HasSubstr("argument 'days' in get_weather: "));
  EXPECT_THAT(type, HasSubstr("integer"));
  EXPECT_THAT(
      reason_of(turn(paris, reply({{"get_weather", R"({"city":"Paris","days":3,"unit":"k"})"}}))),
      HasSubstr("argument 'unit' in get_weather: "));
  EXPECT_EQ(reason_of(turn(paris, reply({{"get_weather", R"({"city":"London","days":3})"}}))),
            "argument 'city' in get_weather: expected \"Paris\", got \"London\"");
  EXPECT_EQ(reason_of(turn(paris, reply({{"get_weather", R"({"city":"Paris"})"}}))),
            "missing argument 'days' in get_weather");
  EXPECT_EQ(reason_of(turn({call("get_weather", R"({"city": "Paris"})")},
                           reply({{"get_weather", R"({"city":"Paris","days":3})"}}))),
            "unexpected argument 'days' in get_weather (not in the expected call)");
  EXPECT_EQ(reason_of(turn({paris[0], call("search_web", R"({"query": "x"})")},
                           reply({{"get_weather", R"({"city":"Paris","days":3})"}}))),
            "2 calls expected, got 1");
  EXPECT_EQ(reason_of(turn(paris, reply({}))), "1 call expected, got 0");
  EXPECT_EQ(reason_of(turn(paris, reply({{"search_web", R"({"query":"Paris"})"}}))),
            "expected a call to get_weather, got search_web");
  EXPECT_EQ(reason_of(turn(paris, reply({{"get_weather", "{city: Paris"}}))),
            "arguments of get_weather are not valid JSON: {city: Paris");
  // Arguments double-encoded as a JSON string are not an object.
  EXPECT_EQ(
      reason_of(turn(paris, reply({{"get_weather", R"("{\"city\":\"Paris\",\"days\":3}")"}}))),
      "arguments of get_weather are a JSON string, not an object");
  ParsedReply broken = reply({});
  broken.valid = false;
  broken.error = "tool call 1: invalid JSON at byte 3";
  EXPECT_EQ(reason_of(turn(paris, broken)),
            "unparsable output: tool call 1: invalid JSON at byte 3");
  EXPECT_EQ(
      reason_of(turn({}, reply({{"get_weather", R"({"city":"Paris"})"}, {"search_web", "{}"}}))),
      "called get_weather, search_web but the turn needs no tool call");
  // Nothing offered: any call is to an unknown function.
  EXPECT_EQ(reason_of(turn(paris, reply({{"get_weather", R"({"city":"Paris","days":3})"}}),
                           Json::array())),
            "unknown function 'get_weather'");
  EXPECT_THROW(check_turn(turn(paris, reply({}), Json::parse(R"([{"type": "function"}])"))), Error);
  EXPECT_THROW(check_turn(turn({{"get_weather", Json::array()}}, reply({}))), Error);
}

TEST(AstCheck, UnknownArgumentsFollowAdditionalProperties) {
  const Json tools = Json::parse(R"([
    {"type": "function", "function": {"name": "now"}},
    {"type": "function", "function": {"name": "log_event", "parameters": {"type": "object",
     "properties": {"msg": {"type": "string"}}, "additionalProperties": true}}}
  ])");
  // No parameters at all: the function takes no arguments, so any argument is invented.
  EXPECT_EQ(reason_of(turn({call("now", "{}")}, reply({{"now", R"({"tz":"UTC"})"}}), tools)),
            "unknown argument 'tz' in now");
  EXPECT_EQ(reason_of(turn({call("now", "{}")}, reply({{"now", "{}"}}), tools)), "");
  EXPECT_EQ(reason_of(turn({call("log_event", R"({"msg": "a", "level": 2})")},
                           reply({{"log_event", R"({"level":2,"msg":"A"})"}}), tools)),
            "");
}

TEST(AstCheck, DuplicateNamesPairTheBestWay) {
  // Same function twice: the assignment that makes both pairs pass is found although the
  // first predicted call matches the second expected one.
  const TurnResult r = check_turn(turn(
      {call("get_weather", R"({"city": "Paris"})"), call("get_weather", R"({"city": "Oslo"})")},
      reply({{"get_weather", R"({"city":"Oslo"})"}, {"get_weather", R"({"city":"Paris"})"}})));
  EXPECT_TRUE(r.ast_pass) << r.reason;
  EXPECT_EQ(r.exact_arguments, 2);
  // One of the two wrong: the failing pair is the one left over, and names still all match.
  const TurnResult w = check_turn(turn(
      {call("get_weather", R"({"city": "Paris"})"), call("get_weather", R"({"city": "Oslo"})")},
      reply({{"get_weather", R"({"city":"Rome"})"}, {"get_weather", R"({"city":"Paris"})"}})));
  EXPECT_EQ(w.reason, "argument 'city' in get_weather: expected \"Oslo\", got \"Rome\"");
  EXPECT_EQ(w.name_matches, 2);
  EXPECT_EQ(w.correct_arguments, 1);
}

TEST(AstCheck, ManyParallelCallsUseTheGreedyPairing) {
  // Nine calls of one name is past the exhaustive search (8): exact matches are paired first.
  std::vector<ExpectedCall> expected;
  std::vector<std::pair<std::string, std::string>> got;
  for (int i = 0; i < 9; ++i) {
    expected.push_back({"get_weather", Json{{"city", "c" + std::to_string(i)}}});
    got.emplace_back("get_weather", Json{{"city", "c" + std::to_string(8 - i)}}.dump());
  }
  TurnResult r = check_turn(turn(expected, reply(got)));
  EXPECT_TRUE(r.ast_pass) << r.reason;
  EXPECT_EQ(r.exact_arguments, 9);
  got[0].second = R"({"city":"nowhere"})";  // was c8
  r = check_turn(turn(expected, reply(got)));
  EXPECT_EQ(r.reason, "argument 'city' in get_weather: expected \"c8\", got \"nowhere\"");
  EXPECT_EQ(r.exact_arguments, 8);
}

// Six turns:
//   T1 call:    expect gw{Paris,3}           got gw{paris,3}       pass; exact 0, args 2/2
//   T2 call:    expect gw{Paris}, sw{news}   got sw{news}          fail (count); match 1, exact 1,
//   args 1/1 T3 call:    expect gw{Rome}              got nothing           fail, missed T4
//   no-call:                              got sw{hi}            hallucinated T5 no-call: output
//   invalid, no calls                           parse error T6 call:    expect gw{Oslo,2} got gw
//   "{bad"         fail; match 1, unparsed, args 0/2
// expected calls 1+2+1+1 = 5, predicted 1+1+1+1 = 4, name matches 1+1+1 = 3, parsed 3 of 4
TEST(ToolCallMetrics, SumsOverTurns) {
  ToolCallMetrics m(3);
  m.add(turn({call("get_weather", R"({"city": "Paris", "days": 3})")},
             reply({{"get_weather", R"({"city":"paris","days":3})"}})));
  m.add(turn(
      {call("get_weather", R"({"city": "Paris"})"), call("search_web", R"({"query": "news"})")},
      reply({{"search_web", R"({"query":"news"})"}})));
  m.add(turn({call("get_weather", R"({"city": "Rome"})")}, reply({})));
  m.add(turn({}, reply({{"search_web", R"({"query":"hi"})"}})));
  ParsedReply broken;
  broken.valid = false;
  broken.error = "tool call 1: unterminated";
  broken.truncated = true;
  m.add(turn({}, broken));
  m.add(turn({call("get_weather", R"({"city": "Oslo", "days": 2})")},
             reply({{"get_weather", "{bad"}})));

  const ToolCallReport r = m.report();
  EXPECT_EQ(r.turns, 6);
  EXPECT_EQ(r.call_turns, 4);
  EXPECT_EQ(r.no_call_turns, 2);
  EXPECT_EQ(r.expected_calls, 5);
  EXPECT_EQ(r.predicted_calls, 4);
  EXPECT_DOUBLE_EQ(*r.name_precision, 3.0 / 4);
  EXPECT_DOUBLE_EQ(*r.name_recall, 3.0 / 5);
  EXPECT_DOUBLE_EQ(*r.name_f1, 2.0 / 3);  // 2*3 / (4 + 5)
  EXPECT_DOUBLE_EQ(*r.arguments_parse_rate, 3.0 / 4);
  EXPECT_DOUBLE_EQ(*r.arguments_exact_match, 1.0 / 3);  // T2's search_web of 3 matched calls
  EXPECT_DOUBLE_EQ(*r.argument_accuracy, 3.0 / 5);      // (2 + 1 + 0) / (2 + 1 + 2)
  EXPECT_DOUBLE_EQ(*r.ast_accuracy, 1.0 / 4);           // T1 of the 4 call turns
  EXPECT_EQ(r.single_call_turns, 3);                    // T1, T3, T6 (T2 expects two)
  EXPECT_DOUBLE_EQ(*r.ast_accuracy_single, 1.0 / 3);    // T1 of those three
  EXPECT_DOUBLE_EQ(*r.hallucinated_call_rate, 1.0 / 2);
  EXPECT_DOUBLE_EQ(*r.missed_call_rate, 1.0 / 4);
  EXPECT_DOUBLE_EQ(*r.output_parse_error_rate, 1.0 / 6);
  ASSERT_EQ(r.errors.size(), 3u);  // the first 3 of 5 failing turns: T2, T3, T4
  EXPECT_EQ(r.errors[0].reason, "2 calls expected, got 1");
  EXPECT_EQ(r.errors[0].prompt, "prompt");
  EXPECT_EQ(Json::parse(r.errors[0].expected)[1]["name"], "search_web");
  EXPECT_EQ(Json::parse(r.errors[0].got)["tool_calls"][0]["function"]["name"], "search_web");
  EXPECT_EQ(r.errors[1].reason, "1 call expected, got 0");
  EXPECT_EQ(r.errors[2].expected, "(no tool call)");
  EXPECT_EQ(r.errors[2].reason, "called search_web but the turn needs no tool call");

  const Json j = to_json(r);
  for (const char* key :
       {"turns", "call_turns", "no_call_turns", "expected_calls", "predicted_calls",
        "name_precision", "name_recall", "name_f1", "arguments_parse_rate", "arguments_exact_match",
        "argument_accuracy", "ast_accuracy", "ast_accuracy_single", "single_call_turns",
        "hallucinated_call_rate", "missed_call_rate", "output_parse_error_rate", "errors"}) {
    EXPECT_TRUE(j.contains(key)) << key;
  }
  EXPECT_DOUBLE_EQ(j["ast_accuracy"].get<double>(), 0.25);
  EXPECT_EQ(j["errors"][1]["reason"], "1 call expected, got 0");
  expect_no_nan(j);
}

TEST(ToolCallMetrics, EmptyAndOneSidedInputsGiveNullNotNan) {
  const Json empty = to_json(ToolCallMetrics().report());
  expect_no_nan(empty);
  EXPECT_EQ(empty["turns"], 0);
  for (const char* key :
       {"name_precision", "name_recall", "name_f1", "arguments_parse_rate", "arguments_exact_match",
        "argument_accuracy", "ast_accuracy", "ast_accuracy_single", "hallucinated_call_rate",
        "missed_call_rate", "output_parse_error_rate"}) {
    EXPECT_TRUE(empty[key].is_null()) << key;
  }
  // Only no-call turns answered with text: call-turn rates null, the rest defined.
  ToolCallMetrics m;
  m.add(turn({}, reply({})));
  const Json j = to_json(m.report());
  expect_no_nan(j);
  EXPECT_TRUE(j["ast_accuracy"].is_null());
  EXPECT_TRUE(j["missed_call_rate"].is_null());
  EXPECT_TRUE(j["name_precision"].is_null());
  EXPECT_EQ(j["hallucinated_call_rate"], 0.0);
  EXPECT_EQ(j["output_parse_error_rate"], 0.0);
  EXPECT_EQ(j["errors"], Json::array());
}

}  // namespace
}  // namespace tsft
