// The shape and numerics of one decoder-only transformer, whatever file it came from.
// Filled by the loaders in io/ (config.json or GGUF metadata) and checked by validate().
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "backend/cpu/rope.h"
#include "model/arch.h"

namespace tsft {

struct ModelConfig {
  Arch arch = Arch::kLlama;
  int64_t hidden = 0;        // C
  int64_t n_layers = 0;      // L
  int64_t n_heads = 0;       // Hq
  int64_t n_kv_heads = 0;    // Hkv
  int64_t head_dim = 0;      // D
  int64_t intermediate = 0;  // F
  int64_t vocab = 0;         // V
  int64_t max_positions = 0;  // 0 when the source does not say; see context_length()
  float rms_eps = 1e-6f;
  float rope_theta = 10000.0f;
  RopeScaling rope_scaling;
  bool tie_embeddings = false;
  bool qkv_bias = false;  // qwen2
  bool qk_norm = false;   // qwen3
  int32_t bos_id = -1;
  std::vector<int32_t> eos_ids;  // any of these ends generation

  // Throws tsft::Error naming `source` and the field if the shape is inconsistent.
  void validate(const std::string& source) const;
  int64_t q_dim() const { return n_heads * head_dim; }
  int64_t kv_dim() const { return n_kv_heads * head_dim; }
  // The longest sequence to run: max_positions, or 4096 when the source does not give one.
  int64_t context_length() const { return max_positions > 0 ? max_positions : 4096; }
  int64_t num_params() const;
};

}  // namespace tsft
