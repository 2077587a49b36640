// RMSNorm on the GPU, as backend/cpu/rmsnorm.h defines it (transformers' LlamaRMSNorm in float32):
// out = weight * (x * rsqrt(mean(x^2) + eps)), the training forward that saves rstd, and backward.
#pragma once

#include <cstdint>

#include "backend/cuda/context.h"

namespace tsft::cuda {

// out (rows, C), rstd (rows) may be null (inference), inp (rows, C), weight (C). out may alias
// inp. One block per row; the sum of squares is a fixed-order block reduction.
void rmsnorm_forward(float* out, float* rstd, const float* inp, const float* weight, float eps,
                     int64_t rows, int64_t C, const Context& ctx);

// dinp (rows, C) ACCUMULATED (+=); dweight (C) accumulated, may be null (frozen weight);
// dout, inp (rows, C); weight (C); rstd (rows) from rmsnorm_forward. dinp must not alias dout or
// inp. dweight sums rows in a fixed order (per column, strided lanes then a fixed tree).
void rmsnorm_backward(float* dinp, float* dweight, const float* dout, const float* inp,
                      const float* weight, const float* rstd, int64_t rows, int64_t C,
                      const Context& ctx);

}  // namespace tsft::cuda
