// Linear layers: out = inp @ weight^T (+ bias), PyTorch's nn.Linear convention, on the CPU.
// The fast path is BLAS sgemm; the scalar reference is the definition.
// Backward rule for every CPU op: parameter gradients (weights, biases) are accumulated (+=);
// input gradients are accumulated or overwritten as each declaration says.
#pragma once

#include <cstdint>

namespace tsft {

// out (M, N) = inp (M, K) @ weight (N, K)^T + bias (N); bias may be null. Overwrites out.
void matmul_forward(float* out, const float* inp, const float* weight, const float* bias,
                    int64_t M, int64_t K, int64_t N);
void matmul_forward_ref(float* out, const float* inp, const float* weight, const float* bias,
                        int64_t M, int64_t K, int64_t N);

// Backward of matmul_forward. dout (M, N), inp (M, K), weight (N, K).
// dinp (M, K) OVERWRITTEN when non-null (null: not needed);
// dweight (N, K) accumulated when non-null; dbias (N) accumulated when non-null.
void matmul_backward(float* dinp, float* dweight, float* dbias, const float* dout,
                     const float* inp, const float* weight, int64_t M, int64_t K, int64_t N);
void matmul_backward_ref(float* dinp, float* dweight, float* dbias, const float* dout,
                         const float* inp, const float* weight, int64_t M, int64_t K, int64_t N);

// Plain row-major GEMM for attention: C (M, N) = alpha * A (M, K) @ B^T or B, with leading
// dimensions, so strided views (one head inside a (T, H, D) tensor) need no copies.
void gemm_nt(float* c, int64_t ldc, const float* a, int64_t lda, const float* b, int64_t ldb,
             int64_t M, int64_t N, int64_t K, float alpha, float beta);  // C = a*A@B^T + b*C
void gemm_nn(float* c, int64_t ldc, const float* a, int64_t lda, const float* b, int64_t ldb,
             int64_t M, int64_t N, int64_t K, float alpha, float beta);  // C = a*A@B + b*C
// C (M, N) = alpha * A^T @ B + beta * C with A (K, M), B (K, N): weight gradients.
void gemm_tn(float* c, int64_t ldc, const float* a, int64_t lda, const float* b, int64_t ldb,
             int64_t M, int64_t N, int64_t K, float alpha, float beta);

}  // namespace tsft
