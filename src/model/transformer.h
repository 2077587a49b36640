// The decoder-only transformer forward pass on the CPU (inference): embeddings, N blocks of
// attention + SwiGLU MLP with pre-RMSNorm, final norm and LM head, over a KV cache.
#pragma once

#include <cstdint>
#include <vector>

#include "model/config.h"
#include "model/kv_cache.h"
#include "model/lora.h"
#include "model/weights.h"

namespace tsft {

// One sequence's share of a batched forward: its new tokens (a prompt chunk, or the one token just
// sampled), its own cache, and the LoRA adapter added on top of the shared base weights (null for
// none).
struct BatchSeq {
  const int32_t* tokens = nullptr;
  int64_t n = 0;
  KvCache* cache = nullptr;
  const LoraWeights* adapter = nullptr;
};

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

  // Several sequences in one pass, as a server's continuous batching needs: the linear layers see
  // all their rows together (one GEMM per weight), attention runs per sequence over its own cache,
  // and each sequence's rows get its own adapter's low-rank update (unmerged, so requests for
  // different adapters share the base). Writes logits (seqs.size(), V), one row per sequence for
  // its last new token. Same checks as forward, naming the sequence.
  void forward_batch(const std::vector<BatchSeq>& seqs, float* logits);

  KvCache make_cache(int64_t capacity) const { return KvCache(cfg_, capacity); }

  // Grows the vocabulary to new_vocab rows (new tokens start at the mean embedding; see
  // model/vocab_resize.h). Existing caches become invalid.
  void grow_vocab(int64_t new_vocab);

 private:
  void ensure_workspace(int64_t T, int64_t scratch_floats);
  // The blocks over every row of `seqs` (rows in order); leaves the final hidden states in x_ and
  // advances each cache.
  void run_blocks(const std::vector<BatchSeq>& seqs);
  // out (rows of seqs) += scale * in A^T B^T for each sequence with an adapter on `target`.
  void add_lora(float* out, const float* in, const std::vector<BatchSeq>& seqs, int64_t layer,
                LoraTarget target, int64_t K, int64_t N);

  ModelConfig cfg_;
  ModelWeights w_;
  std::vector<float> inv_freq_;  // (D/2)
  // Workspace, grown on demand and reused between calls.
  std::vector<float> x_, xn_, q_, k_, v_, att_, gate_, up_, cos_, sin_, scratch_, lora_r_, lora_out_;
  std::vector<int32_t> pos_;
  std::vector<int64_t> first_row_;  // run_blocks: each sequence's first row
};

}  // namespace tsft
