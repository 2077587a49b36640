// Whether a reply opens with a tool call, as the model sees it: the probability its first token
// starts the call marker. What gates a tool call on the model's confidence (eval's call gate).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "model/constrained_sampling.h"

namespace tsft {

class CallStart {
 public:
  // marker: how a call opens ("<tool_call>"; "{" for Llama 3's JSON calls). The tokens that start
  // it are those whose bytes, after any leading whitespace, are a non-empty prefix of the marker
  // or begin with it (for SmolLM2: "<", "<t", "<tool", ...). A text reply that itself begins with
  // such a token ("<b>") counts as a call start: rare in the replies this is used on.
  CallStart(const TokenTable& table, std::string marker);

  // The softmax (temperature 1) mass of those tokens under `logits` (V entries; ids past the
  // table are never call starts).
  double probability(const float* logits, int64_t V) const;

  const std::vector<int32_t>& ids() const { return ids_; }
  const std::string& marker() const { return marker_; }

 private:
  std::string marker_;
  std::vector<int32_t> ids_;
};

}  // namespace tsft
