// Properties of the training graph that hold whatever the reference says: packed sequences do
// not see each other (same losses and gradients as one at a time), recomputation changes
// nothing, and the same inputs give bit-identical results.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "backend/cpu/dequant.h"
#include "core/half.h"
#include "core/rng.h"
#include "io/model_loader.h"
#include "model/lora.h"
#include "train/train_model.h"

namespace tsft {
namespace {

const std::string kData = TSFT_TEST_DATA_DIR;

struct Seq {
  std::vector<int32_t> ids;
  std::vector<uint8_t> mask;  // 1 = token is a target
};

std::vector<Seq> make_seqs(int64_t vocab) {
  Rng rng(5);
  std::vector<Seq> out;
  for (int len : {9, 1, 14, 6}) {
    Seq s;
    for (int i = 0; i < len; ++i) {
      s.ids.push_back(static_cast<int32_t>(rng.next_u64() % vocab));
      s.mask.push_back(i > len / 3 ? 1 : 0);
    }
    out.push_back(s);
  }
  return out;
}

// Sequences end to end; `loss_seq` < 0 keeps every sequence's targets, else only that one's.
Batch pack(const std::vector<Seq>& seqs, int loss_seq) {
  Batch b;
  b.seq_start.push_back(0);
  for (size_t s = 0; s < seqs.size(); ++s) {
    const Seq& q = seqs[s];
    for (size_t t = 0; t < q.ids.size(); ++t) {
      b.tokens.push_back(q.ids[t]);
      b.positions.push_back(static_cast<int32_t>(t));
      const bool on = loss_seq < 0 || loss_seq == static_cast<int>(s);
      b.targets.push_back(on && t + 1 < q.ids.size() && q.mask[t + 1] ? q.ids[t + 1] : -1);
    }
    b.seq_start.push_back(static_cast<int32_t>(b.tokens.size()));
  }
  b.rows = 1;
  return b;
}

std::vector<std::vector<float>> grads_of(TrainableModel& tm) {
  std::vector<std::vector<float>> g;
  for (const Param& p : tm.params()) g.emplace_back(p.grad, p.grad + p.numel);
  return g;
}

double max_rel(const std::vector<std::vector<float>>& a, const std::vector<std::vector<float>>& b) {
  double worst = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    double md = 0, mr = 0;
    for (size_t j = 0; j < a[i].size(); ++j) {
      md = std::max(md, std::fabs(static_cast<double>(a[i][j]) - b[i][j]));
      mr = std::max(mr, std::fabs(static_cast<double>(b[i][j])));
    }
    worst = std::max(worst, mr > 0 ? md / mr : md);
  }
  return worst;
}

class TrainModelProps : public ::testing::TestWithParam<std::tuple<std::string, bool>> {};

TEST_P(TrainModelProps, PackedSequencesMatchOneAtATime) {
  const auto [arch, use_lora] = GetParam();
  LoadedModel lm = load_model(kData + "/tiny/" + arch, false);
  const ModelConfig& cfg = lm.model->config();
  Rng rng(3);
  LoraConfig lc;
  lc.rank = 4;
  lc.dropout = 0;
  LoraWeights lora;
  if (use_lora) {
    lora = LoraWeights::create(cfg, lc, rng);
    lora.for_each([&](const std::string& k, Tensor& t) {  // non-zero B so A gets gradients
      if (k.find("lora_B") != std::string::npos)
        for (int64_t i = 0; i < t.numel(); ++i) t.f32()[i] = 0.05f * static_cast<float>(rng.uniform() - 0.5);
    });
  }
  TrainableModel tm(cfg, lm.model->mutable_weights(), use_lora ? &lora : nullptr, {});
  const std::vector<Seq> seqs = make_seqs(cfg.vocab);
  for (int s = 0; s < static_cast<int>(seqs.size()); ++s) {
    tm.zero_grad();
    const LossStats alone = tm.forward_backward(pack({seqs[s]}, -1), 1.0f, 7);
    const auto g_alone = grads_of(tm);
    tm.zero_grad();
    const LossStats packed = tm.forward_backward(pack(seqs, s), 1.0f, 7);
    const auto g_packed = grads_of(tm);
    EXPECT_EQ(alone.loss_tokens, packed.loss_tokens) << "sequence " << s;
    EXPECT_NEAR(packed.loss_sum, alone.loss_sum, 1e-5 * std::max(1.0, alone.loss_sum)) << s;
    if (alone.loss_tokens > 0) {
      EXPECT_LT(max_rel(g_packed, g_alone), 1e-5) << "sequence " << s;
    }
  }
  // And all losses at once add up.
  tm.zero_grad();
  const LossStats all = tm.forward_backward(pack(seqs, -1), 1.0f, 7);
  double sum = 0;
  int64_t n = 0;
  for (const Seq& q : seqs) {
    const LossStats s = tm.forward_loss(pack({q}, -1));
    sum += s.loss_sum, n += s.loss_tokens;
  }
  EXPECT_EQ(all.loss_tokens, n);
  EXPECT_NEAR(all.loss_sum, sum, 1e-5 * sum);
}

TEST_P(TrainModelProps, RecomputationAndRepeatsAreBitIdentical) {
  const auto [arch, use_lora] = GetParam();
  LoadedModel lm = load_model(kData + "/tiny/" + arch, false);
  const ModelConfig& cfg = lm.model->config();
  Rng rng(4);
  LoraConfig lc;
  lc.rank = 8;
  lc.dropout = 0.1f;  // masks must be the same in forward, backward and the recomputed forward
  LoraWeights lora;
  if (use_lora) {
    lora = LoraWeights::create(cfg, lc, rng);
    lora.for_each([&](const std::string& k, Tensor& t) {  // non-zero B: dropout then matters
      if (k.find("lora_B") != std::string::npos)
        for (int64_t i = 0; i < t.numel(); ++i) t.f32()[i] = 0.05f * static_cast<float>(rng.uniform() - 0.5);
    });
  }
  const Batch b = pack(make_seqs(cfg.vocab), -1);
  TrainModelOptions plain, ckpt;
  ckpt.gradient_checkpointing = true;
  TrainableModel a(cfg, lm.model->mutable_weights(), use_lora ? &lora : nullptr, plain);
  TrainableModel c(cfg, lm.model->mutable_weights(), use_lora ? &lora : nullptr, ckpt);
  const LossStats la = a.forward_backward(b, 0.1f, 99);
  const auto ga = grads_of(a);
  a.zero_grad();
  const LossStats la2 = a.forward_backward(b, 0.1f, 99);
  const LossStats lc2 = c.forward_backward(b, 0.1f, 99);
  EXPECT_EQ(la.loss_sum, la2.loss_sum);
  EXPECT_EQ(la.loss_sum, lc2.loss_sum);
  EXPECT_EQ(ga, grads_of(a)) << "a repeat differs";
  EXPECT_EQ(ga, grads_of(c)) << "recomputation differs";
  if (use_lora) {
    // A different dropout key draws different masks, so the loss moves.
    const LossStats other = c.forward_backward(b, 0.1f, 100);
    EXPECT_NE(other.loss_sum, la.loss_sum);
  }
}

INSTANTIATE_TEST_SUITE_P(
    Archs, TrainModelProps,
    ::testing::Combine(::testing::Values("llama", "qwen2", "qwen3"), ::testing::Bool()));

}  // namespace
}  // namespace tsft

