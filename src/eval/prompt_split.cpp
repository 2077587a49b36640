#include "eval/prompt_split.h"

#include <algorithm>

#include "model/kv_cache.h"
#include "model/token_prefix.h"
#include "model/transformer.h"

namespace tsft {

std::pair<size_t, size_t> last_loss_run(const SftExample& ex) {
  size_t end = ex.loss_mask.size();
  while (end > 0 && !ex.loss_mask[end - 1]) --end;
  size_t begin = end;
  while (begin > 0 && ex.loss_mask[begin - 1]) --begin;
  return {begin, end};
}

std::vector<int32_t> shared_prompt_prefix(const std::vector<const std::vector<int32_t>*>& prompts) {
  if (prompts.empty()) return {};
  std::vector<int32_t> prefix = *prompts[0];
  for (const std::vector<int32_t>* p : prompts) {
    // at most all but the prompt's last token: that one's logits are what each row needs
    const int64_t limit = std::max<int64_t>(static_cast<int64_t>(p->size()) - 1, 0);
    prefix.resize(static_cast<size_t>(common_prefix(
        prefix.data(), static_cast<int64_t>(prefix.size()), p->data(), limit)));
  }
  return prefix;
}

void prefill_prefix(Transformer& model, const std::vector<int32_t>& prefix, KvCache& cache) {
  if (prefix.empty()) return;
  std::vector<float> logits(static_cast<size_t>(model.config().vocab));
  model.forward(prefix.data(), static_cast<int64_t>(prefix.size()), cache, logits.data(), 1);
}

}  // namespace tsft
