#include "backend/cpu/attention_tree.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "backend/cpu/matmul.h"
#include "backend/cpu/vec_math.h"
#include "core/error.h"

namespace tsft {
namespace {

// Rows per task: small enough that Hq * blocks tasks keep every thread busy to the end, large
// enough that the prefix GEMMs of one block still run near BLAS speed.
constexpr int64_t kRowBlock = 64;

// Longest ancestor chain (a token counts itself). Checks the forest's invariant on the way.
int64_t max_chain_length(const int32_t* parent, int64_t T, std::vector<int32_t>& depth) {
  depth.resize(static_cast<size_t>(T));
  int64_t longest = 0;
  for (int64_t i = 0; i < T; ++i) {
    TSFT_CHECK(parent[i] >= -1 && parent[i] < i, "parent[", i, "] = ", parent[i]);
    depth[i] = parent[i] < 0 ? 1 : depth[parent[i]] + 1;
    longest = std::max<int64_t>(longest, depth[i]);
  }
  return longest;
}

}  // namespace

int64_t attention_tree_scratch_floats(const int32_t* parent, int64_t T, int64_t P, int64_t Hq) {
  std::vector<int32_t> depth;
  return Hq * T * (P + max_chain_length(parent, T, depth));
}

void attention_tree_forward(float* out, const float* q, const float* k, const float* v,
                            const float* k_prefix, const float* v_prefix, const int32_t* parent,
                            int64_t T, int64_t P, int64_t Hq, int64_t Hkv, int64_t D,
                            float* scratch) {
  if (T == 0) return;
  TSFT_CHECK(Hq % Hkv == 0 && (P == 0 || (k_prefix != nullptr && v_prefix != nullptr)));
  std::vector<int32_t> depth;
  const int64_t W = P + max_chain_length(parent, T, depth);  // scratch row: prefix, then chain
  const int64_t group = Hq / Hkv, QS = Hq * D, KS = Hkv * D;
  const float scale = 1.0f / std::sqrt(static_cast<float>(D));
  const int64_t blocks = (T + kRowBlock - 1) / kRowBlock;

  // One task per (head, block of rows). The prefix part is two BLAS GEMMs per task (BLAS runs
  // single-threaded inside the parallel region); the chains are short (prompt + candidate), so
  // their dot products and weighted sums run as SIMD loops over D.
#pragma omp parallel for schedule(dynamic, 1)
  for (int64_t task = 0; task < Hq * blocks; ++task) {
    const int64_t h = task / blocks, hk = h / group;
    const int64_t t0 = (task % blocks) * kRowBlock, rows = std::min(kRowBlock, T - t0);
    float* scores = scratch + (h * T + t0) * W;  // (rows, W)
    if (P > 0)
      gemm_nt(scores, W, q + t0 * QS + h * D, QS, k_prefix + hk * D, KS, rows, P, D, scale, 0.0f);
    for (int64_t r = 0; r < rows; ++r) {
      const int64_t t = t0 + r;
      float* row = scores + r * W;
      const float* qt = q + t * QS + h * D;
      int64_t c = P;
      for (int64_t j = t; j >= 0; j = parent[j], ++c) {
        const float* kj = k + j * KS + hk * D;
        float acc = 0.0f;
#pragma omp simd reduction(+ : acc)
        for (int64_t d = 0; d < D; ++d) acc += qt[d] * kj[d];
        row[c] = acc * scale;
      }
      causal_softmax_row(row, c, c);
    }
    float* oh = out + t0 * QS + h * D;
    if (P > 0) {
      gemm_nn(oh, QS, scores, W, v_prefix + hk * D, KS, rows, D, P, 1.0f, 0.0f);
    } else {
      for (int64_t r = 0; r < rows; ++r) std::fill(oh + r * QS, oh + r * QS + D, 0.0f);
    }
    for (int64_t r = 0; r < rows; ++r) {
      const int64_t t = t0 + r;
      const float* row = scores + r * W;
      float* o = oh + r * QS;
      int64_t c = P;
      for (int64_t j = t; j >= 0; j = parent[j], ++c) {
        const float p = row[c];
        const float* vj = v + j * KS + hk * D;
#pragma omp simd
        for (int64_t d = 0; d < D; ++d) o[d] += p * vj[d];
      }
    }
  }
}

void attention_tree_forward_ref(float* out, const float* q, const float* k, const float* v,
                                const float* k_prefix, const float* v_prefix,
                                const int32_t* parent, int64_t T, int64_t P, int64_t Hq,
                                int64_t Hkv, int64_t D) {
  const int64_t group = Hq / Hkv;
  const double scale = 1.0 / std::sqrt(static_cast<double>(D));
  for (int64_t t = 0; t < T; ++t) {
    TSFT_CHECK(parent[t] >= -1 && parent[t] < t, "parent[", t, "] = ", parent[t]);
    // The keys token t sees: prefix rows, then its ancestors (order does not matter to softmax).
    std::vector<const float*> keys, values;
    for (int64_t s = 0; s < P; ++s) {
      keys.push_back(k_prefix + s * Hkv * D);
      values.push_back(v_prefix + s * Hkv * D);
    }
    for (int64_t j = t; j >= 0; j = parent[j]) {
      keys.push_back(k + j * Hkv * D);
      values.push_back(v + j * Hkv * D);
    }
    const size_t n = keys.size();
    std::vector<double> p(n);
    for (int64_t h = 0; h < Hq; ++h) {
      const int64_t hk = h / group;
      double mx = -1e300;
      for (size_t s = 0; s < n; ++s) {
        double acc = 0.0;
        for (int64_t d = 0; d < D; ++d)
          acc += static_cast<double>(q[(t * Hq + h) * D + d]) * keys[s][hk * D + d];
        p[s] = acc * scale;
        mx = std::max(mx, p[s]);
      }
      double sum = 0.0;
      for (size_t s = 0; s < n; ++s) sum += (p[s] = std::exp(p[s] - mx));
      for (int64_t d = 0; d < D; ++d) {
        double acc = 0.0;
        for (size_t s = 0; s < n; ++s) acc += p[s] / sum * values[s][hk * D + d];
        out[(t * Hq + h) * D + d] = static_cast<float>(acc);
      }
    }
  }
}

}  // namespace tsft
