// Products of quantized weights (Q4_0, Q4_1, Q8_0) with activations quantized to int8, as
// llama.cpp runs them: each 32-element block of an input row becomes int8 values and one float
// scale, the weights' integers and the inputs' are multiplied and summed exactly in int32
// (AVX512-VNNI's vpdpbusd: 64 products an instruction, against 16 for a float32 FMA), and the
// block's sum is scaled once. The weights are used exactly; the inputs are rounded to 1/127 of
// their block's largest magnitude, an error far below the 4-bit weights' own.
#pragma once

#include <cstdint>

#include "core/dtype.h"

namespace tsft {

// True when this build has the integer kernels (AVX512-VNNI) and weights of type t have one.
bool matmul_int8_supported(DType t);

// out (T, N) = in (T, K) @ W^T (+ bias (N), may be null), W (N, K) in blocks of type t, row n at
// byte n * dtype_bytes(t, K), the inputs quantized per block of 32 as quantize_activations does.
// K must be a multiple of 32; requires matmul_int8_supported(t). Parallel over weight rows.
void matmul_int8(float* out, const float* in, const void* w, DType t, const float* bias,
                 int64_t T, int64_t N, int64_t K);

// Scalar reference: the same quantization of the inputs, integer sums, and the blocks' scaled
// sums added in double. With `bound` non-null, also bound (T, N): the largest error the inputs'
// rounding can make in each output, sum over blocks of (scale / 2) * sum |weight|.
void matmul_int8_ref(float* out, const float* in, const void* w, DType t, const float* bias,
                     int64_t T, int64_t N, int64_t K, float* bound = nullptr);

// One block of 32 inputs as int8: scale = max |x| / 127, q[i] = round(x[i] / scale) (to nearest,
// ties to even; all zeros when the block is). Returns the scale.
float quantize_activations(const float* x, int8_t* q);

// Whether decoding multiplies quantized weights with int8 activations (matmul_int8) where the
// CPU can; off by default (float32 inputs, results within float rounding of the exact product).
void set_int8_activations(bool on);
bool int8_activations();

}  // namespace tsft
