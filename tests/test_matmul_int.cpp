// matmul_int (quantized weights x int8 or int16 activations) against its scalar reference, and
// the reference against the exact product: the inputs' rounding stays within the bound it
// reports.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "backend/cpu/dequant.h"
#include "backend/cpu/matmul_int.h"
#include "core/dtype.h"
#include "core/half.h"
#include "quant_blocks.h"

namespace tsft {
namespace {

using testing::random_blocks;

// Inputs like a transformer's: mostly small, a few large outliers, some all-zero blocks.
std::vector<float> random_inputs(int64_t n, std::mt19937& gen) {
  std::normal_distribution<float> dist(0.0f, 1.0f);
  std::uniform_real_distribution<float> u(0.0f, 1.0f);
  std::vector<float> v(static_cast<size_t>(n));
  for (auto& e : v) e = dist(gen) * (u(gen) < 0.01f ? 30.0f : 1.0f);
  if (n >= 64) std::fill(v.begin() + 32, v.begin() + 64, 0.0f);
  return v;
}

// sum_k |w_nk x_tk| for every output: the scale float rounding is measured against.
std::vector<double> magnitudes(const std::vector<uint8_t>& w, DType t, const std::vector<float>& x,
                               int64_t T, int64_t N, int64_t K) {
  std::vector<float> row(static_cast<size_t>(K));
  std::vector<double> mag(static_cast<size_t>(T * N));
  const size_t row_bytes = dtype_bytes(t, K);
  for (int64_t n = 0; n < N; ++n) {
    dequantize_row_ref(t, w.data() + n * row_bytes, row.data(), K);
    for (int64_t i = 0; i < T; ++i) {
      double s = 0.0;
      for (int64_t k = 0; k < K; ++k) s += std::fabs(static_cast<double>(row[k]) * x[i * K + k]);
      mag[i * N + n] = s;
    }
  }
  return mag;
}

TEST(QuantizeActivations, LargestMagnitudeIs127AndRoundingIsWithinHalfAStep) {
  float x[32];
  for (int i = 0; i < 32; ++i) x[i] = 0.37f * static_cast<float>(i - 13);
  int8_t q[32];
  const float scale = quantize_activations(x, q);
  EXPECT_FLOAT_EQ(scale, 0.37f * 18.0f / 127.0f);
  EXPECT_EQ(q[31], 127);  // 0.37 * 18, the largest magnitude
  EXPECT_EQ(q[13], 0);
  for (int i = 0; i < 32; ++i) EXPECT_LE(std::fabs(x[i] - scale * q[i]), 0.5f * scale * 1.0001f);
  x[0] = -100.0f;  // now the largest, negative
  quantize_activations(x, q);
  EXPECT_EQ(q[0], -127);

  float zeros[32] = {};
  std::memset(q, 7, sizeof(q));
  EXPECT_EQ(quantize_activations(zeros, q), 0.0f);
  for (int i = 0; i < 32; ++i) EXPECT_EQ(q[i], 0);

  int16_t q16[32];
  const float scale16 = quantize_activations(x, q16);  // x[0] = -100 is the largest
  EXPECT_FLOAT_EQ(scale16, 100.0f / 32767.0f);
  EXPECT_EQ(q16[0], -32767);
  for (int i = 0; i < 32; ++i)
    EXPECT_LE(std::fabs(x[i] - scale16 * q16[i]), 0.5f * scale16 * 1.0001f);
}

class IntBitsTest : public ::testing::TestWithParam<IntBits> {};

std::string bits_name(const ::testing::TestParamInfo<IntBits>& info) {
  return info.param == IntBits::k8 ? "Int8" : "Int16";
}

TEST_P(IntBitsTest, ReferenceStaysWithinItsBoundOfTheExactProduct) {
  const IntBits bits = GetParam();
  std::mt19937 gen(3);
  const int64_t T = 3, N = 40, K = 576;
  for (DType t : {DType::kQ4_0, DType::kQ4_1, DType::kQ8_0}) {
    const auto w = random_blocks(t, N, K, gen);
    const auto x = random_inputs(T * K, gen);
    std::vector<float> got(static_cast<size_t>(T * N)), bound(got.size());
    matmul_int_ref(got.data(), x.data(), w.data(), t, nullptr, T, N, K, bits, bound.data());
    const auto mag = magnitudes(w, t, x, T, N, K);
    double err_sum = 0.0, mag_sum = 0.0;
    std::vector<float> row(static_cast<size_t>(K));
    for (int64_t i = 0; i < T; ++i) {
      for (int64_t n = 0; n < N; ++n) {
        // the exact product of the dequantized weights with the float inputs, in double
        dequantize_row_ref(t, w.data() + n * dtype_bytes(t, K), row.data(), K);
        double s = 0.0;
        for (int64_t k = 0; k < K; ++k) s += static_cast<double>(row[k]) * x[i * K + k];
        const double err = std::fabs(got[i * N + n] - s);
        EXPECT_LE(err, bound[i * N + n] + 1e-6 * mag[i * N + n] + 1e-6)
            << dtype_name(t) << " row " << i << " output " << n;
        EXPECT_GT(bound[i * N + n], 0.0f);
        err_sum += err;
        mag_sum += mag[i * N + n];
      }
    }
    // The rounding is small next to the products themselves: here about 0.2% for int8 and 256
    // times less for int16.
    EXPECT_LT(err_sum / mag_sum, bits == IntBits::k8 ? 1e-2 : 5e-5) << dtype_name(t);
    EXPECT_GT(err_sum / mag_sum, bits == IntBits::k8 ? 1e-4 : 1e-8) << dtype_name(t);
  }
}

TEST_P(IntBitsTest, KernelsMatchTheReferenceForEveryTypeAndShape) {
  const IntBits bits = GetParam();
  if (!matmul_int_supported(DType::kQ4_1))
    GTEST_SKIP() << "this build has no integer kernels (the CPU lacks AVX512-VNNI); the "
                    "reference is still tested";
  std::mt19937 gen(7);
  for (DType t : {DType::kQ4_0, DType::kQ4_1, DType::kQ8_0}) {
    for (int64_t K : {32, 96, 576, 1536}) {
      for (int64_t N : {1, 7, 37}) {
        const auto w = random_blocks(t, N, K, gen);
        std::vector<float> bias(static_cast<size_t>(N));
        for (auto& b : bias) b = std::normal_distribution<float>(0.0f, 1.0f)(gen);
        for (int64_t T : {1, 2, 5, 9, 16, 17, 33}) {
          if (bits == IntBits::k16 && T == 1) continue;  // int16 needs 2+ rows
          const auto x = random_inputs(T * K, gen);
          std::vector<float> fast(static_cast<size_t>(T * N)), ref(fast.size());
          const float* b = (T % 2) ? bias.data() : nullptr;
          matmul_int(fast.data(), x.data(), w.data(), t, b, T, N, K, bits);
          matmul_int_ref(ref.data(), x.data(), w.data(), t, b, T, N, K, bits);
          const auto mag = magnitudes(w, t, x, T, N, K);
          for (int64_t i = 0; i < T * N; ++i)
            ASSERT_NEAR(fast[i], ref[i], 1e-5 * mag[i] + 1e-5 * std::fabs(ref[i]) + 1e-6)
                << dtype_name(t) << " T=" << T << " N=" << N << " K=" << K << " at " << i;
        }
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(MatmulInt, IntBitsTest, ::testing::Values(IntBits::k8, IntBits::k16),
                         bits_name);

TEST(MatmulInt, Int8OneInputGivesTheSameAloneAsInABatch) {
  if (!matmul_int_supported(DType::kQ4_1))
    GTEST_SKIP() << "this build has no integer kernels (the CPU lacks AVX512-VNNI)";
  std::mt19937 gen(11);
  const int64_t T = 12, N = 64, K = 576;
  const auto w = random_blocks(DType::kQ4_1, N, K, gen);
  const auto x = random_inputs(T * K, gen);
  std::vector<float> batch(static_cast<size_t>(T * N)), alone(static_cast<size_t>(N));
  matmul_int(batch.data(), x.data(), w.data(), DType::kQ4_1, nullptr, T, N, K, IntBits::k8);
  const auto mag = magnitudes(w, DType::kQ4_1, x, T, N, K);
  for (int64_t i = 0; i < T; ++i) {
    matmul_int(alone.data(), x.data() + i * K, w.data(), DType::kQ4_1, nullptr, 1, N, K,
               IntBits::k8);
    for (int64_t n = 0; n < N; ++n)
      EXPECT_NEAR(alone[n], batch[i * N + n], 1e-5 * mag[i * N + n] + 1e-6);
  }
}

TEST_P(IntBitsTest, AGroupGivesWhatEachProductGivesAlone) {
  const IntBits bits = GetParam();
  if (!matmul_int_supported(DType::kQ4_1))
    GTEST_SKIP() << "this build has no integer kernels (the CPU lacks AVX512-VNNI)";
  std::mt19937 gen(13);
  const int64_t K = 576;
  const DType types[3] = {DType::kQ4_1, DType::kQ8_0, DType::kQ4_0};
  const int64_t Ns[3] = {64, 19, 40};
  std::vector<std::vector<uint8_t>> w;
  for (int i = 0; i < 3; ++i) w.push_back(random_blocks(types[i], Ns[i], K, gen));
  std::vector<float> bias(19, 0.25f);
  for (int64_t T : {1, 3, 16, 21}) {
    if (bits == IntBits::k16 && T == 1) continue;
    const auto x = random_inputs(T * K, gen);
    std::vector<std::vector<float>> group(3), alone(3);
    IntProduct products[3];
    for (int i = 0; i < 3; ++i) {
      group[i].assign(static_cast<size_t>(T * Ns[i]), -1.0f);
      alone[i].resize(group[i].size());
      products[i] = {group[i].data(), w[i].data(), types[i], i == 1 ? bias.data() : nullptr,
                     Ns[i]};
      matmul_int(alone[i].data(), x.data(), w[i].data(), types[i], products[i].bias, T, Ns[i], K,
                 bits);
    }
    matmul_int_group(x.data(), T, K, products, 3, bits);
    for (int i = 0; i < 3; ++i)
      EXPECT_EQ(group[i], alone[i]) << "product " << i << " T=" << T;  // the same arithmetic
  }
}

// Callers check the type and shape first; a wrong one is a bug, reported with the cause.
TEST(MatmulIntDeathTest, RejectsUnsupportedTypesAndShapes) {
  std::vector<float> out(4), in(64);
  std::vector<uint8_t> w(256);
  EXPECT_DEATH(matmul_int_ref(out.data(), in.data(), w.data(), DType::kF32, nullptr, 1, 1, 32,
                              IntBits::k8),
               "unsupported weight type F32");
  EXPECT_DEATH(matmul_int_ref(out.data(), in.data(), w.data(), DType::kQ4_1, nullptr, 1, 1, 48,
                              IntBits::k8),
               "K must be a multiple of 32");
  if (matmul_int_supported(DType::kQ4_1)) {
    EXPECT_DEATH(matmul_int(out.data(), in.data(), w.data(), DType::kQ4_1, nullptr, 1, 1, 32,
                            IntBits::k16),
                 "int16 inputs need 2 or more rows");
  }
}

TEST(Activations, DefaultIsAutoAndTheSettingSticks) {
  EXPECT_EQ(activations(), Activations::kAuto);
  set_activations(Activations::kInt8);
  EXPECT_EQ(activations(), Activations::kInt8);
  set_activations(Activations::kF32);
  EXPECT_EQ(activations(), Activations::kF32);
  set_activations(Activations::kAuto);
}

}  // namespace
}  // namespace tsft
