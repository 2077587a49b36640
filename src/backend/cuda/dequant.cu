// Block dequantization, one thread per output element. Products and sums are explicitly rounded
// intrinsics, in numpy's order ((d * q) + m for Q4_1), so no contraction changes a bit.
#include <cuda_fp16.h>

#include "backend/cuda/common.cuh"
#include "backend/cuda/dequant.h"
#include "core/error.h"

namespace tsft::cuda {
namespace {

constexpr int64_t kQK = 32;  // elements per Q4_0/Q4_1/Q8_0 block

// Blocks are 18, 20 or 34 bytes: halves sit at even offsets but read byte-wise anyway.
__device__ inline uint16_t load_u16(const uint8_t* p) {
  return static_cast<uint16_t>(p[0] | (static_cast<uint16_t>(p[1]) << 8));
}
__device__ inline float load_f16(const uint8_t* p) { return __half2float(__ushort_as_half(load_u16(p))); }

// Nibble j of a 16-byte group: low nibbles for j < 16, high nibbles for j >= 16.
__device__ inline int nibble(const uint8_t* qs, int64_t j) {
  return j < 16 ? (qs[j] & 0x0F) : (qs[j - 16] >> 4);
}

__global__ void dequant_kernel(float* out, const uint8_t* src, DType t, int64_t n) {
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const int64_t b = i / kQK, j = i % kQK;
    float x;
    switch (t) {
      case DType::kQ4_0: {
        const uint8_t* blk = src + b * 18;
        x = __fmul_rn(load_f16(blk), static_cast<float>(nibble(blk + 2, j) - 8));
        break;
      }
      case DType::kQ4_1: {
        const uint8_t* blk = src + b * 20;
        x = __fadd_rn(__fmul_rn(load_f16(blk), static_cast<float>(nibble(blk + 4, j))),
                      load_f16(blk + 2));
        break;
      }
      case DType::kQ8_0: {
        const uint8_t* blk = src + b * 34;
        x = __fmul_rn(static_cast<float>(static_cast<int8_t>(blk[2 + j])), load_f16(blk));
        break;
      }
      case DType::kF16:
        x = load_f16(src + 2 * i);
        break;
      case DType::kBF16:
        x = __uint_as_float(static_cast<uint32_t>(load_u16(src + 2 * i)) << 16);
        break;
      case DType::kF32:
      default:
        x = reinterpret_cast<const float*>(src)[i];
        break;
    }
    out[i] = x;
  }
}

}  // namespace

bool dequantize_supported(DType t) {
  return t == DType::kQ4_0 || t == DType::kQ4_1 || t == DType::kQ8_0 || t == DType::kF16 ||
         t == DType::kBF16 || t == DType::kF32;
}

void dequantize(float* out, const void* src, DType t, int64_t n, const Context& ctx) {
  if (!dequantize_supported(t))
    fail("cuda: dequantize: type ", dtype_name(t), " is not supported on the GPU yet");
  const int64_t block = dtype_info(t).block_elems;
  TSFT_CHECK(n >= 0 && n % block == 0, "dequantize n=", n, " block=", block);
  if (n == 0) return;
  dequant_kernel<<<grid_for(n, 256), 256, 0, ctx.stream()>>>(out, static_cast<const uint8_t*>(src),
                                                             t, n);
  check_launch("dequantize");
}

}  // namespace tsft::cuda