namespace tsft {
namespace {

// Q8_0 blocks (llama.cpp's layout: f16 scale, 32 int8) of a float32 matrix.
std::vector<uint8_t> quantize_q8_0(const float* x, int64_t n) {
  std::vector<uint8_t> out;
  for (int64_t b = 0; b < n; b += 32) {
    float amax = 0;
    for (int i = 0; i < 32; ++i) amax = std::max(amax, std::fabs(x[b + i]));
    const float d = amax / 127.0f;
    const uint16_t h = f32_to_f16(d);
    out.push_back(static_cast<uint8_t>(h & 0xff));
    out.push_back(static_cast<uint8_t>(h >> 8));
    for (int i = 0; i < 32; ++i)
      out.push_back(static_cast<uint8_t>(static_cast<int8_t>(d == 0 ? 0 : std::lround(x[b + i] / d))));
  }
  return out;
}

// LoRA over a base kept only as quantized blocks gives exactly what LoRA over the same weights
// dequantized to float32 gives.
TEST(TrainModelQuantizedBase, LoraGradientsEqualTheFloat32Base) {
  LoadedModel lm = load_model(kData + "/tiny/llama", false);
  const ModelConfig cfg = lm.model->config();
  ModelWeights& w = lm.model->mutable_weights();
  w.for_each(cfg, [&](const std::string& name, Tensor& t, Tensor* quant) {
    if (quant == nullptr || name.rfind("model.layers.", 0) != 0) return;
    auto& blob = w.quant_store.emplace_back(quantize_q8_0(t.f32(), t.numel()));
    *quant = Tensor{DType::kQ8_0, t.shape, blob.data()};
    dequantize_row(DType::kQ8_0, blob.data(), t.f32(), t.numel());  // the f32 base = the blocks
  });
  Rng rng(9);
  LoraConfig lc;
  lc.rank = 4, lc.dropout = 0;
  LoraWeights lora = LoraWeights::create(cfg, lc, rng);
  lora.for_each([&](const std::string& k, Tensor& t) {
    if (k.find("lora_B") != std::string::npos)
      for (int64_t i = 0; i < t.numel(); ++i) t.f32()[i] = 0.05f * static_cast<float>(rng.uniform() - 0.5);
  });
  const Batch b = pack(make_seqs(cfg.vocab), -1);
  TrainableModel f32_base(cfg, w, &lora, {});
  const LossStats a = f32_base.forward_backward(b, 1.0f, 1);
  const auto ga = grads_of(f32_base);
  ModelWeights qw = drop_f32_block_linears(std::move(w), cfg);
  EXPECT_EQ(qw.layers[0].wq.data, nullptr);
  EXPECT_NE(qw.layers[0].attn_norm.data, nullptr);
  EXPECT_LT(weights_bytes(qw), static_cast<size_t>(cfg.num_params()) * 4 / 2);
  TrainableModel q_base(cfg, qw, &lora, {});
  const LossStats q = q_base.forward_backward(b, 1.0f, 1);
  EXPECT_EQ(a.loss_sum, q.loss_sum);
  EXPECT_EQ(ga, grads_of(q_base));
}

}  // namespace
}  // namespace tsft
