// Every CPU op's fast path against its scalar reference, on random inputs of several shapes
// (including sizes that are not multiples of any vector width).
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "backend/cpu/attention.h"
#include "backend/cpu/embedding.h"
#include "backend/cpu/matmul.h"
#include "backend/cpu/rmsnorm.h"
#include "backend/cpu/rope.h"
#include "backend/cpu/swiglu.h"
#include "backend/cpu/vec_math.h"
#include "core/half.h"

#include "test_util.h"

namespace tsft {
namespace {

using testing::randn;
using testing::max_abs_diff;

TEST(Ops, MatmulMatchesReference) {
  const int64_t shapes[][3] = {{1, 7, 5}, {1, 576, 192}, {3, 17, 33}, {16, 64, 48}, {37, 129, 65}};
  for (const auto& s : shapes) {
    const int64_t M = s[0], K = s[1], N = s[2];
    for (bool with_bias : {false, true}) {
      auto x = randn(M * K, 1), w = randn(N * K, 2), b = randn(N, 3);
      std::vector<float> y(M * N), r(M * N);
      matmul_forward(y.data(), x.data(), w.data(), with_bias ? b.data() : nullptr, M, K, N);
      matmul_forward_ref(r.data(), x.data(), w.data(), with_bias ? b.data() : nullptr, M, K, N);
      EXPECT_LT(max_abs_diff(y, r), 1e-4f * std::sqrt(static_cast<float>(K)))
          << "M=" << M << " K=" << K << " N=" << N;
    }
  }
}

TEST(Ops, RmsNormMatchesReference) {
  for (int64_t C : {1, 7, 64, 576, 1000}) {
    const int64_t rows = 5;
    auto x = randn(rows * C, 4, 3.0f), w = randn(C, 5);
    std::vector<float> y(rows * C), r(rows * C);
    rmsnorm_forward(y.data(), x.data(), w.data(), 1e-5f, rows, C);
    rmsnorm_forward_ref(r.data(), x.data(), w.data(), 1e-5f, rows, C);
    EXPECT_LT(max_abs_diff(y, r), 1e-5f) << "C=" << C;
    // In place gives the same result.
    rmsnorm_forward(x.data(), x.data(), w.data(), 1e-5f, rows, C);
    EXPECT_EQ(max_abs_diff(x, y), 0.0f);
  }
}

TEST(Ops, RopeMatchesReference) {
  for (int64_t D : {2, 16, 64, 128}) {
    const int64_t T = 9, H = 3;
    std::vector<int32_t> pos(T);
    for (int64_t t = 0; t < T; ++t) pos[t] = static_cast<int32_t>(t * 37 + 5);
    for (int scaling = 0; scaling < 2; ++scaling) {
      RopeScaling rs;
      if (scaling == 1) {
        rs.type = RopeScaling::Type::kLlama3;
        rs.factor = 8.0f;
        rs.original_max_position = 64.0f;
      }
      std::vector<float> inv(D / 2), cs(T * D / 2), sn(T * D / 2);
      rope_inv_freq(inv.data(), D, 10000.0f, rs);
      rope_cos_sin(cs.data(), sn.data(), pos.data(), inv.data(), T, D);
      auto x = randn(T * H * D, 6), r = x;
      rope_forward(x.data(), cs.data(), sn.data(), T, H, D);
      rope_forward_ref(r.data(), pos.data(), inv.data(), T, H, D);
      EXPECT_LT(max_abs_diff(x, r), 2e-5f) << "D=" << D;
    }
  }
}

TEST(Ops, RopeInvFreqFollowsTransformers) {
  // Default schedule: theta^(-2i/D).
  std::vector<float> inv(32);
  rope_inv_freq(inv.data(), 64, 100000.0f, RopeScaling{});
  EXPECT_FLOAT_EQ(inv[0], 1.0f);
  EXPECT_NEAR(inv[16], std::pow(100000.0, -0.5), 1e-7);
  // llama3: the lowest frequencies are divided by the factor, the highest untouched.
  RopeScaling rs;
  rs.type = RopeScaling::Type::kLlama3;
  rs.factor = 8.0f;
  rs.low_freq_factor = 1.0f;
  rs.high_freq_factor = 4.0f;
  rs.original_max_position = 8192.0f;
  std::vector<float> scaled(64), plain(64);
  rope_inv_freq(scaled.data(), 128, 500000.0f, rs);
  rope_inv_freq(plain.data(), 128, 500000.0f, RopeScaling{});
  EXPECT_EQ(scaled[0], plain[0]);
  EXPECT_FLOAT_EQ(scaled[63], plain[63] / 8.0f);
}

TEST(Ops, AttentionMatchesReference) {
  struct Case { int64_t T, past, Hq, Hkv, D; };
  // Decoding (T = 1) at the head sizes of the supported models (32, 64, 128) and odd ones (8,
  // 10); odd and even key counts; groups of 1-7 query heads per key head.
  const Case cases[] = {{1, 0, 2, 1, 8},   {1, 13, 9, 3, 64},  {1, 0, 9, 3, 64},   {1, 200, 16, 8, 128},
                        {1, 6, 4, 4, 32},  {1, 36, 14, 2, 64}, {1, 5, 3, 3, 10},   {7, 0, 4, 2, 16},
                        {5, 11, 6, 3, 10}, {33, 0, 9, 3, 64}};
  for (const auto& c : cases) {
    const int64_t S = c.past + c.T;
    auto q = randn(c.T * c.Hq * c.D, 7), k = randn(S * c.Hkv * c.D, 8), v = randn(S * c.Hkv * c.D, 9);
    std::vector<int32_t> pos(c.T);
    for (int64_t t = 0; t < c.T; ++t) pos[t] = static_cast<int32_t>(c.past + t);
    std::vector<float> out(c.T * c.Hq * c.D), ref(out.size());
    std::vector<float> scratch(attention_scratch_floats(c.T, S, c.Hq));
    attention_forward(out.data(), q.data(), k.data(), v.data(), pos.data(), c.T, S, c.Hq, c.Hkv,
                      c.D, scratch.data());
    attention_forward_ref(ref.data(), q.data(), k.data(), v.data(), pos.data(), c.T, S, c.Hq,
                          c.Hkv, c.D);
    EXPECT_LT(max_abs_diff(out, ref), 1e-5f) << "T=" << c.T << " past=" << c.past;
  }
}

TEST(Ops, AttentionIsCausal) {
  // Changing a future key/value must not change earlier outputs.
  const int64_t T = 6, H = 2, D = 8;
  auto q = randn(T * H * D, 10), k = randn(T * H * D, 11), v = randn(T * H * D, 12);
  std::vector<int32_t> pos = {0, 1, 2, 3, 4, 5};
  std::vector<float> a(T * H * D), b(T * H * D), scratch(attention_scratch_floats(T, T, H));
  attention_forward(a.data(), q.data(), k.data(), v.data(), pos.data(), T, T, H, H, D, scratch.data());
  for (int64_t i = 5 * H * D; i < T * H * D; ++i) k[i] += 1.0f, v[i] -= 2.0f;
  attention_forward(b.data(), q.data(), k.data(), v.data(), pos.data(), T, T, H, H, D, scratch.data());
  for (int64_t i = 0; i < 5 * H * D; ++i) EXPECT_EQ(a[i], b[i]);
  EXPECT_NE(a[5 * H * D], b[5 * H * D]);
}

TEST(Ops, SwigluMatchesReference) {
  // Serial below 8,192 values, split over the threads from there (uneven splits included).
  for (int64_t n : {1, 15, 1536, 8191, 8193, 24576, 100003}) {
    auto g = randn(n, 13, 4.0f), u = randn(n, 14);
    std::vector<float> y(n), r(n);
    swiglu_forward(y.data(), g.data(), u.data(), n);
    swiglu_forward_ref(r.data(), g.data(), u.data(), n);
    EXPECT_LT(max_abs_diff(y, r), 1e-5f) << "n=" << n;
    // In place over the gate, as the forward pass calls it.
    swiglu_forward(g.data(), g.data(), u.data(), n);
    EXPECT_EQ(g, y) << "n=" << n;
  }
}

TEST(Ops, EmbeddingCopiesRows) {
  const int64_t V = 10, C = 6;
  auto table = randn(V * C, 15);
  std::vector<int32_t> ids = {3, 0, 9, 3};
  std::vector<float> out(ids.size() * C);
  embedding_forward(out.data(), ids.data(), table.data(), ids.size(), C);
  for (size_t t = 0; t < ids.size(); ++t)
    for (int64_t c = 0; c < C; ++c) EXPECT_EQ(out[t * C + c], table[ids[t] * C + c]);
}

TEST(VecMath, ExpFastWithinTwoUlp) {
  // Every 97th float in [-87, 88.7], plus the edges.
  float worst = 0.0f;
  for (float x = -87.0f; x < 88.7f; x += 0.0097f) {
    const double want = std::exp(static_cast<double>(x));
    const float got = exp_fast(x);
    const float ulp = std::nextafter(static_cast<float>(want), INFINITY) - static_cast<float>(want);
    worst = std::max(worst, static_cast<float>(std::fabs(got - want) / ulp));
  }
  EXPECT_LE(worst, 2.0f);
  EXPECT_EQ(exp_fast(0.0f), 1.0f);
  EXPECT_EQ(exp_fast(-INFINITY), 0.0f);
  EXPECT_EQ(exp_fast(-1000.0f), 0.0f);
  EXPECT_EQ(exp_fast(1000.0f), INFINITY);
  EXPECT_TRUE(std::isfinite(exp_fast(88.7f)));
}

TEST(Half, F16RoundTripsEveryValue) {
  for (uint32_t h = 0; h < 65536; ++h) {
    const float f = f16_to_f32(static_cast<uint16_t>(h));
    if (std::isnan(f)) continue;
    EXPECT_EQ(f32_to_f16(f), h) << std::hex << h;
  }
}

TEST(Half, F16RoundsToNearestEven) {
  EXPECT_EQ(f32_to_f16(1.0f + 1.0f / 2048.0f), 0x3c00);  // halfway, rounds to even (down)
  EXPECT_EQ(f32_to_f16(1.0f + 3.0f / 2048.0f), 0x3c02);  // halfway, rounds to even (up)
  EXPECT_EQ(f32_to_f16(65520.0f), 0x7c00);               // overflows to inf
  EXPECT_EQ(f32_to_f16(std::ldexp(1.0f, -25)), 0x0000);  // half of the smallest subnormal
  EXPECT_EQ(f32_to_f16(std::ldexp(1.5f, -25)), 0x0001);
  EXPECT_EQ(f16_to_f32(0x0001), std::ldexp(1.0f, -24));
}

TEST(Half, Bf16) {
  EXPECT_EQ(f32_to_bf16(1.0f), 0x3f80);
  EXPECT_EQ(bf16_to_f32(0x3f80), 1.0f);
  EXPECT_EQ(f32_to_bf16(1.00390625f), 0x3f80);  // halfway between 0x3f80 and 0x3f81: to even
  EXPECT_EQ(f32_to_bf16(1.01171875f), 0x3f82);  // halfway between 0x3f81 and 0x3f82: to even
}

}  // namespace
}  // namespace tsft
