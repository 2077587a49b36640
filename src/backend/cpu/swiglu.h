// SwiGLU gate: out = silu(gate) * up, elementwise (the MLP of Llama/Qwen).
#pragma once

#include <cstdint>

namespace tsft {

// out (n), gate (n), up (n); out may alias gate.
void swiglu_forward(float* out, const float* gate, const float* up, int64_t n);
void swiglu_forward_ref(float* out, const float* gate, const float* up, int64_t n);

}  // namespace tsft
