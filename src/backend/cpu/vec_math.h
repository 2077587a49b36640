// Vectorizable float math: an exp accurate to ~1 ulp written without calls or branches, so loops
// using it compile to SIMD code (libm's expf is a scalar call that blocks vectorization).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>

namespace tsft {

// e^x for float x; 0 below -87.3 (and for -inf), +inf above 88.7. Cephes-style: x = n ln2 + r,
// |r| <= ln2/2, e^r by a degree-6 polynomial, 2^n put in the exponent bits.
inline float exp_fast(float x) {
  const float hi = 88.7228f, lo = -87.3365f;
  const float xc = x < lo ? lo : (x > hi ? hi : x);
  const float n = __builtin_floorf(xc * 1.44269504088896341f + 0.5f);
  // Two-step reduction keeps r exact: ln2 = C1 + C2.
  float r = xc - n * 0.693359375f;
  r = r - n * -2.12194440e-4f;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * r * r + r + 1.0f;
  // Scale by 2^n in two halves so that n = 128 (x near 88.7) does not overflow the exponent.
  const int32_t ni = static_cast<int32_t>(n);
  const int32_t n1 = ni >> 1, n2 = ni - n1;
  const int32_t b1 = (n1 + 127) << 23, b2 = (n2 + 127) << 23;
  float s1, s2;
  std::memcpy(&s1, &b1, 4);
  std::memcpy(&s2, &b2, 4);
  const float y = p * s1 * s2;
  // Selects, not branches: with -fno-trapping-math the compiler turns them into blends.
  return x > hi ? __builtin_inff() : (x < lo ? 0.0f : y);
}

// One causal attention row in place: row[0, n) becomes its softmax (float32, max subtracted),
// row[n, width) zero. Returns the row's log-sum-exp (training saves it for backward).
inline float causal_softmax_row(float* row, int64_t n, int64_t width) {
  // The max is exact in any order, so a SIMD reduction changes no bit; as a plain loop it is a
  // scalar chain of dependent maxss (a quarter of softmax time at rows of several hundred keys).
  // std::max's own expression, written out: GCC vectorizes the select but not the call.
  float mx = -std::numeric_limits<float>::infinity();
#pragma omp simd reduction(max : mx)
  for (int64_t j = 0; j < n; ++j) mx = mx < row[j] ? row[j] : mx;
  float sum = 0.0f;
#pragma omp simd reduction(+ : sum)
  for (int64_t j = 0; j < n; ++j) {
    row[j] = exp_fast(row[j] - mx);
    sum += row[j];
  }
  const float inv = 1.0f / sum;
#pragma omp simd
  for (int64_t j = 0; j < n; ++j) row[j] *= inv;
  for (int64_t j = n; j < width; ++j) row[j] = 0.0f;
  return mx + std::log(sum);
}

}  // namespace tsft
