// matvec_quant (SIMD or scalar fallback, whichever this build compiled) against the scalar
// reference matvec_quant_ref, on random blocks of every supported type and on real model rows.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "backend/cpu/dequant.h"
#include "backend/cpu/matvec_quant.h"
#include "core/dtype.h"
#include "core/half.h"
#include "io/gguf.h"
#include "quant_blocks.h"
#include "test_util.h"

namespace tsft {
namespace {

using testing::random_blocks;

std::vector<float> random_vector(int64_t n, std::mt19937& gen) {
  std::normal_distribution<float> dist(0.0f, 1.0f);
  std::vector<float> v(static_cast<size_t>(n));
  for (auto& e : v) e = dist(gen);
  return v;
}

// |fast - ref| <= 1e-5 * sum_k |w_k x_k| + 1e-6 for every output.
void expect_close(const void* w, DType t, const float* x, const float* bias, int64_t N, int64_t K,
                  const std::string& what) {
  std::vector<float> fast(static_cast<size_t>(N)), ref(static_cast<size_t>(N));
  matvec_quant(fast.data(), x, w, t, bias, N, K);
  matvec_quant_ref(ref.data(), x, w, t, bias, N, K);
  const size_t row_bytes = dtype_bytes(t, K);
  std::vector<float> row(static_cast<size_t>(K));
  int failures = 0;
  for (int64_t n = 0; n < N && failures < 5; ++n) {
    dequantize_row_ref(t, static_cast<const uint8_t*>(w) + n * row_bytes, row.data(), K);
    double mag = 0.0;
    for (int64_t k = 0; k < K; ++k) mag += std::fabs(static_cast<double>(row[k]) * x[k]);
    const double tol = 1e-5 * mag + 1e-6;
    const double err = std::fabs(static_cast<double>(fast[n]) - ref[n]);
    if (err > tol) ++failures;
    EXPECT_LE(err, tol) << what << " row " << n << ": fast " << fast[n] << " ref " << ref[n];
  }
}

TEST(MatvecQuant, Supported) {
  EXPECT_TRUE(matvec_quant_supported(DType::kQ4_0));
  EXPECT_TRUE(matvec_quant_supported(DType::kQ4_1));
  EXPECT_TRUE(matvec_quant_supported(DType::kQ8_0));
  EXPECT_FALSE(matvec_quant_supported(DType::kF32));
  EXPECT_FALSE(matvec_quant_supported(DType::kQ4_K));
}

TEST(MatvecQuant, RandomBlocksMatchReference) {
  std::mt19937 gen(42);
  for (DType t : {DType::kQ4_0, DType::kQ4_1, DType::kQ8_0}) {
    for (int64_t N : {1, 3, 64, 577}) {
      for (int64_t K : {32, 64, 576, 1536}) {
        const auto w = random_blocks(t, N, K, gen);
        const auto x = random_vector(K, gen);
        const std::string what = std::string(dtype_name(t)) + " N=" + std::to_string(N) +
                                 " K=" + std::to_string(K);
        expect_close(w.data(), t, x.data(), nullptr, N, K, what);
        const auto bias = random_vector(N, gen);
        expect_close(w.data(), t, x.data(), bias.data(), N, K, what + " +bias");
      }
    }
  }
}

// Exact results where both sides are exact: all-ones x with one-hot rows checks the element
// order (low nibbles 0..15, high nibbles 16..31) independently of rounding.
TEST(MatvecQuant, ElementOrder) {
  const int64_t K = 64;
  for (DType t : {DType::kQ4_0, DType::kQ4_1, DType::kQ8_0}) {
    std::mt19937 gen(7);
    const auto w = random_blocks(t, 1, K, gen);
    std::vector<float> row(K);
    dequantize_row_ref(t, w.data(), row.data(), K);
    for (int64_t k = 0; k < K; ++k) {
      std::vector<float> x(K, 0.0f);
      x[k] = 1.0f;
      float out = 0.0f;
      matvec_quant(&out, x.data(), w.data(), t, nullptr, 1, K);
      EXPECT_FLOAT_EQ(out, row[k]) << dtype_name(t) << " element " << k;
    }
  }
}

// matmul_quant over T input rows (tile remainders included) against the per-row reference,
// with the same tolerance as matvec_quant; T == 1 takes matvec_quant's path.
TEST(MatmulQuant, RandomBlocksMatchReference) {
  std::mt19937 gen(11);
  for (DType t : {DType::kQ4_0, DType::kQ4_1, DType::kQ8_0}) {
    for (int64_t T : {1, 2, 5, 8, 9, 16, 23}) {
      for (int64_t N : {1, 7, 13, 96}) {  // around the 6- or 12-row tiles, and several of them
        for (int64_t K : {32, 576, 1536}) {
          const auto w = random_blocks(t, N, K, gen);
          const auto x = random_vector(T * K, gen);
          const auto bias = random_vector(N, gen);
          for (const float* b : {static_cast<const float*>(nullptr), bias.data()}) {
            std::vector<float> fast(static_cast<size_t>(T * N), -1.0f), ref(fast.size());
            matmul_quant(fast.data(), x.data(), w.data(), t, b, T, N, K);
            matmul_quant_ref(ref.data(), x.data(), w.data(), t, b, T, N, K);
            const size_t row_bytes = dtype_bytes(t, K);
            std::vector<float> row(static_cast<size_t>(K));
            int failures = 0;
            for (int64_t n = 0; n < N && failures < 5; ++n) {
              dequantize_row_ref(t, w.data() + n * row_bytes, row.data(), K);
              for (int64_t i = 0; i < T; ++i) {
                double mag = 0.0;
                for (int64_t k = 0; k < K; ++k) mag += std::fabs(static_cast<double>(row[k]) * x[i * K + k]);
                const double err = std::fabs(static_cast<double>(fast[i * N + n]) - ref[i * N + n]);
                if (err > 1e-5 * mag + 1e-6) ++failures;
                EXPECT_LE(err, 1e-5 * mag + 1e-6)
                    << dtype_name(t) << " T=" << T << " N=" << N << " K=" << K << " row " << i
                    << " col " << n << (b ? " +bias" : "");
              }
            }
          }
        }
      }
    }
  }
}

// Each output lands in its own (row, column): one-hot input rows pick single weights exactly.
TEST(MatmulQuant, OutputLayout) {
  const int64_t T = 11, N = 5, K = 64;
  std::mt19937 gen(5);
  const auto w = random_blocks(DType::kQ8_0, N, K, gen);
  std::vector<float> deq(static_cast<size_t>(N * K));
  dequantize_row_ref(DType::kQ8_0, w.data(), deq.data(), N * K);
  std::vector<float> x(static_cast<size_t>(T * K), 0.0f);
  for (int64_t i = 0; i < T; ++i) x[i * K + (i * 7) % K] = 1.0f;
  std::vector<float> out(static_cast<size_t>(T * N));
  matmul_quant(out.data(), x.data(), w.data(), DType::kQ8_0, nullptr, T, N, K);
  for (int64_t i = 0; i < T; ++i)
    for (int64_t n = 0; n < N; ++n)
      EXPECT_FLOAT_EQ(out[i * N + n], deq[n * K + (i * 7) % K]) << "row " << i << " col " << n;
}

// matmul_f32_broadcast and matmul_f32_dot against a double-precision sum of the same weights,
// at every row count around their tiles (6 rows, or 12 with AVX-512; 16-row passes) and at widths that are not
// multiples of a SIMD vector (the broadcast form takes any K, the dot form multiples of 8); the
// bound is the float32 rounding of a K-term sum.
TEST(MatmulF32, MatchesDoubleSum) {
  std::mt19937 gen(13);
  for (int64_t T : {1, 2, 5, 6, 7, 9, 15, 16, 17, 33}) {
    for (int64_t N : {1, 5, 6, 7, 11, 12, 13, 25}) {
      for (int64_t K : {1, 3, 8, 16, 576}) {
        const auto w = random_vector(N * K, gen);
        const auto x = random_vector(T * K, gen);
        const auto bias = random_vector(N, gen);
        for (bool dot : {false, true}) {
          if (dot && K % 8 != 0) continue;
          for (const float* b : {static_cast<const float*>(nullptr), bias.data()}) {
            std::vector<float> out(static_cast<size_t>(T * N), -1.0f);
            if (dot)
              matmul_f32_dot(out.data(), x.data(), w.data(), b, T, N, K);
            else
              matmul_f32_broadcast(out.data(), x.data(), w.data(), b, T, N, K);
            for (int64_t i = 0; i < T; ++i)
              for (int64_t n = 0; n < N; ++n) {
                double sum = b ? b[n] : 0.0, mag = b ? std::fabs(b[n]) : 0.0;
                for (int64_t k = 0; k < K; ++k) {
                  sum += static_cast<double>(w[n * K + k]) * x[i * K + k];
                  mag += std::fabs(static_cast<double>(w[n * K + k]) * x[i * K + k]);
                }
                ASSERT_NEAR(out[i * N + n], sum, 1e-6 * mag + 1e-6)
                    << (dot ? "dot" : "broadcast") << " T=" << T << " N=" << N << " K=" << K
                    << " row " << i << " col " << n << (b ? " +bias" : "");
              }
          }
        }
      }
    }
  }
}

TEST(MatvecQuant, ModelRows) {
  const std::string path = tsft::testing::default_model_path();
  if (!std::filesystem::exists(path)) GTEST_SKIP() << "missing " << path;
  GgufFile file(path);
  std::mt19937 gen(3);
  struct Case {
    const char* name;
    DType type;
    int64_t max_rows;
  };
  for (const Case& c : {Case{"blk.0.ffn_up.weight", DType::kQ4_1, 1 << 30},
                        Case{"blk.0.ffn_down.weight", DType::kQ4_1, 1 << 30},
                        Case{"token_embd.weight", DType::kQ8_0, 100}}) {
    const GgufTensorInfo* info = file.find_tensor(c.name);
    ASSERT_NE(info, nullptr) << c.name;
    ASSERT_EQ(info->dtype, c.type) << c.name;
    ASSERT_EQ(info->ne.size(), 2u) << c.name;
    const int64_t K = info->ne[0];
    const int64_t N = std::min<int64_t>(info->ne[1], c.max_rows);
    const auto x = random_vector(K, gen);
    expect_close(info->data, c.type, x.data(), nullptr, N, K, c.name);
  }
}

}  // namespace
}  // namespace tsft
