// The training engine against PyTorch/transformers/PEFT on tiny random models of every
// architecture: the loss and every parameter gradient (full fine-tuning), every LoRA gradient,
// and the losses of 10 AdamW steps with warmup, a schedule and clipping, for both.
// Goldens come from tools/make_train_goldens.py (see tests/data/train/README.md).
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "io/model_loader.h"
#include "io/safetensors.h"
#include "train/adamw.h"
#include "train/grad_clip.h"
#include "model/lora.h"
#include "train/lr_schedule.h"
#include "train/train_model.h"

namespace tsft {
namespace {

const std::string kData = TSFT_TEST_DATA_DIR;

std::vector<int32_t> read_i32(const SafetensorsFile& f, const std::string& name) {
  const SafetensorsTensor* t = f.find(name);
  if (t == nullptr) ADD_FAILURE() << "missing " << name;
  if (t == nullptr) return {};
  EXPECT_EQ(t->dtype, DType::kI32) << name;
  std::vector<int32_t> out(t->nbytes / 4);
  std::memcpy(out.data(), t->data, t->nbytes);
  return out;
}

std::vector<float> read_f32(const SafetensorsFile& f, const std::string& name) {
  const SafetensorsTensor* t = f.find(name);
  if (t == nullptr) ADD_FAILURE() << "missing " << name;
  if (t == nullptr) return {};
  EXPECT_EQ(t->dtype, DType::kF32) << name;
  std::vector<float> out(t->nbytes / 4);
  std::memcpy(out.data(), t->data, t->nbytes);
  return out;
}

// The golden batch: sequences laid end to end; a position predicts the next token of its own
// sequence where that token has a label.
Batch golden_batch(const SafetensorsFile& g) {
  const std::vector<int32_t> ids = read_i32(g, "ids"), lens = read_i32(g, "seq_lens"),
                             labels = read_i32(g, "labels");
  Batch b;
  b.tokens = ids;
  b.seq_start.push_back(0);
  for (int32_t L : lens) b.seq_start.push_back(b.seq_start.back() + L);
  b.targets.assign(ids.size(), -1);
  for (size_t s = 0; s + 1 < b.seq_start.size(); ++s)
    for (int32_t t = b.seq_start[s]; t < b.seq_start[s + 1]; ++t) {
      b.positions.push_back(t - b.seq_start[s]);
      if (t + 1 < b.seq_start[s + 1] && labels[t + 1] >= 0) b.targets[t] = labels[t + 1];
    }
  b.rows = 1;
  return b;
}

// Largest |a-b| relative to the largest |b| of the tensor (gradients of tiny random models span
// many magnitudes; elementwise relative error would judge noise around zero).
double rel_err(const float* a, const std::vector<float>& b) {
  double max_diff = 0, max_ref = 0;
  for (size_t i = 0; i < b.size(); ++i) {
    max_diff = std::max(max_diff, std::fabs(static_cast<double>(a[i]) - b[i]));
    max_ref = std::max(max_ref, std::fabs(static_cast<double>(b[i])));
  }
  return max_ref == 0 ? max_diff : max_diff / max_ref;
}

LoraConfig golden_lora() {
  LoraConfig lc;
  lc.rank = 4;
  lc.alpha = 8;
  lc.dropout = 0;
  return lc;
}

void load_golden_lora(LoraWeights& lora, const SafetensorsFile& g) {
  lora.for_each([&](const std::string& key, Tensor& t) {
    const std::vector<float> v = read_f32(g, "lora." + key);
    ASSERT_EQ(static_cast<int64_t>(v.size()), t.numel()) << key;
    std::memcpy(t.data, v.data(), v.size() * 4);
  });
}

class TrainGolden : public ::testing::TestWithParam<std::string> {};

TEST_P(TrainGolden, FullFineTuningLossAndEveryGradient) {
  const std::string arch = GetParam();
  SafetensorsFile g(kData + "/train/" + arch + ".safetensors");
  LoadedModel lm = load_model(kData + "/tiny/" + arch, false);
  const Batch b = golden_batch(g);
  const int64_t n_loss = b.num_loss_tokens();
  ASSERT_EQ(n_loss, 15);
  TrainableModel tm(lm.model->config(), lm.model->mutable_weights(), nullptr, {});
  const LossStats st = tm.forward_backward(b, 1.0f / static_cast<float>(n_loss), 1);
  const double loss = st.loss_sum / static_cast<double>(n_loss);
  const double ref_loss = read_f32(g, "loss")[0];
  EXPECT_NEAR(loss, ref_loss, 1e-5 * std::fabs(ref_loss)) << arch;
  int checked = 0;
  double worst = 0;
  for (const Param& p : tm.params()) {
    const std::vector<float> ref = read_f32(g, "grad." + p.name);
    ASSERT_EQ(static_cast<int64_t>(ref.size()), p.numel) << p.name;
    const double e = rel_err(p.grad, ref);
    EXPECT_LT(e, 1e-4) << arch << " " << p.name;
    worst = std::max(worst, e);
    ++checked;
  }
  EXPECT_EQ(checked, static_cast<int>(tm.params().size()));
  std::printf("%s: loss %.8f (ref %.8f), %d gradients, worst relative error %.2e\n", arch.c_str(),
              loss, ref_loss, checked, worst);
}

TEST_P(TrainGolden, LoraLossAndEveryGradient) {
  const std::string arch = GetParam();
  SafetensorsFile g(kData + "/train/" + arch + ".safetensors");
  LoadedModel lm = load_model(kData + "/tiny/" + arch, false);
  LoraWeights lora = LoraWeights::allocate(lm.model->config(), golden_lora());
  load_golden_lora(lora, g);
  const Batch b = golden_batch(g);
  TrainableModel tm(lm.model->config(), lm.model->mutable_weights(), &lora, {});
  const LossStats st = tm.forward_backward(b, 1.0f / 15.0f, 1);
  const double loss = st.loss_sum / 15.0;
  const double ref_loss = read_f32(g, "lora_loss")[0];
  EXPECT_NEAR(loss, ref_loss, 1e-5 * std::fabs(ref_loss)) << arch;
  double worst = 0;
  ASSERT_EQ(tm.params().size(), 2u * 7u * lm.model->config().n_layers);
  for (const Param& p : tm.params()) {
    const std::vector<float> ref = read_f32(g, "lora_grad." + p.name);
    ASSERT_EQ(static_cast<int64_t>(ref.size()), p.numel) << p.name;
    const double e = rel_err(p.grad, ref);
    EXPECT_LT(e, 1e-4) << arch << " " << p.name;
    worst = std::max(worst, e);
  }
  std::printf("%s LoRA: loss %.8f (ref %.8f), worst gradient relative error %.2e\n",
              arch.c_str(), loss, ref_loss, worst);
}

// 10 optimizer steps on the same batch: AdamW, warmup 2 then a schedule, clipping at 1.0.
void check_steps(const std::string& arch, bool use_lora) {
  SafetensorsFile g(kData + "/train/" + arch + ".safetensors");
  LoadedModel lm = load_model(kData + "/tiny/" + arch, false);
  LoraWeights lora;
  if (use_lora) {
    lora = LoraWeights::allocate(lm.model->config(), golden_lora());
    load_golden_lora(lora, g);
  }
  const Batch b = golden_batch(g);
  TrainableModel tm(lm.model->config(), lm.model->mutable_weights(), use_lora ? &lora : nullptr,
                    {});
  AdamWConfig ac;
  ac.weight_decay = use_lora ? 0.0 : 0.01;
  AdamW opt(tm.params(), ac);
  const LrSchedule sched(use_lora ? LrScheduleKind::kLinear : LrScheduleKind::kCosine,
                         use_lora ? 1e-2f : 1e-3f, 10, 2);
  const std::string pre = use_lora ? "lora_" : "full_";
  const std::vector<float> ref_losses = read_f32(g, pre + "step_losses"),
                           ref_lrs = read_f32(g, pre + "step_lrs"),
                           ref_norms = read_f32(g, pre + "step_grad_norms");
  ASSERT_EQ(ref_losses.size(), 10u);
  for (int step = 0; step < 10; ++step) {
    tm.zero_grad();
    const LossStats st = tm.forward_backward(b, 1.0f / 15.0f, 1);
    const double loss = st.loss_sum / 15.0;
    const double norm = clip_grad_norm(tm.params(), 1.0);
    const float lr = sched.lr_at(step);
    EXPECT_NEAR(loss, ref_losses[step], 1e-5 * std::max(1.0, std::fabs(loss)))
        << arch << " step " << step;
    EXPECT_NEAR(lr, ref_lrs[step], 1e-9 + 1e-6 * ref_lrs[step]) << "step " << step;
    EXPECT_NEAR(norm, ref_norms[step], 1e-4 * ref_norms[step]) << "step " << step;
    opt.step(lr);
  }
}

TEST_P(TrainGolden, FullFineTuningTenAdamWSteps) { check_steps(GetParam(), false); }
TEST_P(TrainGolden, LoraTenAdamWSteps) { check_steps(GetParam(), true); }

INSTANTIATE_TEST_SUITE_P(Architectures, TrainGolden,
                         ::testing::Values("llama", "llama_untied", "llama3_rope", "qwen2",
                                           "qwen3"));

}  // namespace
}  // namespace tsft
