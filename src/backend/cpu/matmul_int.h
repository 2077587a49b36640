// Products of quantized weights (Q4_0, Q4_1, Q8_0) with the activations quantized to integers,
// as llama.cpp runs them: each 32-element block of an input row becomes integers and one float
// scale, the weights' integers and the inputs' are multiplied and summed exactly in int32
// (AVX512-VNNI: vpdpbusd does 64 byte products an instruction, vpdpwssd 32 16-bit ones, against
// 16 for a float32 FMA), and the block's sum is scaled once. The weights are used exactly.
//
// Two precisions of the inputs: int8 (llama.cpp's: each input off by up to 1/254 of its block's
// largest magnitude; fastest) and int16 (off by up to 1/65534 of it; on SmolLM2-135M, whose few
// outlier channels make some blocks' largest magnitude large, logits move by up to about 0.01).
#pragma once

#include <cstdint>
#include <string>

#include "core/dtype.h"

namespace tsft {

enum class IntBits { k8, k16 };

// True when this build has the integer kernels (AVX512-VNNI) and weights of type t have one.
bool matmul_int_supported(DType t);

// out (T, N) = in (T, K) @ W^T (+ bias (N), may be null), W (N, K) in blocks of type t, row n at
// byte n * dtype_bytes(t, K), the inputs quantized per block of 32 (quantize_activations).
// K must be a multiple of 32; requires matmul_int_supported(t). Parallel over weight rows.
// int16 inputs need T >= 2 (one row is a matrix-vector product, float32 is as fast there).
void matmul_int(float* out, const float* in, const void* w, DType t, const float* bias,
                int64_t T, int64_t N, int64_t K, IntBits bits);

// One product of a group: out (T, N) = in @ W^T (+ bias), W (N, K) of type t.
struct IntProduct {
  float* out;
  const void* w;
  DType t;
  const float* bias;
  int64_t N;
};

// Several products of the same inputs (a layer's q, k and v; gate and up): the inputs are
// quantized once and all products share one parallel region.
void matmul_int_group(const float* in, int64_t T, int64_t K, const IntProduct* products, int n,
                      IntBits bits);

// Scalar reference: the same quantization of the inputs, integer sums, and the blocks' scaled
// sums added in double. With `bound` non-null, also bound (T, N): the largest error the inputs'
// rounding can make in each output, sum over blocks of (scale / 2) * sum |weight|.
void matmul_int_ref(float* out, const float* in, const void* w, DType t, const float* bias,
                    int64_t T, int64_t N, int64_t K, IntBits bits, float* bound = nullptr);

// One block of 32 inputs as integers of `bits`: scale = max |x| / qmax (127 or 32767),
// q[i] = round(x[i] / scale) (to nearest, ties to even; all zeros when the block is), computed
// as x[i] * (qmax / max |x|). Returns the scale.
float quantize_activations(const float* x, int8_t* q);
float quantize_activations(const float* x, int16_t* q);

// How inference multiplies a GGUF's quantized weights (model/linear.cpp reads it):
//   kF32:  float32 inputs everywhere, within float rounding of the exact product;
//   kAuto: int16 inputs for steps of several sequences with 6-16 rows in all (a server's batched
//          decoding; 1.3-1.5x the float kernel there, logits within about 0.01 of kF32's),
//          float32 otherwise;
//   kInt8: int8 inputs everywhere (1.5-2x at 16 rows, 1.1-1.3x at one), llama.cpp's arithmetic.
// The default is kAuto; where the CPU has no integer kernels every setting computes as kF32.
enum class Activations { kF32, kAuto, kInt8 };
void set_activations(Activations a);
Activations activations();
// "f32", "auto" or "int8" as the setting; false for any other name.
bool parse_activations(const std::string& name, Activations* a);
// What the products do now, for startup lines and reports: "auto (int16 for batched steps)",
// "int8", "f32", or "f32 (no AVX512-VNNI)" where the CPU has no integer kernels.
std::string activations_summary();

}  // namespace tsft
