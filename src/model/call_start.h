// Whether a reply opens with a tool call, as the model sees it: the probability its first token
// starts the call marker (eval's call gate measures it), and the call gate that acts on it while
// decoding: below a threshold the reply is written as text, never as a call.
#pragma once

#include <cstdint>
#include <memory>
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

// The call gate at decoding time: when the call probability of a reply's first token is below
// `threshold`, the first token is chosen among the others and the whole reply is decoded under
// `text_only` (tool_choice "none" in the call syntax: text that never opens a call), so the
// model answers, or asks for what is missing, instead of calling. Immutable; one per server or
// evaluation, shared by every reply.
struct CallGate {
  // syntax: how calls open (Hermes "<tool_call>", Llama 3 JSON "{"); threshold in [0, 1].
  CallGate(const TokenTable& table, const ToolCallSyntax& syntax, double threshold);

  // Applied to the logits of a reply's first token: sets *probability to the call probability
  // and, when it is below the threshold, masks the call-start tokens (-inf) and returns true:
  // the caller then decodes the reply under text_only.
  bool withhold(float* logits, int64_t V, double* probability) const;

  CallStart start;
  double threshold;
  std::shared_ptr<const ToolCallGrammar> text_only;
};

}  // namespace tsft
