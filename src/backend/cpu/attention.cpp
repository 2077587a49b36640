#include "backend/cpu/attention.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "backend/cpu/matmul.h"
#include "backend/cpu/vec_math.h"

namespace tsft {

int64_t attention_scratch_floats(int64_t T, int64_t S, int64_t Hq) { return Hq * T * S; }

void attention_forward(float* out, const float* q, const float* k, const float* v,
                       const int32_t* q_pos, int64_t T, int64_t S, int64_t Hq, int64_t Hkv,
                       int64_t D, float* scratch) {
  const int64_t group = Hq / Hkv;
  const float scale = 1.0f / std::sqrt(static_cast<float>(D));
  // Keys beyond the last query's position are never visible: trim the key range.
  int64_t s_used = 0;
  for (int64_t t = 0; t < T; ++t) s_used = std::max<int64_t>(s_used, q_pos[t] + 1);

  // One head per task: scores = scale * Q_h K_h^T (BLAS on strided views), causal softmax,
  // out_h = P V_h. BLAS runs single-threaded inside the parallel region.
#pragma omp parallel for schedule(dynamic, 1) if (T > 1)
  for (int64_t h = 0; h < Hq; ++h) {
    const int64_t hk = h / group;
    float* scores = scratch + h * T * S;  // (T, s_used), row stride s_used
    const float* qh = q + h * D;
    const float* kh = k + hk * D;
    const float* vh = v + hk * D;
    if (T == 1) {
      for (int64_t s = 0; s <= q_pos[0]; ++s) {
        const float* kr = kh + s * Hkv * D;
        float acc = 0.0f;
#pragma omp simd reduction(+ : acc)
        for (int64_t d = 0; d < D; ++d) acc += qh[d] * kr[d];
        scores[s] = acc * scale;
      }
    } else {
      gemm_nt(scores, s_used, qh, Hq * D, kh, Hkv * D, T, s_used, D, scale, 0.0f);
    }
    for (int64_t t = 0; t < T; ++t) {
      causal_softmax_row(scores + t * s_used, q_pos[t] + 1, s_used);
    }
    float* oh = out + h * D;
    if (T == 1) {
      for (int64_t d = 0; d < D; ++d) oh[d] = 0.0f;
      for (int64_t s = 0; s <= q_pos[0]; ++s) {
        const float p = scores[s];
        const float* vr = vh + s * Hkv * D;
#pragma omp simd
        for (int64_t d = 0; d < D; ++d) oh[d] += p * vr[d];
      }
    } else {
      gemm_nn(oh, Hq * D, scores, s_used, vh, Hkv * D, T, D, s_used, 1.0f, 0.0f);
    }
  }
}

void attention_forward_ref(float* out, const float* q, const float* k, const float* v,
                           const int32_t* q_pos, int64_t T, int64_t S, int64_t Hq, int64_t Hkv,
                           int64_t D) {
  const int64_t group = Hq / Hkv;
  const double scale = 1.0 / std::sqrt(static_cast<double>(D));
  std::vector<double> p(S);
  for (int64_t t = 0; t < T; ++t)
    for (int64_t h = 0; h < Hq; ++h) {
      const int64_t hk = h / group;
      const int64_t n = q_pos[t] + 1;
      double mx = -1e300;
      for (int64_t s = 0; s < n; ++s) {
        double acc = 0.0;
        for (int64_t d = 0; d < D; ++d)
          acc += static_cast<double>(q[(t * Hq + h) * D + d]) * k[(s * Hkv + hk) * D + d];
        p[s] = acc * scale;
        mx = std::max(mx, p[s]);
      }
      double sum = 0.0;
      for (int64_t s = 0; s < n; ++s) sum += (p[s] = std::exp(p[s] - mx));
      for (int64_t d = 0; d < D; ++d) {
        double acc = 0.0;
        for (int64_t s = 0; s < n; ++s) acc += p[s] / sum * v[(s * Hkv + hk) * D + d];
        out[(t * Hq + h) * D + d] = static_cast<float>(acc);
      }
    }
}

}  // namespace tsft
