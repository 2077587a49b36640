// LoRA adapters (PEFT's convention): a target linear layer y = x W^T becomes
// y = x W^T + (alpha / r) * dropout(x) A^T B^T with A (r, in) and B (out, r); W stays frozen.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "core/rng.h"
#include "core/tensor.h"
#include "model/config.h"

namespace tsft {

// The seven linear layers of a Llama/Qwen block, by their Hugging Face module names.
enum class LoraTarget { kQ, kK, kV, kO, kGate, kUp, kDown };
constexpr int kNumLoraTargets = 7;
const char* lora_target_name(LoraTarget t);      // "q_proj", ..., "down_proj"
const char* lora_target_parent(LoraTarget t);    // "self_attn" or "mlp"
// Parses a module name ("q_proj"); throws tsft::Error listing the valid names otherwise.
LoraTarget lora_target_from_name(const std::string& name);
// (out, in) of the target's base weight for `cfg`.
std::pair<int64_t, int64_t> lora_target_shape(const ModelConfig& cfg, LoraTarget t);

struct LoraConfig {
  int64_t rank = 16;
  float alpha = 32.0f;
  float dropout = 0.0f;
  std::vector<std::string> target_modules = {"q_proj", "k_proj", "v_proj", "o_proj",
                                             "gate_proj", "up_proj", "down_proj"};
  float scale() const { return alpha / static_cast<float>(rank); }
};

struct LoraPair {
  bool enabled = false;
  Tensor a;  // (r, in)
  Tensor b;  // (out, r)
};

struct LoraWeights {
  LoraConfig config;
  Arena arena;
  std::vector<std::array<LoraPair, kNumLoraTargets>> layers;  // [layer][target]

  // Allocates A/B for every enabled target and initialises them as PEFT does: A from
  // kaiming_uniform(a=sqrt(5)) (uniform in +-1/sqrt(in)), B zero.
  static LoraWeights create(const ModelConfig& cfg, const LoraConfig& lc, Rng& rng);
  // Allocates without initialising (for loading).
  static LoraWeights allocate(const ModelConfig& cfg, const LoraConfig& lc);
  // PEFT's key for a pair's matrix, e.g.
  // "base_model.model.model.layers.3.self_attn.q_proj.lora_A.weight".
  static std::string peft_key(int64_t layer, LoraTarget t, bool is_b);
  // Visits (peft_key, tensor) for every enabled A and B, in layer then target order.
  template <typename F>
  void for_each(F&& f) {
    for (size_t l = 0; l < layers.size(); ++l)
      for (int t = 0; t < kNumLoraTargets; ++t)
        if (layers[l][t].enabled) {
          f(peft_key(l, static_cast<LoraTarget>(t), false), layers[l][t].a);
          f(peft_key(l, static_cast<LoraTarget>(t), true), layers[l][t].b);
        }
  }
};

}  // namespace tsft
