#include "model/weights.h"

namespace tsft {

ModelWeights ModelWeights::allocate(const ModelConfig& cfg) {
  const int64_t C = cfg.hidden, Q = cfg.q_dim(), KV = cfg.kv_dim(), F = cfg.intermediate,
                V = cfg.vocab, D = cfg.head_dim;
  // Sum of all tensor sizes plus alignment slack per tensor.
  const int64_t n_tensors = 4 + cfg.n_layers * 14;
  const size_t bytes = static_cast<size_t>(cfg.num_params()) * 4 + n_tensors * 64 + 64;
  ModelWeights w;
  w.arena = Arena(bytes);
  auto f32 = [&](Shape s) { return w.arena.alloc_tensor(DType::kF32, s); };
  w.embed = f32({V, C});
  w.final_norm = f32({C});
  w.lm_head = cfg.tie_embeddings ? w.embed : f32({V, C});
  w.layers.resize(cfg.n_layers);
  for (auto& l : w.layers) {
    l.attn_norm = f32({C});
    l.wq = f32({Q, C});
    l.wk = f32({KV, C});
    l.wv = f32({KV, C});
    if (cfg.qkv_bias) {
      l.bq = f32({Q});
      l.bk = f32({KV});
      l.bv = f32({KV});
    }
    if (cfg.qk_norm) {
      l.q_norm = f32({D});
      l.k_norm = f32({D});
    }
    l.wo = f32({C, Q});
    l.ffn_norm = f32({C});
    l.w_gate = f32({F, C});
    l.w_up = f32({F, C});
    l.w_down = f32({C, F});
  }
  return w;
}

}  // namespace tsft
