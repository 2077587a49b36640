// Block dequantization, one thread per output element. Products and sums are explicitly rounded
// intrinsics, in numpy's order ((d * q) + m for Q4_1, ((d * sc) * q) - (dmin * m) for Q4_K), so
// no contraction changes a bit.
#include <cuda_fp16.h>

#include "backend/cuda/common.cuh"
#include "backend/cuda/dequant.h"
#include "core/error.h"

namespace tsft::cuda {
namespace {

// Blocks are 18, 20 or 34 bytes: halves sit at even offsets but read byte-wise anyway.
__device__ inline uint16_t load_u16(const uint8_t* p) {
  return static_cast<uint16_t>(p[0] | (static_cast<uint16_t>(p[1]) << 8));
}
__device__ inline float load_f16(const uint8_t* p) { return __half2float(__ushort_as_half(load_u16(p))); }

// Nibble j of a 16-byte group: low nibbles for j < 16, high nibbles for j >= 16.
__device__ inline int nibble(const uint8_t* qs, int64_t j) {
  return j < 16 ? (qs[j] & 0x0F) : (qs[j - 16] >> 4);
}

// The 6-bit scale and min of sub-block j (0..7) from the 12-byte packing Q4_K and Q5_K share.
__device__ inline void scale_min_k4(const uint8_t* s, int j, int* sc, int* mn) {
  if (j < 4) {
    *sc = s[j] & 0x3F;
    *mn = s[4 + j] & 0x3F;
  } else {
    *sc = (s[8 + j - 4] & 0x0F) | ((s[j - 4] >> 2) & 0x30);
    *mn = (s[8 + j - 4] >> 4) | ((s[j] >> 2) & 0x30);
  }
}

// Element j of block b of type t at src.
__device__ inline float dequant_one(const uint8_t* src, DType t, int64_t b, int j) {
  switch (t) {
    case DType::kQ4_0: {
      const uint8_t* blk = src + b * 18;
      return __fmul_rn(load_f16(blk), static_cast<float>(nibble(blk + 2, j) - 8));
    }
    case DType::kQ4_1: {
      const uint8_t* blk = src + b * 20;
      return __fadd_rn(__fmul_rn(load_f16(blk), static_cast<float>(nibble(blk + 4, j))),
                       load_f16(blk + 2));
    }
    case DType::kQ8_0: {
      const uint8_t* blk = src + b * 34;
      return __fmul_rn(static_cast<float>(static_cast<int8_t>(blk[2 + j])), load_f16(blk));
    }
    case DType::kQ4_K:
    case DType::kQ5_K: {
      // {f16 d, f16 dmin, 12 bytes scales, [Q5_K: 32 bytes high bits,] 128 bytes nibbles}:
      // x = ((d * sc) * q) - (dmin * mn) for sub-block j / 32.
      const bool q5 = t == DType::kQ5_K;
      const uint8_t* blk = src + b * (q5 ? 176 : 144);
      const int sub = j / 32, l = j % 32;
      int sc, mn;
      scale_min_k4(blk + 4, sub, &sc, &mn);
      const uint8_t* qs = blk + (q5 ? 48 : 16) + (sub / 2) * 32;
      int q = (qs[l] >> ((sub % 2) * 4)) & 0x0F;
      if (q5) q |= ((blk[16 + l] >> sub) & 1) << 4;
      const float dl = __fmul_rn(load_f16(blk), static_cast<float>(sc));
      const float ml = __fmul_rn(load_f16(blk + 2), static_cast<float>(mn));
      return __fsub_rn(__fmul_rn(dl, static_cast<float>(q)), ml);
    }
    case DType::kQ6_K: {
      // {128 bytes low nibbles, 64 bytes high 2-bit pairs, 16 int8 scales, f16 d}.
      const uint8_t* blk = src + b * 210;
      const int h = j / 128, r = j % 128;
      const int lo = (blk[h * 64 + r % 64] >> (4 * (r / 64))) & 0x0F;
      const int hi = (blk[128 + h * 32 + r % 32] >> (2 * (r / 32))) & 0x03;
      const float ds = __fmul_rn(load_f16(blk + 208),
                                 static_cast<float>(static_cast<int8_t>(blk[192 + j / 16])));
      return __fmul_rn(ds, static_cast<float>((lo | (hi << 4)) - 32));
    }
    case DType::kF16:
      return load_f16(src + 2 * b);
    case DType::kBF16:
      return __uint_as_float(static_cast<uint32_t>(load_u16(src + 2 * b)) << 16);
    case DType::kF32:
    default:
      return reinterpret_cast<const float*>(src)[b];
  }
}

// One thread per element; qk elements per block (1 for the plain types).
__global__ void dequant_kernel(float* out, const uint8_t* src, DType t, int64_t qk, int64_t n) {
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x)
    out[i] = dequant_one(src, t, i / qk, static_cast<int>(i % qk));
}

}  // namespace

bool dequantize_supported(DType t) {
  switch (t) {
    case DType::kQ4_0: case DType::kQ4_1: case DType::kQ8_0: case DType::kQ4_K:
    case DType::kQ5_K: case DType::kQ6_K: case DType::kF16: case DType::kBF16: case DType::kF32:
      return true;
    default:
      return false;
  }
}

void dequantize(float* out, const void* src, DType t, int64_t n, const Context& ctx) {
  if (!dequantize_supported(t))
    fail("cuda: dequantize: cannot dequantize type ", dtype_name(t), " on the GPU");
  const int64_t block = dtype_info(t).block_elems;
  TSFT_CHECK(n >= 0 && n % block == 0, "dequantize n=", n, " block=", block);
  if (n == 0) return;
  dequant_kernel<<<grid_for(n, 256), 256, 0, ctx.stream()>>>(out, static_cast<const uint8_t*>(src),
                                                             t, block, n);
  check_launch("dequantize");
}

}  // namespace tsft::cuda
