// Dequantization of llama.cpp's block formats to float32 on the GPU, bit-exact with
// backend/cpu/dequant.h (and so with gguf-py): Q4_0, Q4_1, Q8_0, Q4_K, Q5_K, Q6_K, F16/BF16/F32.
#pragma once

#include <cstdint>

#include "backend/cuda/context.h"
#include "core/dtype.h"

namespace tsft::cuda {

// True for the types dequantize takes on the GPU (every weight type backend/cpu/dequant.h takes).
bool dequantize_supported(DType t);

// out (n) float32 from n elements of type t at src (device memory), blocks laid out as in GGUF and
// as backend/cpu/dequant.cpp documents each: Q4_0 {f16 d, 16 nibble bytes}, Q4_1 {f16 d, f16 m,
// 16 nibble bytes}, Q8_0 {f16 d, 32 int8}, and the 256-element K-quant super-blocks. n must be a
// multiple of the block size. Any other type throws "cuda: dequantize: ...".
void dequantize(float* out, const void* src, DType t, int64_t n, const Context& ctx);

}  // namespace tsft::cuda
