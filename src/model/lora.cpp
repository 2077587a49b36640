#include "model/lora.h"

#include <cmath>

#include "core/error.h"

namespace tsft {

namespace {
constexpr const char* kNames[kNumLoraTargets] = {"q_proj",    "k_proj",  "v_proj",   "o_proj",
                                                 "gate_proj", "up_proj", "down_proj"};
}  // namespace

const char* lora_target_name(LoraTarget t) { return kNames[static_cast<int>(t)]; }

const char* lora_target_parent(LoraTarget t) {
  return static_cast<int>(t) <= static_cast<int>(LoraTarget::kO) ? "self_attn" : "mlp";
}

LoraTarget lora_target_from_name(const std::string& name) {
  for (int i = 0; i < kNumLoraTargets; ++i)
    if (name == kNames[i]) return static_cast<LoraTarget>(i);
  fail("lora target module '", name,
       "' is not one of q_proj, k_proj, v_proj, o_proj, gate_proj, up_proj, down_proj");
}

std::pair<int64_t, int64_t> lora_target_shape(const ModelConfig& cfg, LoraTarget t) {
  switch (t) {
    case LoraTarget::kQ: return {cfg.q_dim(), cfg.hidden};
    case LoraTarget::kK:
    case LoraTarget::kV: return {cfg.kv_dim(), cfg.hidden};
    case LoraTarget::kO: return {cfg.hidden, cfg.q_dim()};
    case LoraTarget::kGate:
    case LoraTarget::kUp: return {cfg.intermediate, cfg.hidden};
    case LoraTarget::kDown: return {cfg.hidden, cfg.intermediate};
  }
  TSFT_CHECK(false, "bad lora target");
  return {0, 0};
}

LoraWeights LoraWeights::allocate(const ModelConfig& cfg, const LoraConfig& lc) {
  if (lc.rank <= 0) fail("lora.r must be positive, got ", lc.rank);
  if (lc.target_modules.empty()) fail("lora.target_modules is empty");
  bool enabled[kNumLoraTargets] = {};
  for (const std::string& m : lc.target_modules) enabled[static_cast<int>(lora_target_from_name(m))] = true;
  size_t bytes = 0;
  for (int t = 0; t < kNumLoraTargets; ++t)
    if (enabled[t]) {
      auto [out, in] = lora_target_shape(cfg, static_cast<LoraTarget>(t));
      bytes += (static_cast<size_t>(lc.rank * in) * 4 + 64) + (static_cast<size_t>(out * lc.rank) * 4 + 64);
    }
  LoraWeights w;
  w.config = lc;
  w.arena = Arena(bytes * static_cast<size_t>(cfg.n_layers) + 64);
  w.layers.resize(static_cast<size_t>(cfg.n_layers));
  for (auto& layer : w.layers)
    for (int t = 0; t < kNumLoraTargets; ++t) {
      if (!enabled[t]) continue;
      auto [out, in] = lora_target_shape(cfg, static_cast<LoraTarget>(t));
      layer[t].enabled = true;
      layer[t].a = w.arena.alloc_tensor(DType::kF32, Shape{lc.rank, in});
      layer[t].b = w.arena.alloc_tensor(DType::kF32, Shape{out, lc.rank});
    }
  return w;
}

LoraWeights LoraWeights::create(const ModelConfig& cfg, const LoraConfig& lc, Rng& rng) {
  LoraWeights w = allocate(cfg, lc);
  for (auto& layer : w.layers)
    for (auto& p : layer) {
      if (!p.enabled) continue;
      // kaiming_uniform_(a=sqrt(5)): gain sqrt(2/(1+5)), bound gain*sqrt(3/fan_in) = 1/sqrt(in).
      const float bound = 1.0f / std::sqrt(static_cast<float>(p.a.shape[1]));
      float* a = p.a.f32();
      for (int64_t i = 0; i < p.a.numel(); ++i)
        a[i] = static_cast<float>((2.0 * rng.uniform() - 1.0) * bound);
      float* b = p.b.f32();
      for (int64_t i = 0; i < p.b.numel(); ++i) b[i] = 0.0f;
    }
  return w;
}

std::string LoraWeights::peft_key(int64_t layer, LoraTarget t, bool is_b) {
  return str("base_model.model.model.layers.", layer, ".", lora_target_parent(t), ".",
             lora_target_name(t), is_b ? ".lora_B.weight" : ".lora_A.weight");
}

}  // namespace tsft
