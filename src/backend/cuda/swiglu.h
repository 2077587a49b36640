// SwiGLU gate on the GPU, out = silu(gate) * up elementwise, and its backward, as
// backend/cpu/swiglu.h defines them.
#pragma once

#include <cstdint>

#include "backend/cuda/context.h"

namespace tsft::cuda {

// out (n), gate (n), up (n); out may alias gate or up.
void swiglu_forward(float* out, const float* gate, const float* up, int64_t n, const Context& ctx);

// dgate (n), dup (n) OVERWRITTEN from dout (n), gate (n), up (n). Each element is read before it
// is written (by the same thread), so dgate or dup may alias dout, gate or up.
void swiglu_backward(float* dgate, float* dup, const float* dout, const float* gate,
                     const float* up, int64_t n, const Context& ctx);

}  // namespace tsft::cuda
