// Autoregressive generation over a Transformer and its tokenizer: prompt processing, then
// decoding until EOS, a stop string or max_new_tokens.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "model/constrained_sampling.h"
#include "model/sampler.h"
#include "model/transformer.h"
#include "tokenizer/tokenizer.h"

namespace tsft {

class CallStart;  // model/call_start.h
struct CallGate;  // model/call_start.h

struct GenerationConfig {
  int64_t max_new_tokens = 256;
  SamplingParams sampling;
  std::vector<std::string> stop;   // stop strings: output ends before the first one
  std::vector<int32_t> eos_ids;    // tokens that end generation (not included in the text)
  bool stop_at_eos = true;
  // Set: schema-constrained decoding (model/constrained_sampling.h), the reply being plain text
  // or calls that validate against the grammar's tools. The token table is built from the
  // tokenizer and eos_ids when not given (share one across many generations).
  std::shared_ptr<const ToolCallGrammar> tool_grammar;
  std::shared_ptr<const TokenTable> token_table;
  // Set: the result's call_probability is the probability that the first token starts a call.
  std::shared_ptr<const CallStart> call_start;
  // Set: the call gate (model/call_start.h). A reply whose first-token call probability is below
  // its threshold is decoded as text only (the result's calls_withheld); the result's
  // call_probability is then set too. Needs token_table.
  std::shared_ptr<const CallGate> call_gate;
};

struct GenerationResult {
  std::vector<int32_t> tokens;  // generated ids (an ending EOS id included)
  std::string text;             // decoded, special tokens skipped, cut at a stop string
  std::string finish_reason;    // "eos", "stop" or "length"
  int64_t prompt_tokens = 0;
  double prompt_seconds = 0.0;
  double decode_seconds = 0.0;
  ConstraintStats constraint;  // with a tool grammar
  double call_probability = -1.0;  // with gen.call_start or call_gate; -1 otherwise
  bool calls_withheld = false;     // the call gate made this reply text only
};

// on_text, when set, receives the text as it becomes final (held back while it could still be
// the start of a stop string).
GenerationResult generate(Transformer& model, const Tokenizer& tok,
                          const std::vector<int32_t>& prompt, const GenerationConfig& gen,
                          const std::function<void(const std::string&)>& on_text = nullptr);

// The same, continuing a cache that already holds earlier tokens (e.g. a prompt prefix shared by
// many requests; truncate the cache back to it between them): `prompt` (non-empty) is the rest.
// The cache's capacity bounds prompt + generated tokens.
GenerationResult generate_after(Transformer& model, const Tokenizer& tok, KvCache& cache,
                                const std::vector<int32_t>& prompt, const GenerationConfig& gen,
                                const std::function<void(const std::string&)>& on_text = nullptr);

}  // namespace tsft
