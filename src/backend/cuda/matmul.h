// Linear layers on the GPU through cuBLAS: out = inp @ weight^T (+ bias), nn.Linear's convention
// as in backend/cpu/matmul.h, in float32 (SGEMM, no TF32) and with bfloat16 inputs accumulated in
// float32 (cublasGemmEx, CUBLAS_COMPUTE_32F). Bias add and bias gradient are our own kernels.
#pragma once

#include <cstdint>

#include "backend/cuda/context.h"

namespace tsft::cuda {

// out (M, N) = inp (M, K) @ weight (N, K)^T + bias (N); bias may be null. Overwrites out.
void matmul_forward(float* out, const float* inp, const float* weight, const float* bias,
                    int64_t M, int64_t K, int64_t N, const Context& ctx);

// Backward of matmul_forward. dout (M, N), inp (M, K), weight (N, K).
// dinp (M, K) OVERWRITTEN when non-null; dweight (N, K) and dbias (N) accumulated when non-null.
// dbias sums rows in row order (no atomics).
void matmul_backward(float* dinp, float* dweight, float* dbias, const float* dout,
                     const float* inp, const float* weight, int64_t M, int64_t K, int64_t N,
                     const Context& ctx);

// bfloat16 inputs (raw bits, as core/half.h), float32 accumulation and float32 output:
// out (M, N) = inp (M, K) @ weight (N, K)^T + bias (N, float32, may be null). Overwrites out.
void matmul_forward_bf16(float* out, const uint16_t* inp, const uint16_t* weight,
                         const float* bias, int64_t M, int64_t K, int64_t N, const Context& ctx);

// Backward with bfloat16 operands, float32 accumulation and float32 gradients:
// dinp (M, K) OVERWRITTEN = dout @ weight, when non-null;
// dweight (N, K) ACCUMULATED += dout^T @ inp, when non-null (the float32 master gradient).
void matmul_backward_bf16(float* dinp, float* dweight, const uint16_t* dout, const uint16_t* inp,
                          const uint16_t* weight, int64_t M, int64_t K, int64_t N,
                          const Context& ctx);

}  // namespace tsft::cuda
