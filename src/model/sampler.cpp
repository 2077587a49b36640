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
  const double inv_t = 1.0 / p_.temperature;
  const double mx = logits[argmax(logits, V)] * inv_t;
  const bool top_k = p_.top_k > 0 && p_.top_k < V;
  if (!top_k && p_.top_p >= 1.0f) {
    // Plain temperature sampling needs no order: one pass for the mass, one to find the draw.
    // (Sorting the vocabulary per token cost milliseconds, which a server pays per sequence.)
    weights_.resize(static_cast<size_t>(V));
    double sum = 0.0;
    for (int64_t i = 0; i < V; ++i) sum += weights_[i] = std::exp(logits[i] * inv_t - mx);
    double r = rng_.uniform() * sum;
    for (int64_t i = 0; i < V; ++i) {
      r -= weights_[i];
      if (r < 0.0) return static_cast<int32_t>(i);
    }
    return argmax(logits, V);
  }
  std::vector<int32_t> idx(static_cast<size_t>(V));
  std::iota(idx.begin(), idx.end(), 0);
  auto by_logit = [&](int32_t a, int32_t b) { return logits[a] > logits[b]; };
  int64_t n = V;
  double total = 0.0;  // the mass top-p is measured against
  if (top_k) {
    n = p_.top_k;
    std::partial_sort(idx.begin(), idx.begin() + n, idx.end(), by_logit);
    for (int64_t i = 0; i < n; ++i) total += std::exp(logits[idx[i]] * inv_t - mx);
  } else {
    // top-p alone: the nucleus almost always lies in the few most likely tokens, so sort those
    // first and the whole vocabulary only when they do not reach top_p.
    for (int64_t i = 0; i < V; ++i) total += std::exp(logits[i] * inv_t - mx);
    n = std::min<int64_t>(V, 1024);
    std::partial_sort(idx.begin(), idx.begin() + n, idx.end(), by_logit);
    double head = 0.0;
    for (int64_t i = 0; i < n; ++i) head += std::exp(logits[idx[i]] * inv_t - mx);
    if (head / total < p_.top_p) {
      std::sort(idx.begin(), idx.end(), by_logit);
      n = V;
    }
  }
  std::vector<double> prob(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) prob[i] = std::exp(logits[idx[i]] * inv_t - mx);
  double sum = top_k ? total : 0.0;
  if (!top_k)
    for (int64_t i = 0; i < n; ++i) sum += prob[i];
  // top-p: keep the smallest prefix whose mass reaches top_p (always at least one token).
  if (p_.top_p < 1.0f) {
    double cum = 0.0;
    int64_t keep = n;
    for (int64_t i = 0; i < n; ++i) {
      cum += prob[i] / total;
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
