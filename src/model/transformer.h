// The decoder-only transformer forward pass on the CPU (inference): embeddings, N blocks of
// attention + SwiGLU MLP with pre-RMSNorm, final norm and LM head, over a KV cache.
#pragma once

#include <cstdint>
#include <vector>

#include "model/config.h"
#include "model/kv_cache.h"
#include "model/weights.h"

namespace tsft {

class Transformer {
 public:
  Transformer(ModelConfig cfg, ModelWeights weights);

  const ModelConfig& config() const { return cfg_; }
  const ModelWeights& weights() const { return w_; }
  // For training, which updates the float32 weights in place; the quantized copies used for
  // decoding then go stale, so trained weights are decoded from the model the run writes out.
  ModelWeights& mutable_weights() { return w_; }

  // Runs T tokens at positions cache.size() .. cache.size()+T-1 and appends their keys/values.
  // Writes logits (n_logits, V) for the last n_logits of the T positions (1 = next token only,
  // T = every position). Throws tsft::Error if a token id is out of range or the cache is full.
  void forward(const int32_t* tokens, int64_t T, KvCache& cache, float* logits,
               int64_t n_logits = 1);

  KvCache make_cache(int64_t capacity) const { return KvCache(cfg_, capacity); }

  // Grows the vocabulary to new_vocab rows (new tokens start at the mean embedding; see
  // model/vocab_resize.h). Existing caches become invalid.
  void grow_vocab(int64_t new_vocab);

 private:
  void ensure_workspace(int64_t T, int64_t S);

  ModelConfig cfg_;
  ModelWeights w_;
  std::vector<float> inv_freq_;  // (D/2)
  // Workspace, grown on demand and reused between calls.
  std::vector<float> x_, xn_, q_, att_, gate_, up_, cos_, sin_, scratch_;
  std::vector<int32_t> pos_;
};

}  // namespace tsft
