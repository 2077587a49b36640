#include "eval/perplexity_eval.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"
#include "model/transformer.h"
#include "model/tree_forward.h"

namespace tsft {

PerplexityAccumulator run_perplexity(const Transformer& model,
                                     const std::vector<SftExample>& examples,
                                     int64_t batch_tokens,
                                     const std::function<void(int64_t, int64_t)>& on_progress) {
  PerplexityAccumulator acc;
  const int64_t V = model.config().vocab;
  const KvCache no_prefix = model.make_cache(1);
  TreeWorkspace ws;
  TreeBatch batch;
  std::vector<int32_t> targets;  // per logit row, the token it must predict
  std::vector<float> logits;
  const int64_t n = static_cast<int64_t>(examples.size());
  int64_t done = 0, pending = 0;
  auto flush = [&] {
    if (batch.tokens.empty()) return;
    logits.resize(batch.logit_rows.size() * static_cast<size_t>(V));
    if (!batch.logit_rows.empty())
      tree_forward(model, no_prefix, 0, batch, logits.data(), ws);
    const int64_t rows = static_cast<int64_t>(batch.logit_rows.size());
    double nll = 0;
#pragma omp parallel for schedule(static) reduction(+ : nll)
    for (int64_t r = 0; r < rows; ++r) {
      const float* row = logits.data() + r * V;
      nll += logsumexp(row, V) - row[targets[static_cast<size_t>(r)]];
    }
    acc.add(nll, static_cast<int64_t>(targets.size()));
    batch = TreeBatch{};
    targets.clear();
    done += pending;
    pending = 0;
    if (on_progress) on_progress(done, n);
  };
  for (const SftExample& ex : examples) {
    const int64_t T = static_cast<int64_t>(ex.ids.size());
    if (batch_tokens > 0 && !batch.tokens.empty() &&
        static_cast<int64_t>(batch.tokens.size()) + T > batch_tokens)
      flush();
    const int32_t base = static_cast<int32_t>(batch.tokens.size());
    for (int64_t t = 0; t < T; ++t) {
      batch.tokens.push_back(ex.ids[static_cast<size_t>(t)]);
      batch.positions.push_back(static_cast<int32_t>(t));
      batch.parent.push_back(t == 0 ? -1 : base + static_cast<int32_t>(t) - 1);
      if (t + 1 < T && ex.loss_mask[static_cast<size_t>(t) + 1]) {
        batch.logit_rows.push_back(base + static_cast<int32_t>(t));
        targets.push_back(ex.ids[static_cast<size_t>(t) + 1]);
      }
    }
    ++pending;
  }
  flush();
  return acc;
}

}  // namespace tsft
