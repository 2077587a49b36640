// Shared by the CUDA backend's .cu files only (never included by plain C++): error checks that
// name the op, launch-size helpers and warp reductions.
#pragma once

#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <cstdint>

#include "backend/cuda/context.h"

namespace tsft::cuda {

// Throws tsft::Error "cuda: <op>: <message>" (a failed allocation is a user's problem: too
// large a batch for the device; a bad launch is a bug, but a message beats an abort on a GPU).
[[noreturn]] void fail_cuda(cudaError_t err, const char* op);
[[noreturn]] void fail_cublas(cublasStatus_t status, const char* op);

inline void check_cuda(cudaError_t err, const char* op) {
  if (err != cudaSuccess) fail_cuda(err, op);
}
inline void check_cublas(cublasStatus_t status, const char* op) {
  if (status != CUBLAS_STATUS_SUCCESS) fail_cublas(status, op);
}
// After a kernel launch: reports a bad configuration (too many threads, too much shared memory).
inline void check_launch(const char* op) { check_cuda(cudaGetLastError(), op); }

inline int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

// Blocks for a grid-stride elementwise loop of n items with `threads` per block.
inline unsigned int grid_for(int64_t n, int threads) {
  const int64_t blocks = ceil_div(n > 0 ? n : 1, threads);
  return static_cast<unsigned int>(blocks < 65535 * 16 ? blocks : 65535 * 16);
}

__device__ __forceinline__ float warp_sum(float x) {
#pragma unroll
  for (int o = 16; o > 0; o >>= 1) x += __shfl_xor_sync(0xffffffffu, x, o);
  return x;
}
__device__ __forceinline__ float warp_max(float x) {
#pragma unroll
  for (int o = 16; o > 0; o >>= 1) x = fmaxf(x, __shfl_xor_sync(0xffffffffu, x, o));
  return x;
}

// Sum over the block (blockDim.x a multiple of 32, at most 1024) in a fixed order; every thread
// gets the result. `shared` holds 32 floats; the call ends with a barrier so it can be reused.
__device__ __forceinline__ float block_sum(float x, float* shared) {
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, n_warps = blockDim.x >> 5;
  x = warp_sum(x);
  if (lane == 0) shared[warp] = x;
  __syncthreads();
  float total = lane < n_warps ? shared[lane] : 0.0f;
  total = warp_sum(total);
  __syncthreads();
  return total;
}

}  // namespace tsft::cuda
