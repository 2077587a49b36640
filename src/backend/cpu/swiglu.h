// SwiGLU gate: out = silu(gate) * up, elementwise (the MLP of Llama/Qwen).
#pragma once

#include <cstdint>

namespace tsft {

// Forward and backward run on the threads from this many values (a 16-sequence decoding step has
// 16 x 1536); below it one thread's vectorized loop is faster than the fork.
constexpr int64_t kSwigluParallelMin = 8192;

// out (n), gate (n), up (n); out may alias gate.
void swiglu_forward(float* out, const float* gate, const float* up, int64_t n);
void swiglu_forward_ref(float* out, const float* gate, const float* up, int64_t n);

// Backward: dgate (n), dup (n) OVERWRITTEN from dout (n), gate (n), up (n).
// Each element is read before it is written, so dgate or dup may alias dout, gate or up.
void swiglu_backward(float* dgate, float* dup, const float* dout, const float* gate,
                     const float* up, int64_t n);
void swiglu_backward_ref(float* dgate, float* dup, const float* dout, const float* gate,
                         const float* up, int64_t n);

}  // namespace tsft
