// Packed causal attention for training. Fast paths work on blocks of kQueryBlock query rows
// against all keys they can see (BLAS on strided head views), so scratch is
// kQueryBlock x longest sequence per thread.
#include "backend/cpu/attention_train.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>
#include <vector>

#include "backend/cpu/matmul.h"
#include "backend/cpu/vec_math.h"
#include "core/error.h"

namespace tsft {

namespace {

constexpr int64_t kQueryBlock = 64;

// Checks the layout and returns the longest sequence.
int64_t check_layout(const int32_t* seq_start, int64_t S, int64_t Hq, int64_t Hkv) {
  TSFT_CHECK(Hkv > 0 && Hq % Hkv == 0, "Hq=", Hq, " Hkv=", Hkv);
  TSFT_CHECK(S >= 0 && seq_start[0] == 0);
  int64_t longest = 0;
  for (int64_t s = 0; s < S; ++s) {
    TSFT_CHECK(seq_start[s + 1] >= seq_start[s], "seq_start not sorted at ", s);
    longest = std::max<int64_t>(longest, seq_start[s + 1] - seq_start[s]);
  }
  return longest;
}

// Scratch that every user writes before reading: left uninitialized (a zero fill of the dK/dV
// partials alone costs as much as a small head's gemms).
std::unique_ptr<float[]> scratch(int64_t n) { return std::unique_ptr<float[]>(new float[n]); }

struct Block {
  int64_t seq, head, i0;  // i0: first query row of the block, relative to the sequence start
};

}  // namespace

void attention_train_forward(float* out, float* lse, const float* q, const float* k,
                             const float* v, const int32_t* seq_start, int64_t S, int64_t Hq,
                             int64_t Hkv, int64_t D) {
  const int64_t longest = check_layout(seq_start, S, Hq, Hkv);
  const int64_t group = Hq / Hkv;
  const float scale = 1.0f / std::sqrt(static_cast<float>(D));
  const int64_t ldq = Hq * D, ldk = Hkv * D;
  // Each task owns the out/lse entries of one (sequence, head, query block): no shared writes.
  std::vector<Block> tasks;
  for (int64_t s = 0; s < S; ++s)
    for (int64_t i0 = 0; i0 < seq_start[s + 1] - seq_start[s]; i0 += kQueryBlock)
      for (int64_t h = 0; h < Hq; ++h) tasks.push_back({s, h, i0});
  const int64_t n_tasks = static_cast<int64_t>(tasks.size());
#pragma omp parallel if (n_tasks > 1)
  {
    const auto scores = scratch(kQueryBlock * longest);
#pragma omp for schedule(dynamic, 1)
    for (int64_t t = 0; t < n_tasks; ++t) {
      const Block& task = tasks[t];
      const int64_t base = seq_start[task.seq];
      const int64_t len = seq_start[task.seq + 1] - base;
      const int64_t b = std::min(kQueryBlock, len - task.i0);
      const int64_t nk = task.i0 + b;  // keys visible to the block's last row
      const int64_t h = task.head, hk = h / group;
      const int64_t row0 = base + task.i0;
      const float* kb = k + base * ldk + hk * D;
      const float* vb = v + base * ldk + hk * D;
      float* sc = scores.get();
      gemm_nt(sc, nk, q + row0 * ldq + h * D, ldq, kb, ldk, b, nk, D, scale, 0.0f);
      for (int64_t r = 0; r < b; ++r) {
        lse[(row0 + r) * Hq + h] = causal_softmax_row(sc + r * nk, task.i0 + r + 1, nk);
      }
      gemm_nn(out + row0 * ldq + h * D, ldq, sc, nk, vb, ldk, b, D, nk, 1.0f, 0.0f);
    }
  }
}

void attention_train_backward(float* dq, float* dk, float* dv, const float* dout, const float* q,
                              const float* k, const float* v, const float* out, const float* lse,
                              const int32_t* seq_start, int64_t S, int64_t Hq, int64_t Hkv,
                              int64_t D) {
  const int64_t longest = check_layout(seq_start, S, Hq, Hkv);
  const int64_t N = seq_start[S];
  const int64_t group = Hq / Hkv;
  const float scale = 1.0f / std::sqrt(static_cast<float>(D));
  const int64_t ldq = Hq * D, ldk = Hkv * D;
  // With GQA every query head first writes its own dK/dV partial (laid out like q); the group's
  // partials are then summed in head order. Without GQA the heads write dk/dv directly.
  const auto partial = scratch(group > 1 ? 2 * N * Hq * D : 0);
  float* pk = group > 1 ? partial.get() : dk;
  float* pv = group > 1 ? partial.get() + N * Hq * D : dv;
  const int64_t ldp = group > 1 ? ldq : ldk;

  // One task per (sequence, query head): it owns dq of its rows and head, and its dK/dV partial.
  // Longest sequences first so that the dynamic schedule balances.
  std::vector<Block> tasks;
  for (int64_t s = 0; s < S; ++s)
    for (int64_t h = 0; h < Hq; ++h) tasks.push_back({s, h, 0});
  std::stable_sort(tasks.begin(), tasks.end(), [&](const Block& a, const Block& b) {
    return seq_start[a.seq + 1] - seq_start[a.seq] > seq_start[b.seq + 1] - seq_start[b.seq];
  });
  const int64_t n_tasks = static_cast<int64_t>(tasks.size());
#pragma omp parallel if (n_tasks > 1)
  {
    const auto p_buf = scratch(kQueryBlock * longest), ds_buf = scratch(kQueryBlock * longest);
#pragma omp for schedule(dynamic, 1)
    for (int64_t t = 0; t < n_tasks; ++t) {
      const int64_t base = seq_start[tasks[t].seq];
      const int64_t len = seq_start[tasks[t].seq + 1] - base;
      const int64_t h = tasks[t].head, hk = h / group;
      const int64_t ph = group > 1 ? h : hk;
      float* pkh = pk + base * ldp + ph * D;
      float* pvh = pv + base * ldp + ph * D;
      for (int64_t j = 0; j < len; ++j)
        for (int64_t d = 0; d < D; ++d) pkh[j * ldp + d] = pvh[j * ldp + d] = 0.0f;
      const float* kb = k + base * ldk + hk * D;
      const float* vb = v + base * ldk + hk * D;
      for (int64_t i0 = 0; i0 < len; i0 += kQueryBlock) {
        const int64_t b = std::min(kQueryBlock, len - i0);
        const int64_t nk = i0 + b;
        const int64_t off = (base + i0) * ldq + h * D;
        const float* qb = q + off;
        const float* dob = dout + off;
        const float* ob = out + off;
        float* p = p_buf.get();
        float* ds = ds_buf.get();
        gemm_nt(p, nk, qb, ldq, kb, ldk, b, nk, D, scale, 0.0f);
        gemm_nt(ds, nk, dob, ldq, vb, ldk, b, nk, D, 1.0f, 0.0f);
        for (int64_t r = 0; r < b; ++r) {
          const int64_t n = i0 + r + 1;
          const float l = lse[(base + i0 + r) * Hq + h];
          float delta = 0.0f;
#pragma omp simd reduction(+ : delta)
          for (int64_t d = 0; d < D; ++d) delta += dob[r * ldq + d] * ob[r * ldq + d];
          float* pr = p + r * nk;
          float* dr = ds + r * nk;
#pragma omp simd
          for (int64_t j = 0; j < n; ++j) {
            const float pj = exp_fast(pr[j] - l);
            pr[j] = pj;
            dr[j] = pj * (dr[j] - delta);
          }
          for (int64_t j = n; j < nk; ++j) pr[j] = dr[j] = 0.0f;
        }
        gemm_nn(dq + off, ldq, ds, nk, kb, ldk, b, D, nk, scale, 0.0f);      // dQ = scale dS K
        gemm_tn(pvh, ldp, p, nk, dob, ldq, nk, D, b, 1.0f, 1.0f);          // dV += P^T dO
        gemm_tn(pkh, ldp, ds, nk, qb, ldq, nk, D, b, scale, 1.0f);         // dK += scale dS^T Q
      }
    }
  }
  if (group > 1) {
#pragma omp parallel for if (N * Hq * D > 65536)
    for (int64_t n = 0; n < N; ++n)
      for (int64_t hk = 0; hk < Hkv; ++hk) {
        float* dkr = dk + n * ldk + hk * D;
        float* dvr = dv + n * ldk + hk * D;
        const float* pkr = pk + n * ldq + hk * group * D;
        const float* pvr = pv + n * ldq + hk * group * D;
        // Head order 0, 1, ..., group-1 for every element.
#pragma omp simd
        for (int64_t d = 0; d < D; ++d) {
          dkr[d] = pkr[d];
          dvr[d] = pvr[d];
        }
        for (int64_t g = 1; g < group; ++g) {
#pragma omp simd
          for (int64_t d = 0; d < D; ++d) {
            dkr[d] += pkr[g * D + d];
            dvr[d] += pvr[g * D + d];
          }
        }
      }
  }
}

void attention_train_forward_ref(float* out, float* lse, const float* q, const float* k,
                                 const float* v, const int32_t* seq_start, int64_t S, int64_t Hq,
                                 int64_t Hkv, int64_t D) {
  const int64_t longest = check_layout(seq_start, S, Hq, Hkv);
  const int64_t group = Hq / Hkv;
  const double scale = 1.0 / std::sqrt(static_cast<double>(D));
  std::vector<double> p(longest);
  for (int64_t s = 0; s < S; ++s) {
    const int64_t base = seq_start[s], len = seq_start[s + 1] - base;
    for (int64_t i = 0; i < len; ++i)
      for (int64_t h = 0; h < Hq; ++h) {
        const int64_t hk = h / group;
        const float* qi = q + ((base + i) * Hq + h) * D;
        double mx = -1e300;
        for (int64_t j = 0; j <= i; ++j) {
          const float* kj = k + ((base + j) * Hkv + hk) * D;
          double acc = 0.0;
          for (int64_t d = 0; d < D; ++d) acc += static_cast<double>(qi[d]) * kj[d];
          p[j] = acc * scale;
          mx = std::max(mx, p[j]);
        }
        double sum = 0.0;
        for (int64_t j = 0; j <= i; ++j) sum += (p[j] = std::exp(p[j] - mx));
        lse[(base + i) * Hq + h] = static_cast<float>(mx + std::log(sum));
        for (int64_t d = 0; d < D; ++d) {
          double acc = 0.0;
          for (int64_t j = 0; j <= i; ++j) acc += p[j] / sum * v[((base + j) * Hkv + hk) * D + d];
          out[((base + i) * Hq + h) * D + d] = static_cast<float>(acc);
        }
      }
  }
}

void attention_train_backward_ref(float* dq, float* dk, float* dv, const float* dout,
                                  const float* q, const float* k, const float* v,
                                  const float* out, const float* lse, const int32_t* seq_start,
                                  int64_t S, int64_t Hq, int64_t Hkv, int64_t D) {
  const int64_t longest = check_layout(seq_start, S, Hq, Hkv);
  const int64_t N = seq_start[S];
  const int64_t group = Hq / Hkv;
  const double scale = 1.0 / std::sqrt(static_cast<double>(D));
  std::vector<double> gq(N * Hq * D, 0.0), gk(N * Hkv * D, 0.0), gv(N * Hkv * D, 0.0);
  std::vector<double> p(longest), ds(longest);
  for (int64_t s = 0; s < S; ++s) {
    const int64_t base = seq_start[s], len = seq_start[s + 1] - base;
    for (int64_t i = 0; i < len; ++i)
      for (int64_t h = 0; h < Hq; ++h) {
        const int64_t hk = h / group;
        const int64_t qi = ((base + i) * Hq + h) * D;
        const double l = lse[(base + i) * Hq + h];
        double delta = 0.0;
        for (int64_t d = 0; d < D; ++d) delta += static_cast<double>(dout[qi + d]) * out[qi + d];
        for (int64_t j = 0; j <= i; ++j) {
          const int64_t kj = ((base + j) * Hkv + hk) * D;
          double sc = 0.0, dp = 0.0;
          for (int64_t d = 0; d < D; ++d) {
            sc += static_cast<double>(q[qi + d]) * k[kj + d];
            dp += static_cast<double>(dout[qi + d]) * v[kj + d];
          }
          p[j] = std::exp(sc * scale - l);
          ds[j] = p[j] * (dp - delta);
          for (int64_t d = 0; d < D; ++d) {
            gq[qi + d] += scale * ds[j] * k[kj + d];
            gk[kj + d] += scale * ds[j] * q[qi + d];
            gv[kj + d] += p[j] * dout[qi + d];
          }
        }
      }
  }
  for (int64_t i = 0; i < N * Hq * D; ++i) dq[i] = static_cast<float>(gq[i]);
  for (int64_t i = 0; i < N * Hkv * D; ++i) {
    dk[i] = static_cast<float>(gk[i]);
    dv[i] = static_cast<float>(gv[i]);
  }
}

}  // namespace tsft
