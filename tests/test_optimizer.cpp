// AdamW against the torch.optim.AdamW formulas computed in double, HF learning-rate schedules
// against their lambdas worked by hand, and global-norm gradient clipping as clip_grad_norm_.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <numbers>
#include <vector>

#include "core/error.h"
#include "core/threads.h"
#include "train/adamw.h"
#include "train/grad_clip.h"
#include "train/lr_schedule.h"

namespace tsft {
namespace {

// torch.optim.AdamW, one element, in double.
struct RefAdamW {
  double p, m = 0, v = 0;
  void step(double g, double lr, int t, double b1, double b2, double eps, double wd, bool decay) {
    if (decay) p *= 1 - lr * wd;
    m = b1 * m + (1 - b1) * g;
    v = b2 * v + (1 - b2) * g * g;
    const double bc1 = 1 - std::pow(b1, t), bc2 = 1 - std::pow(b2, t);
    p -= lr / bc1 * m / (std::sqrt(v) / std::sqrt(bc2) + eps);
  }
};

TEST(AdamW, MatchesTorchFormulaOverThreeSteps) {
  std::vector<float> w1 = {0.5f, -1.25f, 2.0f, 0.0f}, g1(4);
  std::vector<float> b = {0.1f, -0.3f}, gb(2);
  ParamList params = {{"w", w1.data(), g1.data(), 4, true}, {"b", b.data(), gb.data(), 2, false}};
  AdamWConfig cfg;
  cfg.beta1 = 0.9;
  cfg.beta2 = 0.95;
  cfg.eps = 1e-6;
  cfg.weight_decay = 0.1;
  AdamW opt(params, cfg);

  std::vector<RefAdamW> ref_w, ref_b;
  for (float x : w1) ref_w.push_back({x});
  for (float x : b) ref_b.push_back({x});
  const double grads_w[3][4] = {
      {0.1, -0.2, 0.3, 1e-3}, {-0.5, 0.25, 0.0, 2.0}, {0.05, 0.05, -1.5, -0.01}};
  const double grads_b[3][2] = {{1.0, -2.0}, {0.5, 0.0}, {-0.75, 3.0}};
  const double lrs[3] = {1e-2, 5e-3, 2e-2};
  for (int s = 0; s < 3; ++s) {
    for (int i = 0; i < 4; ++i) g1[i] = static_cast<float>(grads_w[s][i]);
    for (int i = 0; i < 2; ++i) gb[i] = static_cast<float>(grads_b[s][i]);
    opt.step(static_cast<float>(lrs[s]));
    const double lr = static_cast<float>(lrs[s]);
    for (int i = 0; i < 4; ++i)
      ref_w[i].step(g1[i], lr, s + 1, cfg.beta1, cfg.beta2, cfg.eps, cfg.weight_decay, true);
    for (int i = 0; i < 2; ++i)
      ref_b[i].step(gb[i], lr, s + 1, cfg.beta1, cfg.beta2, cfg.eps, cfg.weight_decay, false);
    for (int i = 0; i < 4; ++i) {
      EXPECT_NEAR(w1[i], ref_w[i].p, 1e-6) << "step " << s + 1 << " w[" << i << "]";
      EXPECT_NEAR(opt.m(0)[i], ref_w[i].m, 1e-6);
      EXPECT_NEAR(opt.v(0)[i], ref_w[i].v, 1e-6);
    }
    for (int i = 0; i < 2; ++i)
      EXPECT_NEAR(b[i], ref_b[i].p, 1e-6) << "step " << s + 1 << " b[" << i << "]";
  }
  EXPECT_EQ(opt.steps_done(), 3);
  EXPECT_EQ(opt.index_of("b"), 1);
  EXPECT_EQ(opt.index_of("nope"), -1);
}

TEST(AdamW, FirstStepMovesEachWeightByLr) {
  // Bias correction makes the first update exactly lr * sign(g) (up to eps).
  std::vector<float> w = {1.0f, 1.0f, 1.0f}, g = {3.0f, -1e-3f, 0.0f};
  ParamList params = {{"w", w.data(), g.data(), 3, true}};
  AdamW opt(params);
  opt.step(0.01f);
  EXPECT_NEAR(w[0], 0.99f, 1e-6);
  EXPECT_NEAR(w[1], 1.01f, 1e-5);
  EXPECT_EQ(w[2], 1.0f);
}

TEST(AdamW, WeightDecaySkippedWhenDecayFalse) {
  std::vector<float> a = {2.0f}, ga = {0.0f}, b = {2.0f}, gb = {0.0f};
  ParamList params = {{"a", a.data(), ga.data(), 1, true}, {"b", b.data(), gb.data(), 1, false}};
  AdamWConfig cfg;
  cfg.weight_decay = 0.5;
  AdamW opt(params, cfg);
  opt.step(0.1f);
  EXPECT_FLOAT_EQ(a[0], 2.0f * (1.0f - 0.05f));
  EXPECT_EQ(b[0], 2.0f);
}

TEST(AdamW, SameResultOnAnyThreadCount) {
  const int64_t n = 100'003;  // large enough for the parallel loop, not a multiple of the width
  auto run = [&](int threads) {
    set_num_threads(threads);
    std::vector<float> w(n), g(n);
    for (int64_t i = 0; i < n; ++i) w[i] = std::sin(0.001f * i);
    ParamList params = {{"w", w.data(), g.data(), n, true}};
    AdamWConfig cfg;
    cfg.weight_decay = 0.01;
    AdamW opt(params, cfg);
    for (int s = 0; s < 3; ++s) {
      for (int64_t i = 0; i < n; ++i) g[i] = std::cos(0.37f * i + s);
      opt.step(1e-3f);
    }
    return w;
  };
  const auto one = run(1);
  const auto many = run(4);
  set_num_threads(0);
  EXPECT_EQ(one, many);
}

TEST(LrSchedule, ParseNames) {
  EXPECT_EQ(parse_lr_schedule("cosine"), LrScheduleKind::kCosine);
  EXPECT_EQ(parse_lr_schedule("constant_with_warmup"), LrScheduleKind::kConstantWithWarmup);
  EXPECT_STREQ(lr_schedule_name(LrScheduleKind::kLinear), "linear");
  try {
    parse_lr_schedule("cosine_with_restarts");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("cosine_with_restarts"), std::string::npos);
  }
}

TEST(LrSchedule, WarmupStepsFromRatioRoundUp) {
  EXPECT_EQ(resolve_warmup_steps(0, 0.1, 95), 10);  // ceil(9.5)
  EXPECT_EQ(resolve_warmup_steps(0, 0.1, 100), 10);
  EXPECT_EQ(resolve_warmup_steps(0, 0.0, 100), 0);
  EXPECT_EQ(resolve_warmup_steps(7, 0.5, 100), 7);  // steps win over ratio, as in HF
  EXPECT_THROW(resolve_warmup_steps(0, 1.5, 100), Error);
  EXPECT_THROW(resolve_warmup_steps(-1, 0.0, 100), Error);
}

TEST(LrSchedule, LinearWithWarmup) {
  // total 10, warmup 2: lambda = 0, 0.5, then (10 - s) / 8.
  LrSchedule s(LrScheduleKind::kLinear, 1e-3f, 10, 2);
  const double expect[] = {0.0,     0.5,     1.0,     7.0 / 8, 6.0 / 8, 5.0 / 8,
                           4.0 / 8, 3.0 / 8, 2.0 / 8, 1.0 / 8, 0.0,     0.0};
  for (int i = 0; i < 12; ++i) {
    EXPECT_DOUBLE_EQ(s.factor_at(i), expect[i]) << i;
    EXPECT_FLOAT_EQ(s.lr_at(i), static_cast<float>(1e-3f * expect[i])) << i;
  }
}

TEST(LrSchedule, LinearWithoutWarmupStartsAtBaseLr) {
  LrSchedule s(LrScheduleKind::kLinear, 2e-5f, 4, 0);
  EXPECT_FLOAT_EQ(s.lr_at(0), 2e-5f);
  EXPECT_DOUBLE_EQ(s.factor_at(1), 0.75);
  EXPECT_DOUBLE_EQ(s.factor_at(3), 0.25);
}

TEST(LrSchedule, CosineWithWarmup) {
  // total 12, warmup 4: lambda = s/4 for s < 4, then 0.5 * (1 + cos(pi * (s - 4) / 8)).
  LrSchedule s(LrScheduleKind::kCosine, 1.0f, 12, 4);
  EXPECT_DOUBLE_EQ(s.factor_at(0), 0.0);
  EXPECT_DOUBLE_EQ(s.factor_at(3), 0.75);
  EXPECT_DOUBLE_EQ(s.factor_at(4), 1.0);
  EXPECT_NEAR(s.factor_at(6), 0.5 * (1 + std::cos(std::numbers::pi / 4)), 1e-15);  // 0.853553...
  EXPECT_NEAR(s.factor_at(8), 0.5, 1e-15);
  EXPECT_NEAR(s.factor_at(11), 0.5 * (1 + std::cos(std::numbers::pi * 7 / 8)), 1e-15);
  EXPECT_NEAR(s.factor_at(12), 0.0, 1e-15);
  // Past the end HF's cosine comes back up (max(0, ...) only cuts negatives); keep that.
  EXPECT_NEAR(s.factor_at(16), 0.5 * (1 + std::cos(std::numbers::pi * 1.5)), 1e-15);
}

TEST(LrSchedule, ConstantAndConstantWithWarmup) {
  LrSchedule c(LrScheduleKind::kConstant, 3e-4f, 10, 5);  // HF's "constant" ignores warmup
  for (int i = 0; i < 10; ++i) EXPECT_EQ(c.lr_at(i), 3e-4f);
  LrSchedule cw(LrScheduleKind::kConstantWithWarmup, 1.0f, 10, 4);
  EXPECT_DOUBLE_EQ(cw.factor_at(0), 0.0);
  EXPECT_DOUBLE_EQ(cw.factor_at(1), 0.25);
  EXPECT_DOUBLE_EQ(cw.factor_at(4), 1.0);
  EXPECT_DOUBLE_EQ(cw.factor_at(9), 1.0);
  EXPECT_THROW(LrSchedule(LrScheduleKind::kLinear, 1.0f, 0, 0), Error);
}

TEST(GradClip, ScalesWhenAboveMaxNorm) {
  std::vector<float> a = {3.0f, 0.0f}, b = {4.0f};
  ParamList params = {{"a", nullptr, a.data(), 2, true}, {"b", nullptr, b.data(), 1, true}};
  EXPECT_DOUBLE_EQ(grad_norm(params), 5.0);
  const double total = clip_grad_norm(params, 1.0);
  EXPECT_DOUBLE_EQ(total, 5.0);
  const float coef = static_cast<float>(1.0 / (5.0 + 1e-6));
  EXPECT_EQ(a[0], 3.0f * coef);
  EXPECT_EQ(b[0], 4.0f * coef);
  EXPECT_NEAR(grad_norm(params), 1.0, 1e-6);
}

TEST(GradClip, LeavesSmallGradientsAlone) {
  std::vector<float> a = {0.3f, -0.4f};
  ParamList params = {{"a", nullptr, a.data(), 2, true}};
  EXPECT_NEAR(clip_grad_norm(params, 1.0), 0.5, 1e-7);
  EXPECT_EQ(a[0], 0.3f);
  EXPECT_EQ(a[1], -0.4f);
  // max_norm <= 0: report the norm, never clip.
  std::vector<float> big = {30.0f, 40.0f};
  ParamList p2 = {{"big", nullptr, big.data(), 2, true}};
  EXPECT_DOUBLE_EQ(clip_grad_norm(p2, 0.0), 50.0);
  EXPECT_EQ(big[0], 30.0f);
}

TEST(GradClip, NonFiniteIsReportedAndGradsUntouched) {
  std::vector<float> a = {1.0f, std::numeric_limits<float>::quiet_NaN()}, b = {2.0f};
  ParamList params = {{"a", nullptr, a.data(), 2, true}, {"b", nullptr, b.data(), 1, true}};
  EXPECT_FALSE(std::isfinite(clip_grad_norm(params, 1.0)));
  EXPECT_EQ(a[0], 1.0f);
  EXPECT_EQ(b[0], 2.0f);
  std::vector<float> c = {std::numeric_limits<float>::infinity()};
  ParamList p2 = {{"c", nullptr, c.data(), 1, true}};
  EXPECT_TRUE(std::isinf(clip_grad_norm(p2, 1.0)));
  // Large but finite floats do not overflow the double accumulation.
  std::vector<float> d = {3e38f, 3e38f};
  ParamList p3 = {{"d", nullptr, d.data(), 2, true}};
  EXPECT_NEAR(grad_norm(p3), static_cast<double>(3e38f) * std::sqrt(2.0), 1e25);
}

TEST(GradClip, NormIndependentOfThreadCount) {
  const int64_t n = 300'001;
  std::vector<float> g(n);
  for (int64_t i = 0; i < n; ++i) g[i] = std::sin(0.01f * i) * 1e-3f;
  ParamList params = {{"g", nullptr, g.data(), n, true}};
  set_num_threads(1);
  const double one = grad_norm(params);
  set_num_threads(4);
  const double many = grad_norm(params);
  set_num_threads(0);
  EXPECT_EQ(one, many);
}

}  // namespace
}  // namespace tsft
