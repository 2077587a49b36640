// Perplexity of a model on a dataset: each example's loss tokens (those training would learn)
// scored by batched forwards over whole sequences, summed into a PerplexityAccumulator.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "data/sft_example.h"
#include "eval/perplexity.h"

namespace tsft {

class Transformer;

// Sequences longer than the model's context are an error (load them with max_seq_len set).
PerplexityAccumulator run_perplexity(const Transformer& model,
                                     const std::vector<SftExample>& examples,
                                     int64_t batch_tokens,
                                     const std::function<void(int64_t, int64_t)>& on_progress);

}  // namespace tsft
