// Splitting what training renders into a prompt and its answer, and the token prefix a set of
// prompts shares (computed once, then reused from a KV cache), for the evaluation drivers.
#pragma once

#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

#include "data/sft_example.h"

namespace tsft {

class KvCache;
class Transformer;

// [begin, end) of the example's last run of loss tokens: the reply being evaluated; the tokens
// before `begin` are its prompt. begin == end when there is no loss token.
std::pair<size_t, size_t> last_loss_run(const SftExample& ex);

// The longest token prefix all prompts start with, cut so that every prompt keeps at least one
// token of its own (that token's logits give the answer's first token). Empty for no prompts.
std::vector<int32_t> shared_prompt_prefix(const std::vector<const std::vector<int32_t>*>& prompts);

// Runs the shared prefix through the model into positions [0, prefix.size()) of `cache`, once;
// each prompt then truncates the cache back to that length and continues from it. Nothing for
// an empty prefix.
void prefill_prefix(Transformer& model, const std::vector<int32_t>& prefix, KvCache& cache);

}  // namespace tsft
