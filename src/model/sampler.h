// Picks the next token from logits: greedy, or temperature + top-k + top-p sampling with a seed.
#pragma once

#include <cstdint>
#include <vector>

#include "core/rng.h"

namespace tsft {

struct SamplingParams {
  float temperature = 0.0f;  // 0 = greedy
  int32_t top_k = 0;         // 0 = off
  float top_p = 1.0f;        // 1 = off
  uint64_t seed = 0;
};

class Sampler {
 public:
  explicit Sampler(const SamplingParams& p);
  // logits (V); may be reordered/overwritten.
  int32_t sample(float* logits, int64_t V);

 private:
  SamplingParams p_;
  Rng rng_;
  std::vector<double> weights_;  // exp(logit / T - max) per token, reused between calls
};

// The index of the largest value; the lowest index wins ties, as torch.argmax does.
int32_t argmax(const float* v, int64_t n);

}  // namespace tsft
