// Rotary position embedding on the GPU, as backend/cpu/rope.h applies it (transformers'
// rotate_half, pairs (i, i + D/2)). The frequency schedule (rope_inv_freq) stays on the host.
#pragma once

#include <cstdint>

#include "backend/cuda/context.h"

namespace tsft::cuda {

// cos, sin (T, D/2) for positions pos (T) and inv_freq (D/2) from the CPU's rope_inv_freq.
// Angles are float32 products as on the CPU; cosf/sinf are CUDA's (within 2 ulp of the exact
// value), so the tables match the CPU's to a few ulp, not bit for bit.
void rope_cos_sin(float* cos_out, float* sin_out, const int32_t* pos, const float* inv_freq,
                  int64_t T, int64_t head_dim, const Context& ctx);

// x (T, H, D) rotated in place with cos/sin (T, D/2). D must be even.
void rope_forward(float* x, const float* cos_t, const float* sin_t, int64_t T, int64_t H,
                  int64_t D, const Context& ctx);

// Backward, in place: dx (T, H, D) holds the gradient wrt the rotated output and becomes the
// gradient wrt the input (the transposed rotation).
void rope_backward(float* dx, const float* cos_t, const float* sin_t, int64_t T, int64_t H,
                   int64_t D, const Context& ctx);

}  // namespace tsft::cuda
