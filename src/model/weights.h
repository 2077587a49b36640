// The parameters of a model in float32, PyTorch shapes and Hugging Face meaning, held in one
// arena. Loaders in io/ fill them (dequantizing GGUF blocks and undoing converter permutations).
#pragma once

#include <vector>

#include "core/tensor.h"
#include "model/config.h"

namespace tsft {

// Each matrix may also keep its stored quantized blocks (rows in Hugging Face order), used for
// matrix-vector products when decoding; `dtype` is F32 and `data` null when there are none.
struct LayerWeights {
  Tensor attn_norm;           // (C)
  Tensor wq, wk, wv, wo;      // (Hq*D, C), (Hkv*D, C), (Hkv*D, C), (C, Hq*D)
  Tensor bq, bk, bv;          // (Hq*D), (Hkv*D), (Hkv*D); only when config.qkv_bias
  Tensor q_norm, k_norm;      // (D); only when config.qk_norm
  Tensor ffn_norm;            // (C)
  Tensor w_gate, w_up, w_down;  // (F, C), (F, C), (C, F)
  Tensor wq_q, wk_q, wv_q, wo_q, w_gate_q, w_up_q, w_down_q;  // quantized copies, or empty
};

struct ModelWeights {
  Arena arena;
  Tensor embed;       // (V, C)
  Tensor final_norm;  // (C)
  Tensor lm_head;     // (V, C); the same memory as embed when tied
  Tensor lm_head_q;   // quantized copy of lm_head, or empty
  std::vector<LayerWeights> layers;
  std::vector<std::vector<uint8_t>> quant_store;  // owns the quantized copies

  // Allocates every tensor for `cfg` (uninitialised) in one arena.
  static ModelWeights allocate(const ModelConfig& cfg);
  // Visits (hf_name, tensor, quant_slot) for every parameter, e.g.
  // "model.layers.0.self_attn.q_proj.weight"; quant_slot is where a quantized copy of a matrix
  // used as a linear layer may be kept (null for norms, biases and an untied input embedding).
  template <typename F>
  void for_each(const ModelConfig& cfg, F&& f);
};

// LoRA on a quantized base: keeps only the stored quantized blocks of the block linears that
// have them (their float32 tensors keep the shape but get data = nullptr; users dequantize on
// the fly) and copies everything else into a new, smaller arena.
ModelWeights drop_f32_block_linears(ModelWeights&& w, const ModelConfig& cfg);
// Bytes held: the arena in use plus the quantized copies.
size_t weights_bytes(const ModelWeights& w);

template <typename F>
void ModelWeights::for_each(const ModelConfig& cfg, F&& f) {
  f(std::string("model.embed_tokens.weight"), embed, cfg.tie_embeddings ? &lm_head_q : nullptr);
  for (size_t i = 0; i < layers.size(); ++i) {
    LayerWeights& l = layers[i];
    const std::string p = "model.layers." + std::to_string(i) + ".";
    f(p + "input_layernorm.weight", l.attn_norm, nullptr);
    f(p + "self_attn.q_proj.weight", l.wq, &l.wq_q);
    f(p + "self_attn.k_proj.weight", l.wk, &l.wk_q);
    f(p + "self_attn.v_proj.weight", l.wv, &l.wv_q);
    if (cfg.qkv_bias) {
      f(p + "self_attn.q_proj.bias", l.bq, nullptr);
      f(p + "self_attn.k_proj.bias", l.bk, nullptr);
      f(p + "self_attn.v_proj.bias", l.bv, nullptr);
    }
    if (cfg.qk_norm) {
      f(p + "self_attn.q_norm.weight", l.q_norm, nullptr);
      f(p + "self_attn.k_norm.weight", l.k_norm, nullptr);
    }
    f(p + "self_attn.o_proj.weight", l.wo, &l.wo_q);
    f(p + "post_attention_layernorm.weight", l.ffn_norm, nullptr);
    f(p + "mlp.gate_proj.weight", l.w_gate, &l.w_gate_q);
    f(p + "mlp.up_proj.weight", l.w_up, &l.w_up_q);
    f(p + "mlp.down_proj.weight", l.w_down, &l.w_down_q);
  }
  f(std::string("model.norm.weight"), final_norm, nullptr);
  if (!cfg.tie_embeddings) f(std::string("lm_head.weight"), lm_head, &lm_head_q);
}

}  // namespace tsft
