#include "backend/cpu/matmul.h"

#include <cblas.h>

namespace tsft {

void matmul_forward(float* out, const float* inp, const float* weight, const float* bias,
                    int64_t M, int64_t K, int64_t N) {
  if (M == 1) {
    // One row (decoding): a matrix-vector product reads the weight once.
    cblas_sgemv(CblasRowMajor, CblasNoTrans, N, K, 1.0f, weight, K, inp, 1, 0.0f, out, 1);
  } else {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, M, N, K, 1.0f, inp, K, weight, K, 0.0f,
                out, N);
  }
  if (bias != nullptr) {
    for (int64_t m = 0; m < M; ++m)
      for (int64_t n = 0; n < N; ++n) out[m * N + n] += bias[n];
  }
}

void matmul_forward_ref(float* out, const float* inp, const float* weight, const float* bias,
                        int64_t M, int64_t K, int64_t N) {
  for (int64_t m = 0; m < M; ++m) {
    for (int64_t n = 0; n < N; ++n) {
      double acc = bias != nullptr ? bias[n] : 0.0;
      for (int64_t k = 0; k < K; ++k) acc += static_cast<double>(inp[m * K + k]) * weight[n * K + k];
      out[m * N + n] = static_cast<float>(acc);
    }
  }
}

void gemm_nt(float* c, int64_t ldc, const float* a, int64_t lda, const float* b, int64_t ldb,
             int64_t M, int64_t N, int64_t K, float alpha, float beta) {
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, M, N, K, alpha, a, lda, b, ldb, beta, c,
              ldc);
}

void gemm_nn(float* c, int64_t ldc, const float* a, int64_t lda, const float* b, int64_t ldb,
             int64_t M, int64_t N, int64_t K, float alpha, float beta) {
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, M, N, K, alpha, a, lda, b, ldb, beta, c,
              ldc);
}

}  // namespace tsft
