// Dequantization of llama.cpp's block formats (and F16/BF16/F32) to float32, bit-exact with
// the reference implementation (gguf-py's numpy code, which transformers uses to load GGUF).
#pragma once

#include <cstdint>

#include "core/dtype.h"

namespace tsft {

// Converts n elements of type t at src to float32 at dst. n must be a multiple of the block size.
void dequantize_row(DType t, const void* src, float* dst, int64_t n);

// Scalar reference versions, one per type, kept beside any SIMD version and tested against it.
void dequantize_row_ref(DType t, const void* src, float* dst, int64_t n);

}  // namespace tsft
