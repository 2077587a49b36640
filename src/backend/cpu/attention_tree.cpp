#include "backend/cpu/attention_tree.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "backend/cpu/matmul.h"
#include "backend/cpu/vec_math.h"
#include "core/error.h"

namespace tsft {
namespace {

// Tokens per task: small enough that Hkv * blocks tasks keep every thread busy to the end, large
// enough that the prefix GEMMs of one block (group * kRowBlock rows) run near BLAS speed.
constexpr int64_t kRowBlock = 128;

// A dense block (see below) computes every key in the range its tokens' chains span; it is used
// when that range is at most this many times the chains' total length, since BLAS runs several
// times faster than the per-key loops.
constexpr int64_t kDenseWaste = 4;

// Per token: depth (chain length, the token counts itself) and root (the chain's first token,
// also its smallest index since parents come first). Checks the forest's invariant on the way.
int64_t chains(const int32_t* parent, int64_t T, std::vector<int32_t>& depth,
               std::vector<int32_t>& root) {
  depth.resize(static_cast<size_t>(T));
  root.resize(static_cast<size_t>(T));
  int64_t longest = 0;
  for (int64_t i = 0; i < T; ++i) {
    TSFT_CHECK(parent[i] >= -1 && parent[i] < i, "parent[", i, "] = ", parent[i]);
    depth[i] = parent[i] < 0 ? 1 : depth[parent[i]] + 1;
    root[i] = parent[i] < 0 ? static_cast<int32_t>(i) : root[parent[i]];
    longest = std::max<int64_t>(longest, depth[i]);
  }
  return longest;
}

}  // namespace

// Per (head, token): a score row of P + the longest chain.
int64_t attention_tree_scratch_floats(const int32_t* parent, int64_t T, int64_t P, int64_t Hq) {
  std::vector<int32_t> depth, root;
  return Hq * T * (P + chains(parent, T, depth, root));
}

void attention_tree_forward(float* out, const float* q, const float* k, const float* v,
                            const float* k_prefix, const float* v_prefix, const int32_t* parent,
                            int64_t T, int64_t P, int64_t Hq, int64_t Hkv, int64_t D,
                            float* scratch) {
  if (T == 0) return;
  TSFT_CHECK(Hq % Hkv == 0 && (P == 0 || (k_prefix != nullptr && v_prefix != nullptr)));
  std::vector<int32_t> depth, root;
  const int64_t W = P + chains(parent, T, depth, root);  // score row: prefix, then chain
  const int64_t group = Hq / Hkv, QS = Hq * D, KS = Hkv * D;
  const float scale = 1.0f / std::sqrt(static_cast<float>(D));
  const int64_t blocks = (T + kRowBlock - 1) / kRowBlock;

  // One task per (KV head, block of tokens). The group's query heads share the prefix keys and
  // values, so their rows are packed (head-major, D contiguous) into one operand: the prefix part
  // is then two BLAS GEMMs of group * rows rows (BLAS runs single-threaded inside the parallel
  // region), and each prefix K/V panel is packed once per block instead of once per head.
  // The chains: short ones (prompt + candidate, among many other examples' tokens) by SIMD loops
  // over each ancestor; long ones (whole sequences, as for perplexity) by a dense block: two GEMMs
  // over the batch keys [lo, end of block) that hold every chain of the block, with only the
  // ancestors' scores used.
#pragma omp parallel for schedule(dynamic, 1)
  for (int64_t task = 0; task < Hkv * blocks; ++task) {
    const int64_t hk = task / blocks;
    const int64_t t0 = (task % blocks) * kRowBlock, rows = std::min(kRowBlock, T - t0);
    const int64_t M = group * rows;  // packed row (j, r): head hk * group + j, token t0 + r
    float* scores = scratch + (hk * group * T + group * t0) * W;  // (M, W)
    thread_local std::vector<float> qpack, opack, block;
    if (static_cast<int64_t>(qpack.size()) < M * D) {
      qpack.resize(static_cast<size_t>(M * D));
      opack.resize(static_cast<size_t>(M * D));
    }
    for (int64_t j = 0; j < group; ++j)
      for (int64_t r = 0; r < rows; ++r)
        std::copy_n(q + (t0 + r) * QS + (hk * group + j) * D, D, qpack.data() + (j * rows + r) * D);
    int64_t lo = t0, chain_keys = 0;
    for (int64_t r = 0; r < rows; ++r) {
      lo = std::min<int64_t>(lo, root[t0 + r]);
      chain_keys += depth[t0 + r];
    }
    const int64_t span = t0 + rows - lo;
    const bool dense = span * rows <= kDenseWaste * chain_keys;
    if (dense && static_cast<int64_t>(block.size()) < M * span)
      block.resize(static_cast<size_t>(M * span));
    float* bm = block.data();  // (M, span) when dense: scores, then probabilities

    if (P > 0)
      gemm_nt(scores, W, qpack.data(), D, k_prefix + hk * D, KS, M, P, D, scale, 0.0f);
    if (dense) gemm_nt(bm, span, qpack.data(), D, k + lo * KS + hk * D, KS, M, span, D, scale, 0.0f);
    for (int64_t m = 0; m < M; ++m) {
      float* row = scores + m * W;
      const float* qm = qpack.data() + m * D;
      int64_t c = P;
      for (int64_t j = t0 + m % rows; j >= 0; j = parent[j], ++c) {
        if (dense) {
          row[c] = bm[m * span + j - lo];
          continue;
        }
        const float* kj = k + j * KS + hk * D;
        float acc = 0.0f;
#pragma omp simd reduction(+ : acc)
        for (int64_t d = 0; d < D; ++d) acc += qm[d] * kj[d];
        row[c] = acc * scale;
      }
      causal_softmax_row(row, c, c);
    }
    if (P > 0) {
      gemm_nn(opack.data(), D, scores, W, v_prefix + hk * D, KS, M, D, P, 1.0f, 0.0f);
    } else if (!dense) {
      std::fill(opack.begin(), opack.begin() + M * D, 0.0f);
    }
    if (dense) {
      for (int64_t m = 0; m < M; ++m) {
        const float* row = scores + m * W;
        float* bp = bm + m * span;
        std::fill(bp, bp + span, 0.0f);
        int64_t c = P;
        for (int64_t j = t0 + m % rows; j >= 0; j = parent[j], ++c) bp[j - lo] = row[c];
      }
      gemm_nn(opack.data(), D, bm, span, v + lo * KS + hk * D, KS, M, D, span, 1.0f,
              P > 0 ? 1.0f : 0.0f);
    }
    for (int64_t m = 0; m < M; ++m) {
      const float* row = scores + m * W;
      float* o = opack.data() + m * D;
      int64_t c = P;
      for (int64_t j = t0 + m % rows; !dense && j >= 0; j = parent[j], ++c) {
        const float p = row[c];
        const float* vj = v + j * KS + hk * D;
#pragma omp simd
        for (int64_t d = 0; d < D; ++d) o[d] += p * vj[d];
      }
      std::copy_n(o, D, out + (t0 + m % rows) * QS + (hk * group + m / rows) * D);
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
