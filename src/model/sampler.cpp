#include "model/sampler.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <vector>

namespace tsft {

int32_t argmax(const float* v, int64_t n) {
  int64_t best = 0;
  for (int64_t i = 1; i < n; ++i)
    if (v[i] > v[best]) best = i;
  return static_cast<int32_t>(best);
}

Sampler::Sampler(const SamplingParams& p) : p_(p), rng_(p.seed) {}

int32_t Sampler::sample(float* logits, int64_t V) {
  if (p_.temperature <= 0.0f) return argmax(logits, V);
  // Order of operations follows transformers' default logits processors: temperature, top-k,
  // top-p, then sample from the renormalised distribution.
  std::vector<int32_t> idx(static_cast<size_t>(V));
  std::iota(idx.begin(), idx.end(), 0);
  int64_t n = V;
  if (p_.top_k > 0 && p_.top_k < V) {
    n = p_.top_k;
    std::partial_sort(idx.begin(), idx.begin() + n, idx.end(),
                      [&](int32_t a, int32_t b) { return logits[a] > logits[b]; });
  } else {
    std::sort(idx.begin(), idx.end(), [&](int32_t a, int32_t b) { return logits[a] > logits[b]; });
  }
  std::vector<double> prob(static_cast<size_t>(n));
  const double mx = logits[idx[0]] / p_.temperature;
  double sum = 0.0;
  for (int64_t i = 0; i < n; ++i) sum += prob[i] = std::exp(logits[idx[i]] / p_.temperature - mx);
  // top-p: keep the smallest prefix whose mass reaches top_p (always at least one token).
  if (p_.top_p < 1.0f) {
    double cum = 0.0;
    int64_t keep = n;
    for (int64_t i = 0; i < n; ++i) {
      cum += prob[i] / sum;
      if (cum >= p_.top_p) {
        keep = i + 1;
        break;
      }
    }
    n = keep;
    sum = 0.0;
    for (int64_t i = 0; i < n; ++i) sum += prob[i];
  }
  double r = rng_.uniform() * sum;
  for (int64_t i = 0; i < n; ++i) {
    r -= prob[i];
    if (r < 0.0) return idx[i];
  }
  return idx[n - 1];
}

}  // namespace tsft
