// SwiGLU backward: out = silu(g) * u with silu(g) = g * sigmoid(g).
#include <cmath>

#include "backend/cpu/swiglu.h"
#include "backend/cpu/vec_math.h"
#include "core/parallel.h"

namespace tsft {

// dup = dout * silu(g); dgate = dout * u * sigmoid(g) * (1 + g * (1 - sigmoid(g))).
void swiglu_backward(float* dgate, float* dup, const float* dout, const float* gate,
                     const float* up, int64_t n) {
  parallel_chunks(n, kSwigluParallelMin, [=](int64_t begin, int64_t end) {
#pragma omp simd
    for (int64_t i = begin; i < end; ++i) {
      const float g = gate[i], u = up[i], dy = dout[i];
      const float sg = 1.0f / (1.0f + exp_fast(-g));
      dup[i] = dy * g * sg;
      dgate[i] = dy * u * sg * (1.0f + g * (1.0f - sg));
    }
  });
}

void swiglu_backward_ref(float* dgate, float* dup, const float* dout, const float* gate,
                         const float* up, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    const double g = gate[i], u = up[i], dy = dout[i];
    const double sg = 1.0 / (1.0 + std::exp(-g));
    dup[i] = static_cast<float>(dy * g * sg);
    dgate[i] = static_cast<float>(dy * u * sg * (1.0 + g * (1.0 - sg)));
  }
}

}  // namespace tsft
