#include "export/merge.h"

#include <cstring>
#include <vector>

#include "core/error.h"

namespace tsft {
namespace {

struct Slot {
  Tensor* w;
  Tensor* quant;
};

Slot slot(LayerWeights& l, LoraTarget t) {
  switch (t) {
    case LoraTarget::kQ:
      return {&l.wq, &l.wq_q};
    case LoraTarget::kK:
      return {&l.wk, &l.wk_q};
    case LoraTarget::kV:
      return {&l.wv, &l.wv_q};
    case LoraTarget::kO:
      return {&l.wo, &l.wo_q};
    case LoraTarget::kGate:
      return {&l.w_gate, &l.w_gate_q};
    case LoraTarget::kUp:
      return {&l.w_up, &l.w_up_q};
    case LoraTarget::kDown:
      return {&l.w_down, &l.w_down_q};
  }
  TSFT_CHECK(false, "bad lora target");
  return {nullptr, nullptr};
}

}  // namespace

void merge_lora(ModelWeights& w, const ModelConfig& cfg, const LoraWeights& lora) {
  if (lora.layers.size() != w.layers.size() ||
      static_cast<int64_t>(w.layers.size()) != cfg.n_layers)
    fail("the adapter has ", lora.layers.size(), " layers but the model has ", w.layers.size());
  const float scale = lora.config.scale();
  std::vector<float> delta;
  for (size_t l = 0; l < lora.layers.size(); ++l)
    for (int ti = 0; ti < kNumLoraTargets; ++ti) {
      const LoraPair& p = lora.layers[l][ti];
      if (!p.enabled) continue;
      const LoraTarget t = static_cast<LoraTarget>(ti);
      Slot s = slot(w.layers[l], t);
      const int64_t out = s.w->shape[0], in = s.w->shape[1], r = p.a.shape[0];
      if (!(p.a.shape == Shape{r, in}) || !(p.b.shape == Shape{out, r}))
        fail("layer ", l, " ", lora_target_name(t), ": the adapter's A ", p.a.shape.to_string(),
             " and B ", p.b.shape.to_string(), " do not fit the base weight ",
             s.w->shape.to_string());
      // delta = B @ A in float32 (as torch does), then W += scale * delta (PEFT's order).
      delta.assign(static_cast<size_t>(out * in), 0.0f);
      const float* a = p.a.f32();
      const float* b = p.b.f32();
      for (int64_t o = 0; o < out; ++o) {
        float* d = delta.data() + o * in;
        for (int64_t k = 0; k < r; ++k) {
          const float bk = b[o * r + k];
          const float* ak = a + k * in;
          for (int64_t i = 0; i < in; ++i) d[i] += bk * ak[i];
        }
      }
      float* wd = s.w->f32();
      for (int64_t i = 0; i < out * in; ++i) wd[i] += scale * delta[static_cast<size_t>(i)];
      *s.quant = Tensor{};
    }
}

ModelWeights copy_weights_f32(const ModelConfig& cfg, const ModelWeights& w) {
  ModelWeights out = ModelWeights::allocate(cfg);
  std::vector<const Tensor*> src;
  const_cast<ModelWeights&>(w).for_each(
      cfg, [&](const std::string&, Tensor& t, Tensor*) { src.push_back(&t); });
  size_t i = 0;
  out.for_each(cfg, [&](const std::string& name, Tensor& dst, Tensor*) {
    TSFT_CHECK(i < src.size() && src[i]->shape == dst.shape, "weights do not match the config at ",
               name);
    std::memcpy(dst.data, src[i]->f32(), dst.nbytes());
    ++i;
  });
  return out;
}

ModelWeights merged_weights(const ModelConfig& cfg, const ModelWeights& w, const LoraWeights& lora) {
  ModelWeights out = copy_weights_f32(cfg, w);
  merge_lora(out, cfg, lora);
  return out;
}

}  // namespace tsft
