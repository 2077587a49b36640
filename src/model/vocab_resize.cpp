#include "model/vocab_resize.h"

#include <cstring>
#include <vector>

#include "core/error.h"

namespace tsft {
namespace {

// Copies the old rows and fills rows [old_rows, new_rows) with the mean of the old ones.
void grow_rows(Tensor& dst, const Tensor& src, int64_t old_rows, int64_t new_rows, int64_t cols) {
  std::memcpy(dst.data, src.data, static_cast<size_t>(old_rows * cols) * sizeof(float));
  std::vector<double> mean(static_cast<size_t>(cols), 0.0);
  const float* s = src.f32();
  for (int64_t r = 0; r < old_rows; ++r)
    for (int64_t c = 0; c < cols; ++c) mean[c] += s[r * cols + c];
  float* d = dst.f32();
  for (int64_t r = old_rows; r < new_rows; ++r)
    for (int64_t c = 0; c < cols; ++c) d[r * cols + c] = static_cast<float>(mean[c] / old_rows);
}

}  // namespace

ModelWeights grow_vocab(const ModelConfig& cfg, ModelWeights& w, int64_t new_vocab) {
  if (new_vocab < cfg.vocab)
    fail("cannot shrink the vocabulary from ", cfg.vocab, " to ", new_vocab, " tokens");
  ModelConfig grown = cfg;
  grown.vocab = new_vocab;
  ModelWeights out = ModelWeights::allocate(grown);
  out.quant_store = std::move(w.quant_store);  // layer matrices keep their quantized copies
  // Visit both sets of tensors in the same order and copy each, growing the vocabulary ones.
  std::vector<Tensor*> src;
  w.for_each(cfg, [&](const std::string&, Tensor& t, Tensor*) { src.push_back(&t); });
  size_t i = 0;
  out.for_each(grown, [&](const std::string& name, Tensor& dst, Tensor*) {
    const Tensor& s = *src.at(i++);
    if (name == "model.embed_tokens.weight" || name == "lm_head.weight") {
      grow_rows(dst, s, cfg.vocab, new_vocab, cfg.hidden);
    } else {
      TSFT_CHECK(s.shape == dst.shape, name);
      std::memcpy(dst.data, s.data, s.nbytes());
    }
  });
  for (size_t l = 0; l < w.layers.size(); ++l) {
    LayerWeights& a = out.layers[l];
    const LayerWeights& b = w.layers[l];
    a.wq_q = b.wq_q, a.wk_q = b.wk_q, a.wv_q = b.wv_q, a.wo_q = b.wo_q;
    a.w_gate_q = b.w_gate_q, a.w_up_q = b.w_up_q, a.w_down_q = b.w_down_q;
  }
  return out;
}

}  // namespace tsft
