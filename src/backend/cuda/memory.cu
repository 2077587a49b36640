// Device allocation, copies and float32 <-> bfloat16 conversion.
#include <cuda_bf16.h>

#include "backend/cuda/common.cuh"
#include "backend/cuda/memory.h"
#include "core/error.h"

namespace tsft::cuda {

void* device_alloc(size_t bytes, const char* what) {
  if (bytes == 0) return nullptr;
  void* p = nullptr;
  const cudaError_t err = cudaMalloc(&p, bytes);
  if (err != cudaSuccess) {
    (void)cudaGetLastError();
    fail("cuda: ", what, ": ", cudaGetErrorString(err), " (asked for ", bytes, " bytes)");
  }
  return p;
}

void device_free(void* p) {
  if (p != nullptr) cudaFree(p);
}

void copy_to_device(void* dst, const void* src, size_t bytes, const Context& ctx, const char* op) {
  if (bytes == 0) return;
  check_cuda(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyHostToDevice, ctx.stream()), op);
}

void copy_to_host_sync(void* dst, const void* src, size_t bytes, const Context& ctx,
                       const char* op) {
  if (bytes == 0) return;
  check_cuda(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToHost, ctx.stream()), op);
  ctx.synchronize(op);
}

void copy_device_to_device(void* dst, const void* src, size_t bytes, const Context& ctx,
                           const char* op) {
  if (bytes == 0) return;
  check_cuda(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToDevice, ctx.stream()), op);
}

void fill_zero(void* dst, size_t bytes, const Context& ctx, const char* op) {
  if (bytes == 0) return;
  check_cuda(cudaMemsetAsync(dst, 0, bytes, ctx.stream()), op);
}

namespace {

__global__ void f32_to_bf16_kernel(uint16_t* out, const float* in, int64_t n) {
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x)
    out[i] = __bfloat16_as_ushort(__float2bfloat16_rn(in[i]));
}

__global__ void bf16_to_f32_kernel(float* out, const uint16_t* in, int64_t n) {
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x)
    out[i] = __bfloat162float(__ushort_as_bfloat16(in[i]));
}

}  // namespace

void convert_f32_to_bf16(uint16_t* out, const float* in, int64_t n, const Context& ctx) {
  if (n <= 0) return;
  f32_to_bf16_kernel<<<grid_for(n, 256), 256, 0, ctx.stream()>>>(out, in, n);
  check_launch("convert_f32_to_bf16");
}

void convert_bf16_to_f32(float* out, const uint16_t* in, int64_t n, const Context& ctx) {
  if (n <= 0) return;
  bf16_to_f32_kernel<<<grid_for(n, 256), 256, 0, ctx.stream()>>>(out, in, n);
  check_launch("convert_bf16_to_f32");
}

}  // namespace tsft::cuda
