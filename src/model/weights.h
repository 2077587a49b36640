// The parameters of a model in float32, PyTorch shapes and Hugging Face meaning, held in one
// arena. Loaders in io/ fill them (dequantizing GGUF blocks and undoing converter permutations).
#pragma once

#include <vector>

#include "core/tensor.h"
#include "model/config.h"

namespace tsft {

struct LayerWeights {
  Tensor attn_norm;           // (C)
  Tensor wq, wk, wv, wo;      // (Hq*D, C), (Hkv*D, C), (Hkv*D, C), (C, Hq*D)
  Tensor bq, bk, bv;          // (Hq*D), (Hkv*D), (Hkv*D); only when config.qkv_bias
  Tensor q_norm, k_norm;      // (D); only when config.qk_norm
  Tensor ffn_norm;            // (C)
  Tensor w_gate, w_up, w_down;  // (F, C), (F, C), (C, F)
};

struct ModelWeights {
  Arena arena;
  Tensor embed;       // (V, C)
  Tensor final_norm;  // (C)
  Tensor lm_head;     // (V, C); the same memory as embed when tied
  std::vector<LayerWeights> layers;

  // Allocates every tensor for `cfg` (uninitialised) in one arena.
  static ModelWeights allocate(const ModelConfig& cfg);
  // Visits (hf_name, tensor) for every parameter, e.g. "model.layers.0.self_attn.q_proj.weight".
  template <typename F>
  void for_each(const ModelConfig& cfg, F&& f);
};

template <typename F>
void ModelWeights::for_each(const ModelConfig& cfg, F&& f) {
  f(std::string("model.embed_tokens.weight"), embed);
  for (size_t i = 0; i < layers.size(); ++i) {
    LayerWeights& l = layers[i];
    const std::string p = "model.layers." + std::to_string(i) + ".";
    f(p + "input_layernorm.weight", l.attn_norm);
    f(p + "self_attn.q_proj.weight", l.wq);
    f(p + "self_attn.k_proj.weight", l.wk);
    f(p + "self_attn.v_proj.weight", l.wv);
    if (cfg.qkv_bias) {
      f(p + "self_attn.q_proj.bias", l.bq);
      f(p + "self_attn.k_proj.bias", l.bk);
      f(p + "self_attn.v_proj.bias", l.bv);
    }
    if (cfg.qk_norm) {
      f(p + "self_attn.q_norm.weight", l.q_norm);
      f(p + "self_attn.k_norm.weight", l.k_norm);
    }
    f(p + "self_attn.o_proj.weight", l.wo);
    f(p + "post_attention_layernorm.weight", l.ffn_norm);
    f(p + "mlp.gate_proj.weight", l.w_gate);
    f(p + "mlp.up_proj.weight", l.w_up);
    f(p + "mlp.down_proj.weight", l.w_down);
  }
  f(std::string("model.norm.weight"), final_norm);
  if (!cfg.tie_embeddings) f(std::string("lm_head.weight"), lm_head);
}

}  // namespace tsft
