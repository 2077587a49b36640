// RoPE backward: the transpose of the forward rotation.
#include "backend/cpu/rope.h"

namespace tsft {

// The fast rope_backward shares the forward's loop in rope.cpp.
void rope_backward_ref(float* dx, const float* cos_t, const float* sin_t, int64_t T, int64_t H,
                       int64_t D) {
  const int64_t half = D / 2;
  for (int64_t t = 0; t < T; ++t)
    for (int64_t h = 0; h < H; ++h) {
      float* v = dx + (t * H + h) * D;
      for (int64_t i = 0; i < half; ++i) {
        const double c = cos_t[t * half + i], s = sin_t[t * half + i];
        const double a = v[i], b = v[i + half];
        v[i] = static_cast<float>(a * c + b * s);
        v[i + half] = static_cast<float>(b * c - a * s);
      }
    }
}

}  // namespace tsft
