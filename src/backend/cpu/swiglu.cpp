#include "backend/cpu/swiglu.h"

#include <cmath>

#include "backend/cpu/vec_math.h"
#include "core/parallel.h"

namespace tsft {

void swiglu_forward(float* out, const float* gate, const float* up, int64_t n) {
  parallel_chunks(n, kSwigluParallelMin, [=](int64_t begin, int64_t end) {
#pragma omp simd
    for (int64_t i = begin; i < end; ++i) {
      const float g = gate[i];
      out[i] = g / (1.0f + exp_fast(-g)) * up[i];
    }
  });
}

void swiglu_forward_ref(float* out, const float* gate, const float* up, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    const double g = gate[i];
    out[i] = static_cast<float>(g / (1.0 + std::exp(-g)) * up[i]);
  }
}

}  // namespace tsft
