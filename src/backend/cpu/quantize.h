// Quantization of float32 rows into llama.cpp's block formats (the inverse of dequant.h), bit-exact
// with ggml's reference quantizers and gguf-py's numpy ones, for writing GGUF files.
#pragma once

#include <cstdint>

namespace tsft {

// Q8_0: blocks of 32 values as {fp16 d, int8 qs[32]} with d = max|x| / 127 and
// qs = round-half-away(x / d). n must be a multiple of 32 (checked); dst holds n / 32 * 34 bytes.
// Each value comes back within d / 2 (plus d's fp16 rounding) of x.
void quantize_row_q8_0(const float* src, void* dst, int64_t n);

}  // namespace tsft
