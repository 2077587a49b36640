// Matrix-vector products straight from llama.cpp's quantized blocks (decoding reads each weight
// once, so reading 4.5-8.5 bits instead of 32 per weight is what makes it fast). The weights are
// used exactly as dequantize_row gives them; only the float32 summation order differs.
#pragma once

#include <cstdint>

#include "core/dtype.h"

namespace tsft {

// True when matvec_quant supports weights of type t (Q4_0, Q4_1, Q8_0).
bool matvec_quant_supported(DType t);

// out (N) = W (N, K) @ x (K) (+ bias (N), may be null), W in blocks of type t, row-major: row n
// starts at byte n * dtype_bytes(t, K). K must be a multiple of the block size. Parallel over rows.
void matvec_quant(float* out, const float* x, const void* w, DType t, const float* bias,
                  int64_t N, int64_t K);
// Scalar reference: dequantize each row (dequantize_row_ref) and sum in double.
void matvec_quant_ref(float* out, const float* x, const void* w, DType t, const float* bias,
                      int64_t N, int64_t K);

// out (T, N) = in (T, K) @ W^T (+ bias), for the few rows of a batched decoding step: each weight
// row is dequantized once (dequantize_row, exact) and dotted with all T input rows while it is
// in L1, so the blocks are read from memory once per call instead of once per input row, and
// no float32 copy of W is needed. T == 1 is matvec_quant. Parallel over weight rows.
void matmul_quant(float* out, const float* in, const void* w, DType t, const float* bias,
                  int64_t T, int64_t N, int64_t K);
// Scalar reference: matvec_quant_ref for each input row.
void matmul_quant_ref(float* out, const float* in, const void* w, DType t, const float* bias,
                      int64_t T, int64_t N, int64_t K);

// out (T, N) = in (T, K) @ W^T (+ bias) with W (N, K) float32: matmul_quant's broadcast kernel
// reading W as it is, for batched decoding steps of 7-16 rows of a model with no quantized
// blocks. No packing, unlike sgemm, whose copy of the whole matrix costs more than a few rows'
// arithmetic. Any T (passes of 16 rows), any K.
void matmul_f32_broadcast(float* out, const float* in, const float* w, const float* bias,
                          int64_t T, int64_t N, int64_t K);
// The same with matmul_quant's dot form (2 weight rows x up to 6 input rows in registers), for
// 2-6 rows, where the broadcast form would compute 16 columns for a few. Any T, K a multiple of 8.
void matmul_f32_dot(float* out, const float* in, const float* w, const float* bias, int64_t T,
                    int64_t N, int64_t K);

}  // namespace tsft
