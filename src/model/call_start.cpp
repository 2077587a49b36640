#include "model/call_start.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "core/error.h"

namespace tsft {

CallStart::CallStart(const TokenTable& table, std::string marker) : marker_(std::move(marker)) {
  TSFT_CHECK(!marker_.empty(), "a call marker is needed");
  for (int32_t id = 0; id < table.size(); ++id) {
    const std::string& b = table.bytes(id);
    const size_t text = b.find_first_not_of(" \t\n\r");
    if (text == std::string::npos) continue;  // empty, special or only whitespace
    const std::string_view rest(b.data() + text, b.size() - text);
    if (marker_.starts_with(rest) || rest.starts_with(marker_)) ids_.push_back(id);
  }
}

double CallStart::probability(const float* logits, int64_t V) const {
  float top = logits[0];
  for (int64_t i = 1; i < V; ++i) top = std::max(top, logits[i]);
  double all = 0.0, call = 0.0;
  for (int64_t i = 0; i < V; ++i) all += std::exp(static_cast<double>(logits[i] - top));
  for (int32_t id : ids_)
    if (id < V) call += std::exp(static_cast<double>(logits[id] - top));
  return call / all;
}

CallGate::CallGate(const TokenTable& table, const ToolCallSyntax& syntax, double at)
    : start(table, syntax.open.empty() ? "{" : syntax.open),
      threshold(at),
      text_only(std::make_shared<const ToolCallGrammar>(
          nlohmann::ordered_json::array(), ToolChoiceSpec{ToolChoiceMode::kNone, ""}, syntax)) {
  if (!(threshold >= 0 && threshold <= 1))
    fail("call gate threshold must be in [0, 1], got ", threshold);
}

bool CallGate::withhold(float* logits, int64_t V, double* probability) const {
  *probability = start.probability(logits, V);
  if (*probability >= threshold) return false;
  // A reply begun with "<" or "<tool" would go on writing what looks like a call (the grammar
  // refuses only the marker itself: "<tool_call]" is text), so it must begin otherwise.
  for (int32_t id : start.ids())
    if (id < V) logits[id] = -std::numeric_limits<float>::infinity();
  return true;
}

}  // namespace tsft
