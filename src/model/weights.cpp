#include "model/weights.h"

#include <cstring>

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

ModelWeights drop_f32_block_linears(ModelWeights&& w, const ModelConfig& cfg) {
  ModelWeights nw;
  nw.embed = w.embed;
  nw.final_norm = w.final_norm;
  nw.lm_head = w.lm_head;
  nw.lm_head_q = w.lm_head_q;
  nw.layers = w.layers;
  nw.quant_store = std::move(w.quant_store);  // the blocks stay where they are
  std::vector<Tensor*> keep;
  size_t bytes = 64;
  nw.for_each(cfg, [&](const std::string& name, Tensor& t, Tensor* quant) {
    const bool block_linear = name.rfind("model.layers.", 0) == 0 && quant != nullptr;
    if (block_linear && quant->data != nullptr) {
      t.data = nullptr;
    } else {
      keep.push_back(&t);
      bytes += t.nbytes() + 64;
    }
  });
  nw.arena = Arena(bytes);
  for (Tensor* t : keep) {
    void* dst = nw.arena.alloc(t->nbytes());
    std::memcpy(dst, t->data, t->nbytes());
    t->data = dst;
  }
  if (cfg.tie_embeddings) nw.lm_head = nw.embed;
  return nw;
}

size_t weights_bytes(const ModelWeights& w) {
  size_t n = w.arena.used();
  for (const auto& q : w.quant_store) n += q.size();
  return n;
}

}  // namespace tsft
