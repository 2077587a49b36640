#include "eval/call_gate.h"

#include <algorithm>

#include "eval/rate.h"

namespace tsft {

namespace {

using Json = nlohmann::ordered_json;
using GateTurn = ToolCallReport::GateTurn;

// The rates' numerators and denominators: every turn is counted once by total(), and each call
// the gate keeps once more by keep().
struct GateCounts {
  int64_t single = 0, single_pass = 0, no_call = 0, hallucinated = 0, call = 0, kept = 0;

  void total(const GateTurn& t) {
    if (t.call_turn) {
      ++call;
      single += t.single ? 1 : 0;
    } else {
      ++no_call;
    }
  }
  void keep(const GateTurn& t) {
    if (t.call_turn) {
      ++kept;
      single_pass += t.single && t.ast_pass ? 1 : 0;
    } else {
      ++hallucinated;
    }
  }
  CallGateRates at(double threshold) const {
    return {threshold, ratio(single_pass, single), ratio(hallucinated, no_call),
            ratio(call - kept, call)};
  }
};

bool kept_at(const GateTurn& t, double threshold) {
  return t.called && t.call_probability >= threshold;
}

}  // namespace

CallGateRates call_gate_rates(std::span<const GateTurn> turns, double threshold) {
  GateCounts c;
  for (const GateTurn& t : turns) {
    c.total(t);
    if (kept_at(t, threshold)) c.keep(t);
  }
  return c.at(threshold);
}

CallGateReport call_gate(std::span<const GateTurn> turns, const GateOptions& options) {
  std::vector<GateExample> examples;
  std::vector<const GateTurn*> called;
  GateCounts c;
  for (const GateTurn& t : turns) {
    c.total(t);
    if (!t.called) continue;
    examples.push_back({t.call_probability, t.call_turn});
    called.push_back(&t);
  }
  CallGateReport r;
  r.gate = confidence_gate(examples, options);  // also checks every probability lies in [0, 1]
  // One sweep: the curve's thresholds descend, so each point keeps the calls of the one before
  // it and those whose probability reaches its lower threshold.
  std::sort(called.begin(), called.end(), [](const GateTurn* a, const GateTurn* b) {
    return a->call_probability > b->call_probability;
  });
  size_t next = 0;
  for (const GatePoint& p : r.gate.curve) {
    while (next < called.size() && kept_at(*called[next], p.threshold)) c.keep(*called[next++]);
    r.rates.push_back(c.at(p.threshold));
  }
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
