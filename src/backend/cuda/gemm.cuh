// Row-major GEMMs through cuBLAS for the CUDA backend's .cu files (matmul, the LM head): the three
// products a Linear layer and its backward need, float32 accumulation, any leading dimension
// packed (ld = number of columns).
#pragma once

#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <cstdint>

#include "backend/cuda/context.h"

namespace tsft::cuda {

// In row-major terms, with C (M, N):
//   kNT: C = alpha * A (M, K) @ B (N, K)^T + beta * C
//   kNN: C = alpha * A (M, K) @ B (K, N)   + beta * C
//   kTN: C = alpha * A (K, M)^T @ B (K, N) + beta * C
// A and B have element type abt (CUDA_R_32F or CUDA_R_16BF), C has ct; computed in float32
// (CUBLAS_COMPUTE_32F: no TF32). Throws tsft::Error naming op on a cuBLAS failure.
enum class Product { kNT, kNN, kTN };
void gemm(Product p, void* c, cudaDataType ct, const void* a, const void* b, cudaDataType abt,
          int64_t M, int64_t N, int64_t K, float alpha, float beta, const Context& ctx,
          const char* op);

}  // namespace tsft::cuda
