// Fused LM head + cross-entropy, chunked over rows and vocabulary, and the row gather/scatter
// that feeds it only the supervised positions.
#include <algorithm>
#include <cmath>

#include "backend/cuda/common.cuh"
#include "backend/cuda/cross_entropy.h"
#include "backend/cuda/gemm.cuh"
#include "backend/cuda/memory.h"
#include "core/error.h"

namespace tsft::cuda {
namespace {

constexpr int64_t kRowChunk = 1024;    // rows per GEMM
constexpr int64_t kVocabChunk = 4096;  // vocabulary entries per GEMM: 16 MB of logits at most
constexpr int kThreads = 256;

// Per-row state for all R rows, carved from the workspace after the logits chunk.
struct RowState {
  float* max;      // running max of the logits, then the row's log-sum-exp
  float* sum;      // running sum of exp(logit - max)
  float* best;     // largest logit so far
  int32_t* best_idx;
  float* target_logit;
  float* loss;     // lse - target logit
};

RowState carve(float* workspace, int64_t R, int64_t V) {
  const int64_t logits = std::min(R, kRowChunk) * std::min(V, kVocabChunk);
  float* p = workspace + logits;
  RowState st;
  st.max = p;
  st.sum = p + R;
  st.best = p + 2 * R;
  st.best_idx = reinterpret_cast<int32_t*>(p + 3 * R);
  st.target_logit = p + 4 * R;
  st.loss = p + 5 * R;
  return st;
}

// Block-wide (max, lowest index) over the block; every thread gets the winner.
__device__ void block_argmax(float* val, int32_t* idx, float* sv, int32_t* si) {
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, n_warps = blockDim.x >> 5;
  float v = *val;
  int32_t i = *idx;
  for (int o = 16; o > 0; o >>= 1) {
    const float ov = __shfl_xor_sync(0xffffffffu, v, o);
    const int32_t oi = __shfl_xor_sync(0xffffffffu, i, o);
    if (ov > v || (ov == v && oi < i)) v = ov, i = oi;
  }
  if (lane == 0) sv[warp] = v, si[warp] = i;
  __syncthreads();
  v = lane < n_warps ? sv[lane] : -INFINITY;
  i = lane < n_warps ? si[lane] : INT32_MAX;
  for (int o = 16; o > 0; o >>= 1) {
    const float ov = __shfl_xor_sync(0xffffffffu, v, o);
    const int32_t oi = __shfl_xor_sync(0xffffffffu, i, o);
    if (ov > v || (ov == v && oi < i)) v = ov, i = oi;
  }
  __syncthreads();
  *val = v;
  *idx = i;
}

// Pass 1 on one chunk: logits (rc, vc) of rows r0.. and vocabulary v0.. One block per row.
__global__ void ce_stats_kernel(RowState st, const float* logits, const int32_t* targets,
                                int64_t r0, int64_t v0, int64_t vc, bool first) {
  __shared__ float red[32];
  __shared__ int32_t red_i[32];
  const int64_t r = r0 + blockIdx.x;
  const float* row = logits + static_cast<int64_t>(blockIdx.x) * vc;
  float cmax = -INFINITY;
  int32_t cidx = INT32_MAX;
  for (int64_t c = threadIdx.x; c < vc; c += blockDim.x)
    if (row[c] > cmax) cmax = row[c], cidx = static_cast<int32_t>(v0 + c);  // first in stride
  block_argmax(&cmax, &cidx, red, red_i);
  float csum = 0.0f;
  for (int64_t c = threadIdx.x; c < vc; c += blockDim.x) csum += expf(row[c] - cmax);
  csum = block_sum(csum, red);
  if (threadIdx.x != 0) return;
  const int64_t t = targets[r];
  if (t >= v0 && t < v0 + vc) st.target_logit[r] = row[t - v0];
  if (first) {
    st.max[r] = cmax;
    st.sum[r] = csum;
    st.best[r] = cmax;
    st.best_idx[r] = cidx;
    return;
  }
  const float m = st.max[r], m_new = fmaxf(m, cmax);
  st.sum[r] = st.sum[r] * expf(m - m_new) + csum * expf(cmax - m_new);
  st.max[r] = m_new;
  if (cmax > st.best[r]) st.best[r] = cmax, st.best_idx[r] = cidx;  // earlier chunk wins ties
}

// After pass 1 over the whole vocabulary: lse, the row's loss (NaN for a target outside [0, V)).
__global__ void ce_finish_rows_kernel(RowState st, const int32_t* targets, int64_t r0, int64_t rc,
                                      int64_t V) {
  const int64_t k = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
  if (k >= rc) return;
  const int64_t r = r0 + k;
  const float lse = st.max[r] + logf(st.sum[r]);
  st.max[r] = lse;
  const int64_t t = targets[r];
  st.loss[r] = t >= 0 && t < V ? lse - st.target_logit[r] : NAN;
}

// Pass 2: logits (rc, vc) become grad_scale * (softmax - onehot), in place.
__global__ void ce_grad_kernel(float* logits, RowState st, const int32_t* targets, int64_t r0,
                               int64_t rc, int64_t v0, int64_t vc, float grad_scale) {
  const int64_t total = rc * vc;
  for (int64_t k = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; k < total;
       k += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const int64_t r = r0 + k / vc, c = k % vc;
    const float onehot = targets[r] == v0 + c ? 1.0f : 0.0f;
    logits[k] = grad_scale * (expf(logits[k] - st.max[r]) - onehot);
  }
}

// totals = (sum of row losses in double, count of argmax == target), one block, fixed order.
__global__ void ce_totals_kernel(CrossEntropyTotals* totals, RowState st, const int32_t* targets,
                                 int64_t R) {
  __shared__ double loss_s[kThreads];
  __shared__ long long correct_s[kThreads];
  double loss = 0.0;
  long long correct = 0;
  for (int64_t r = threadIdx.x; r < R; r += blockDim.x) {
    loss += static_cast<double>(st.loss[r]);
    correct += st.best_idx[r] == targets[r];
  }
  loss_s[threadIdx.x] = loss;
  correct_s[threadIdx.x] = correct;
  __syncthreads();
  for (int half = kThreads / 2; half > 0; half >>= 1) {
    if (threadIdx.x < half) {
      loss_s[threadIdx.x] += loss_s[threadIdx.x + half];
      correct_s[threadIdx.x] += correct_s[threadIdx.x + half];
    }
    __syncthreads();
  }
  if (threadIdx.x == 0) {
    totals->loss_sum = loss_s[0];
    totals->n_correct = correct_s[0];
  }
}

__global__ void gather_rows_kernel(float* out, const float* in, const int32_t* rows, int64_t R,
                                   int64_t C) {
  const int64_t total = R * C;
  for (int64_t k = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; k < total;
       k += static_cast<int64_t>(gridDim.x) * blockDim.x)
    out[k] = in[static_cast<int64_t>(rows[k / C]) * C + k % C];
}

__global__ void scatter_add_rows_kernel(float* dst, const float* src, const int32_t* rows,
                                        int64_t R, int64_t C) {
  const int64_t total = R * C;
  for (int64_t k = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; k < total;
       k += static_cast<int64_t>(gridDim.x) * blockDim.x)
    dst[static_cast<int64_t>(rows[k / C]) * C + k % C] += src[k];
}

}  // namespace

int64_t lm_head_cross_entropy_workspace_floats(int64_t R, int64_t V) {
  return std::min(R, kRowChunk) * std::min(V, kVocabChunk) + 6 * R;
}

void lm_head_cross_entropy(CrossEntropyTotals* totals, float* dhidden, float* dweight,
                           const float* hidden, const int32_t* targets, const float* weight,
                           int64_t R, int64_t C, int64_t V, float grad_scale, float* workspace,
                           const Context& ctx) {
  const char* op = "lm_head_cross_entropy";
  TSFT_CHECK(R >= 0 && C > 0 && V > 0 && V < (int64_t{1} << 31), op, " R=", R, " C=", C, " V=", V);
  if (R == 0) {
    fill_zero(totals, sizeof(CrossEntropyTotals), ctx, op);
    return;
  }
  const RowState st = carve(workspace, R, V);
  float* logits = workspace;
  for (int64_t r0 = 0; r0 < R; r0 += kRowChunk) {
    const int64_t rc = std::min(kRowChunk, R - r0);
    const float* h = hidden + r0 * C;
    // Pass 1: log-sum-exp, argmax and target logit of each row.
    for (int64_t v0 = 0; v0 < V; v0 += kVocabChunk) {
      const int64_t vc = std::min(kVocabChunk, V - v0);
      gemm(Product::kNT, logits, CUDA_R_32F, h, weight + v0 * C, CUDA_R_32F, rc, vc, C, 1.0f,
           0.0f, ctx, op);
      ce_stats_kernel<<<static_cast<unsigned int>(rc), kThreads, 0, ctx.stream()>>>(
          st, logits, targets, r0, v0, vc, v0 == 0);
      check_launch(op);
    }
    ce_finish_rows_kernel<<<static_cast<unsigned int>(ceil_div(rc, kThreads)), kThreads, 0,
                            ctx.stream()>>>(st, targets, r0, rc, V);
    check_launch(op);
    if (dhidden == nullptr && dweight == nullptr) continue;
    // Pass 2: gradients, chunk by chunk.
    for (int64_t v0 = 0; v0 < V; v0 += kVocabChunk) {
      const int64_t vc = std::min(kVocabChunk, V - v0);
      const float* w = weight + v0 * C;
      gemm(Product::kNT, logits, CUDA_R_32F, h, w, CUDA_R_32F, rc, vc, C, 1.0f, 0.0f, ctx, op);
      ce_grad_kernel<<<grid_for(rc * vc, kThreads), kThreads, 0, ctx.stream()>>>(
          logits, st, targets, r0, rc, v0, vc, grad_scale);
      check_launch(op);
      // dhidden (rc, C) = G (rc, vc) @ W (vc, C), summed over chunks in order.
      if (dhidden != nullptr)
        gemm(Product::kNN, dhidden + r0 * C, CUDA_R_32F, logits, w, CUDA_R_32F, rc, C, vc, 1.0f,
             v0 == 0 ? 0.0f : 1.0f, ctx, op);
      // dweight (vc, C) += G^T (vc, rc) @ H (rc, C)
      if (dweight != nullptr)
        gemm(Product::kTN, dweight + v0 * C, CUDA_R_32F, logits, h, CUDA_R_32F, vc, C, rc, 1.0f,
             1.0f, ctx, op);
    }
  }
  ce_totals_kernel<<<1, kThreads, 0, ctx.stream()>>>(totals, st, targets, R);
  check_launch(op);
}

CrossEntropyTotals read_cross_entropy_totals_sync(const CrossEntropyTotals* totals,
                                                  const Context& ctx) {
  CrossEntropyTotals host;
  copy_to_host_sync(&host, totals, sizeof host, ctx, "read_cross_entropy_totals");
  return host;
}

void gather_rows(float* out, const float* in, const int32_t* rows, int64_t R, int64_t C,
                 const Context& ctx) {
  TSFT_CHECK(R >= 0 && C >= 0, "gather_rows R=", R, " C=", C);
  if (R * C == 0) return;
  gather_rows_kernel<<<grid_for(R * C, kThreads), kThreads, 0, ctx.stream()>>>(out, in, rows, R, C);
  check_launch("gather_rows");
}

void scatter_add_rows(float* dst, const float* src, const int32_t* rows, int64_t R, int64_t C,
                      const Context& ctx) {
  TSFT_CHECK(R >= 0 && C >= 0, "scatter_add_rows R=", R, " C=", C);
  if (R * C == 0) return;
  scatter_add_rows_kernel<<<grid_for(R * C, kThreads), kThreads, 0, ctx.stream()>>>(dst, src, rows,
                                                                                   R, C);
  check_launch("scatter_add_rows");
}

}  // namespace tsft::cuda
