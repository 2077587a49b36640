#include "backend/cpu/rope.h"

#include <cmath>
#include <vector>

namespace tsft {

void rope_inv_freq(float* inv_freq, int64_t head_dim, float theta, const RopeScaling& scaling) {
  const int64_t half = head_dim / 2;
  for (int64_t i = 0; i < half; ++i) {
    // torch: 1.0 / (base ** (arange(0, dim, 2).float() / dim)), all in float32.
    const float exponent = static_cast<float>(2 * i) / static_cast<float>(head_dim);
    inv_freq[i] = 1.0f / std::pow(theta, exponent);
  }
  if (scaling.type == RopeScaling::Type::kFactors) {
    for (int64_t i = 0; i < half; ++i) inv_freq[i] /= scaling.freq_factors.at(i);
  } else if (scaling.type == RopeScaling::Type::kLinear) {
    for (int64_t i = 0; i < half; ++i) inv_freq[i] /= scaling.factor;
  } else if (scaling.type == RopeScaling::Type::kLlama3) {
    // transformers' _compute_llama3_parameters, in float32.
    const float old_ctx = scaling.original_max_position;
    const float low_wavelen = old_ctx / scaling.low_freq_factor;
    const float high_wavelen = old_ctx / scaling.high_freq_factor;
    const float pi2 = static_cast<float>(2.0 * M_PI);
    for (int64_t i = 0; i < half; ++i) {
      const float f = inv_freq[i];
      const float wavelen = pi2 / f;
      float g = wavelen > low_wavelen ? f / scaling.factor : f;
      const bool medium = !(wavelen < high_wavelen) && !(wavelen > low_wavelen);
      if (medium) {
        const float smooth = (old_ctx / wavelen - scaling.low_freq_factor) /
                             (scaling.high_freq_factor - scaling.low_freq_factor);
        g = (1.0f - smooth) * g / scaling.factor + smooth * g;
      }
      inv_freq[i] = g;
    }
  }
}

void rope_cos_sin(float* cos_out, float* sin_out, const int32_t* pos, const float* inv_freq,
                  int64_t T, int64_t head_dim) {
  const int64_t half = head_dim / 2;
  for (int64_t t = 0; t < T; ++t) {
    const float p = static_cast<float>(pos[t]);
    for (int64_t i = 0; i < half; ++i) {
      const float a = p * inv_freq[i];
      cos_out[t * half + i] = std::cos(a);
      sin_out[t * half + i] = std::sin(a);
    }
  }
}

namespace {
// x (T, H, D) rotated in place by +angle (forward) or by -angle (the transpose, for backward).
// Negating sin is exact, so backward is the forward loop with the other sign.
template <bool kTranspose>
void rotate(float* x, const float* cos_t, const float* sin_t, int64_t T, int64_t H, int64_t D) {
  const int64_t half = D / 2;
#pragma omp parallel for if (T * H > 64)
  for (int64_t th = 0; th < T * H; ++th) {
    const int64_t t = th / H;
    float* v = x + th * D;
    const float* c = cos_t + t * half;
    const float* s = sin_t + t * half;
#pragma omp simd
    for (int64_t i = 0; i < half; ++i) {
      const float a = v[i], b = v[i + half];
      const float si = kTranspose ? -s[i] : s[i];
      v[i] = a * c[i] - b * si;
      v[i + half] = b * c[i] + a * si;
    }
  }
}
}  // namespace

void rope_forward(float* x, const float* cos_t, const float* sin_t, int64_t T, int64_t H,
                  int64_t D) {
  rotate<false>(x, cos_t, sin_t, T, H, D);
}

void rope_backward(float* dx, const float* cos_t, const float* sin_t, int64_t T, int64_t H,
                   int64_t D) {
  rotate<true>(dx, cos_t, sin_t, T, H, D);
}

void rope_forward_ref(float* x, const int32_t* pos, const float* inv_freq, int64_t T, int64_t H,
                      int64_t D) {
  const int64_t half = D / 2;
  for (int64_t t = 0; t < T; ++t)
    for (int64_t h = 0; h < H; ++h) {
      float* v = x + (t * H + h) * D;
      for (int64_t i = 0; i < half; ++i) {
        const double ang = static_cast<double>(static_cast<float>(pos[t]) * inv_freq[i]);
        const double a = v[i], b = v[i + half];
        v[i] = static_cast<float>(a * std::cos(ang) - b * std::sin(ang));
        v[i + half] = static_cast<float>(b * std::cos(ang) + a * std::sin(ang));
      }
    }
}

}  // namespace tsft
