#include "train/grad_clip.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "core/error.h"

namespace tsft {
namespace {

// Each block's sum of squares is one fixed sequential loop, and the blocks are added in order, so
// the result is the same on any number of threads.
constexpr int64_t kBlock = 1 << 14;

}  // namespace

double grad_norm(const ParamList& params) {
  struct Block {
    const float* g;
    int64_t n;
  };
  std::vector<Block> blocks;
  for (const Param& p : params) {
    if (p.numel == 0) continue;
    TSFT_CHECK(p.grad != nullptr, "param ", p.name, " has no gradient");
    for (int64_t off = 0; off < p.numel; off += kBlock)
      blocks.push_back({p.grad + off, std::min(kBlock, p.numel - off)});
  }
  std::vector<double> sums(blocks.size(), 0.0);
  const int64_t nb = static_cast<int64_t>(blocks.size());
#pragma omp parallel for schedule(static) if (nb > 4)
  for (int64_t b = 0; b < nb; ++b) {
    const float* g = blocks[b].g;
    const int64_t n = blocks[b].n;
    // Four interleaved accumulators: a fixed order that still vectorizes.
    double acc[4] = {0, 0, 0, 0};
    int64_t j = 0;
    for (; j + 4 <= n; j += 4)
      for (int k = 0; k < 4; ++k) acc[k] += static_cast<double>(g[j + k]) * g[j + k];
    for (; j < n; ++j) acc[0] += static_cast<double>(g[j]) * g[j];
    sums[b] = (acc[0] + acc[1]) + (acc[2] + acc[3]);
  }
  double total = 0.0;
  for (double s : sums) total += s;
  return std::sqrt(total);
}

double clip_grad_norm(const ParamList& params, double max_norm) {
  const double total = grad_norm(params);
  if (!std::isfinite(total) || max_norm <= 0.0) return total;
  const double coef = max_norm / (total + 1e-6);
  if (coef >= 1.0) return total;
  const float c = static_cast<float>(coef);
  for (const Param& p : params) {
    float* __restrict g = p.grad;
    const int64_t n = p.numel;
#pragma omp parallel for simd schedule(static) if (n >= (1 << 15))
    for (int64_t j = 0; j < n; ++j) g[j] *= c;
  }
  return total;
}

}  // namespace tsft
