#include "eval/call_gate.h"

namespace tsft {

namespace {

using Json = nlohmann::ordered_json;

std::optional<double> ratio(int64_t a, int64_t b) {
  if (b == 0) return std::nullopt;
  return static_cast<double>(a) / static_cast<double>(b);
}

Json or_null(const std::optional<double>& v) {
  return v ? Json(*v) : Json(nullptr);
}

}  // namespace

CallGateRates call_gate_rates(std::span<const ToolCallReport::GateTurn> turns, double threshold) {
  int64_t single = 0, single_pass = 0, no_call = 0, hallucinated = 0, call = 0, missed = 0;
  for (const auto& t : turns) {
    const bool calls = t.called && t.call_probability >= threshold;
    if (t.call_turn) {
      ++call;
      missed += calls ? 0 : 1;
      if (t.single) {
        ++single;
        single_pass += calls && t.ast_pass ? 1 : 0;
      }
    } else {
      ++no_call;
      hallucinated += calls ? 1 : 0;
    }
  }
  return {threshold, ratio(single_pass, single), ratio(hallucinated, no_call), ratio(missed, call)};
}

CallGateReport call_gate(std::span<const ToolCallReport::GateTurn> turns,
                         const GateOptions& options) {
  std::vector<GateExample> examples;
  for (const auto& t : turns)
    if (t.called) examples.push_back({t.call_probability, t.call_turn});
  CallGateReport r;
  r.gate = confidence_gate(examples, options);
  for (const GatePoint& p : r.gate.curve) r.rates.push_back(call_gate_rates(turns, p.threshold));
  if (r.gate.operating_point)
    r.at_operating_point = call_gate_rates(turns, r.gate.operating_point->threshold);
  if (r.gate.fixed) r.at_fixed = call_gate_rates(turns, r.gate.fixed->threshold);
  return r;
}

nlohmann::ordered_json to_json(const CallGateRates& rates) {
  return Json{{"threshold", rates.threshold},
              {"ast_accuracy_single", or_null(rates.ast_accuracy_single)},
              {"hallucinated_call_rate", or_null(rates.hallucinated_call_rate)},
              {"missed_call_rate", or_null(rates.missed_call_rate)}};
}

nlohmann::ordered_json to_json(const CallGateReport& r) {
  Json j = to_json(r.gate);
  Json curve = std::move(j["curve"]);
  j.erase("curve");
  j["operating_point_rates"] =
      r.at_operating_point ? to_json(*r.at_operating_point) : Json(nullptr);
  j["fixed_threshold_rates"] = r.at_fixed ? to_json(*r.at_fixed) : Json(nullptr);
  Json rates = Json::array();
  for (const CallGateRates& x : r.rates) rates.push_back(to_json(x));
  j["rates"] = std::move(rates);
  j["curve"] = std::move(curve);  // last, as in the gate's own object
  return j;
}

}  // namespace tsft
