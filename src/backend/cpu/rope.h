// Rotary position embedding exactly as transformers applies it (rotate_half, "NeoX" layout:
// pairs (i, i + D/2)), with the default and llama3 frequency schedules.
#pragma once

#include <cstdint>
#include <vector>

namespace tsft {

struct RopeScaling {
  // kFactors: per-frequency divisors stored in the file (llama.cpp's rope_freqs.weight).
  enum class Type { kNone, kLlama3, kLinear, kFactors } type = Type::kNone;
  float factor = 1.0f;
  float low_freq_factor = 1.0f;
  float high_freq_factor = 4.0f;
  float original_max_position = 8192.0f;
  std::vector<float> freq_factors;  // (D/2) for kFactors
};

// inv_freq (D/2): 1 / theta^(2i/D) in float32 as torch computes it, then the scaling rule.
void rope_inv_freq(float* inv_freq, int64_t head_dim, float theta, const RopeScaling& scaling);

// cos, sin (T, D/2) for the given positions (T).
void rope_cos_sin(float* cos_out, float* sin_out, const int32_t* pos, const float* inv_freq,
                  int64_t T, int64_t head_dim);

// x (T, H, D) rotated in place with cos/sin (T, D/2).
void rope_forward(float* x, const float* cos_t, const float* sin_t, int64_t T, int64_t H,
                  int64_t D);
void rope_forward_ref(float* x, const int32_t* pos, const float* inv_freq, int64_t T, int64_t H,
                      int64_t D);

// Backward, in place: dx (T, H, D) holds the gradient wrt the rotated output and becomes the
// gradient wrt the input (the rotation is orthogonal: apply its transpose). cos/sin (T, D/2).
void rope_backward(float* dx, const float* cos_t, const float* sin_t, int64_t T, int64_t H,
                   int64_t D);
void rope_backward_ref(float* dx, const float* cos_t, const float* sin_t, int64_t T, int64_t H,
                       int64_t D);

}  // namespace tsft
