// Linear layer backward (dinp, dweight, dbias) with BLAS, and its scalar reference.
#include <cblas.h>

#include <algorithm>
#include <vector>

#include "backend/cpu/matmul.h"

namespace tsft {

namespace {
constexpr int64_t kColumnBlock = 64;
}  // namespace

void gemm_tn(float* c, int64_t ldc, const float* a, int64_t lda, const float* b, int64_t ldb,
             int64_t M, int64_t N, int64_t K, float alpha, float beta) {
  cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, M, N, K, alpha, a, lda, b, ldb, beta, c,
              ldc);
}

void matmul_backward(float* dinp, float* dweight, float* dbias, const float* dout,
                     const float* inp, const float* weight, int64_t M, int64_t K, int64_t N) {
  if (dinp != nullptr) {
    // dinp (M, K) = dout (M, N) @ weight (N, K)
    if (N == 0) {
      std::fill(dinp, dinp + M * K, 0.0f);
    } else if (M > 0 && K > 0) {
      gemm_nn(dinp, K, dout, N, weight, K, M, K, N, 1.0f, 0.0f);
    }
  }
  if (M == 0) return;
  // dweight (N, K) += dout^T (N, M) @ inp (M, K)
  if (dweight != nullptr && N > 0 && K > 0) gemm_tn(dweight, K, dout, N, inp, K, N, K, M, 1.0f, 1.0f);
  if (dbias != nullptr) {
    // Threads split the columns; each column sums its rows in row order.
    const int64_t n_blocks = (N + kColumnBlock - 1) / kColumnBlock;
#pragma omp parallel for if (M * N > 65536)
    for (int64_t blk = 0; blk < n_blocks; ++blk) {
      const int64_t n0 = blk * kColumnBlock, w = std::min(N - n0, kColumnBlock);
      float acc[kColumnBlock] = {};
      for (int64_t m = 0; m < M; ++m) {
        const float* g = dout + m * N + n0;
#pragma omp simd
        for (int64_t j = 0; j < w; ++j) acc[j] += g[j];
      }
      for (int64_t j = 0; j < w; ++j) dbias[n0 + j] += acc[j];
    }
  }
}

void matmul_backward_ref(float* dinp, float* dweight, float* dbias, const float* dout,
                         const float* inp, const float* weight, int64_t M, int64_t K, int64_t N) {
  if (dinp != nullptr)
    for (int64_t m = 0; m < M; ++m)
      for (int64_t k = 0; k < K; ++k) {
        double acc = 0.0;
        for (int64_t n = 0; n < N; ++n) acc += static_cast<double>(dout[m * N + n]) * weight[n * K + k];
        dinp[m * K + k] = static_cast<float>(acc);
      }
  if (dweight != nullptr)
    for (int64_t n = 0; n < N; ++n)
      for (int64_t k = 0; k < K; ++k) {
        double acc = dweight[n * K + k];
        for (int64_t m = 0; m < M; ++m) acc += static_cast<double>(dout[m * N + n]) * inp[m * K + k];
        dweight[n * K + k] = static_cast<float>(acc);
      }
  if (dbias != nullptr)
    for (int64_t n = 0; n < N; ++n) {
      double acc = dbias[n];
      for (int64_t m = 0; m < M; ++m) acc += dout[m * N + n];
      dbias[n] = static_cast<float>(acc);
    }
}

}  // namespace tsft
