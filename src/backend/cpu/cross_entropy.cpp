#include "backend/cpu/cross_entropy.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "backend/cpu/matmul.h"
#include "backend/cpu/vec_math.h"
#include "core/error.h"

namespace tsft {

namespace {

// Rows per chunk: the (chunk, V) logits buffer stays near 32 MB (or smaller) for any vocabulary.
int64_t chunk_rows(int64_t V) { return std::clamp<int64_t>((int64_t{1} << 23) / V, 16, 128); }

// exp sums over V entries are taken in float blocks of this size, added up in double.
constexpr int64_t kSumBlock = 1024;

void check_targets(const int32_t* targets, int64_t R, int64_t V) {
  for (int64_t r = 0; r < R; ++r)
    TSFT_CHECK(targets[r] >= 0 && targets[r] < V, "target ", targets[r], " at row ", r, " V=", V);
}

}  // namespace

CrossEntropyResult lm_head_cross_entropy(float* dhidden, float* dweight, const float* hidden,
                                         const int32_t* targets, const float* weight, int64_t R,
                                         int64_t C, int64_t V, float grad_scale) {
  check_targets(targets, R, V);
  CrossEntropyResult result;
  if (R == 0) return result;
  const int64_t chunk = std::min(R, chunk_rows(V));
  const bool need_grad = dhidden != nullptr || dweight != nullptr;
  std::vector<float> logits(chunk * V);
  std::vector<double> row_loss(R);
  std::vector<uint8_t> correct(R);
  for (int64_t r0 = 0; r0 < R; r0 += chunk) {
    const int64_t rc = std::min(chunk, R - r0);
    // BLAS threads itself here (outside any parallel region).
    gemm_nt(logits.data(), V, hidden + r0 * C, C, weight, C, rc, V, C, 1.0f, 0.0f);
#pragma omp parallel for if (rc * V > 65536)
    for (int64_t r = 0; r < rc; ++r) {
      float* row = logits.data() + r * V;
      const int64_t tgt = targets[r0 + r];
      float mx = -std::numeric_limits<float>::infinity();
#pragma omp simd reduction(max : mx)
      for (int64_t j = 0; j < V; ++j) mx = std::max(mx, row[j]);
      int64_t argmax = 0;
      while (argmax < V - 1 && !(row[argmax] == mx)) ++argmax;
      const float target_logit = row[tgt];
      double sum = 0.0;
      for (int64_t j0 = 0; j0 < V; j0 += kSumBlock) {
        const int64_t j1 = std::min(V, j0 + kSumBlock);
        float block = 0.0f;
#pragma omp simd reduction(+ : block)
        for (int64_t j = j0; j < j1; ++j) {
          row[j] = exp_fast(row[j] - mx);
          block += row[j];
        }
        sum += block;
      }
      row_loss[r0 + r] = static_cast<double>(mx) - target_logit + std::log(sum);
      correct[r0 + r] = argmax == tgt;
      if (need_grad) {
        // dlogits = grad_scale * (softmax - onehot), in place.
        const float f = static_cast<float>(grad_scale / sum);
#pragma omp simd
        for (int64_t j = 0; j < V; ++j) row[j] *= f;
        row[tgt] -= grad_scale;
      }
    }
    if (dhidden != nullptr)
      gemm_nn(dhidden + r0 * C, C, logits.data(), V, weight, C, rc, C, V, 1.0f, 0.0f);
    if (dweight != nullptr)
      gemm_tn(dweight, C, logits.data(), V, hidden + r0 * C, C, V, C, rc, 1.0f, 1.0f);
  }
  for (int64_t r = 0; r < R; ++r) {
    result.loss_sum += row_loss[r];
    result.n_correct += correct[r];
  }
  return result;
}

CrossEntropyResult lm_head_cross_entropy_ref(float* dhidden, float* dweight, const float* hidden,
                                             const int32_t* targets, const float* weight,
                                             int64_t R, int64_t C, int64_t V, float grad_scale) {
  check_targets(targets, R, V);
  CrossEntropyResult result;
  std::vector<double> logits(V), gw(dweight != nullptr ? V * C : 0, 0.0), gh(C);
  for (int64_t r = 0; r < R; ++r) {
    const float* h = hidden + r * C;
    double mx = -1e300;
    int64_t argmax = 0;
    for (int64_t j = 0; j < V; ++j) {
      double acc = 0.0;
      for (int64_t c = 0; c < C; ++c) acc += static_cast<double>(h[c]) * weight[j * C + c];
      logits[j] = acc;
      if (acc > mx) {
        mx = acc;
        argmax = j;
      }
    }
    double sum = 0.0;
    for (int64_t j = 0; j < V; ++j) sum += std::exp(logits[j] - mx);
    const double lse = mx + std::log(sum);
    const int64_t tgt = targets[r];
    result.loss_sum += lse - logits[tgt];
    result.n_correct += argmax == tgt;
    std::fill(gh.begin(), gh.end(), 0.0);
    for (int64_t j = 0; j < V; ++j) {
      const double g = grad_scale * (std::exp(logits[j] - lse) - (j == tgt ? 1.0 : 0.0));
      for (int64_t c = 0; c < C; ++c) {
        gh[c] += g * weight[j * C + c];
        if (dweight != nullptr) gw[j * C + c] += g * h[c];
      }
    }
    if (dhidden != nullptr)
      for (int64_t c = 0; c < C; ++c) dhidden[r * C + c] = static_cast<float>(gh[c]);
  }
  if (dweight != nullptr)
    for (int64_t i = 0; i < V * C; ++i) dweight[i] = static_cast<float>(dweight[i] + gw[i]);
  return result;
}

}  // namespace tsft
