// Tiled causal attention over packed sequences: forward (online softmax, saves lse) and backward
// (dQ kernel + dK/dV kernel, scores recomputed per tile), float32 throughout, no tensor cores; and
// the same forward over a KV cache.
//
// Layout shared by the kernels: a block has kWarps warps. In the forward and dQ kernels each
// warp owns one query row and the block walks tiles of kTile keys, staged in shared memory; lane l
// scores key l of the tile, and the row's D values are spread over the lanes (d = lane + 32 e).
// The dK/dV kernel is the mirror image: each warp owns one key row and the block walks tiles of
// kTile query rows. A tile is skipped by a warp when no key in it is visible to its row, so rows
// of short sequences do not pay for their neighbours. Rows of a block may belong to different
// sequences; each row masks by its own sequence bounds.
#include <cmath>

#include "backend/cuda/attention.h"
#include "backend/cuda/common.cuh"
#include "core/error.h"

namespace tsft::cuda {
namespace {

constexpr int kWarps = 8;       // query rows (forward, dQ) or key rows (dK/dV) per block
constexpr int kTile = 32;       // keys (forward, dQ) or query rows (dK/dV) per tile = warp size
constexpr int kPerLane = static_cast<int>(kAttentionMaxHeadDim / 32);

// Row stride in shared memory: odd, so that lanes reading column d of 32 different rows hit 32
// different banks.
__host__ __device__ inline int shared_ld(int D) { return D % 2 == 0 ? D + 1 : D; }

// Bounds [lo, hi) of the sequence holding row i: the last s with seq_start[s] <= i.
__device__ inline void seq_bounds(const int32_t* seq_start, int64_t S, int64_t i, int64_t* lo,
                                  int64_t* hi) {
  int64_t a = 0, b = S - 1;
  while (a < b) {
    const int64_t m = (a + b + 1) / 2;
    if (seq_start[m] <= i)
      a = m;
    else
      b = m - 1;
  }
  *lo = seq_start[a];
  *hi = seq_start[a + 1];
}

// rows [row0, row0 + n_rows) of head `head` of x (N, H, D) into dst (n_rows, ld); zeros past N.
__device__ inline void load_rows(float* dst, const float* x, int64_t row0, int n_rows, int64_t N,
                                 int64_t H, int64_t head, int D, int ld) {
  for (int idx = threadIdx.x; idx < n_rows * D; idx += blockDim.x) {
    const int r = idx / D, d = idx % D;
    const int64_t row = row0 + r;
    dst[r * ld + d] = row < N ? x[(row * H + head) * D + d] : 0.0f;
  }
}

__device__ inline float dot_shared(const float* a, const float* b, int D) {
  float s = 0.0f;
  for (int d = 0; d < D; ++d) s += a[d] * b[d];
  return s;
}

// One tile of keys for one warp's query row q_row (in shared memory): lane l scores key l of the
// tile (visible when `valid`), and the row's running max m, sum l and output acc (d = lane + 32 e)
// take the tile in, FlashAttention's online softmax. The tile must hold a visible key for the row.
__device__ inline void attend_tile(const float* q_row, const float* k_s, const float* v_s,
                                   bool valid, int ld, int D, float scale, float* m, float* l,
                                   float (&acc)[kPerLane]) {
  const int lane = threadIdx.x & 31;
  const float s = valid ? dot_shared(q_row, k_s + lane * ld, D) * scale : -INFINITY;
  const float m_new = fmaxf(*m, warp_max(s));  // finite: the tile holds a visible key
  const float p = valid ? expf(s - m_new) : 0.0f;
  const float corr = expf(*m - m_new);         // 0 on the first visible tile (m = -inf)
  *l = *l * corr + warp_sum(p);
#pragma unroll
  for (int e = 0; e < kPerLane; ++e) acc[e] *= corr;
  for (int jj = 0; jj < kTile; ++jj) {
    const float pj = __shfl_sync(0xffffffffu, p, jj);
#pragma unroll
    for (int e = 0; e < kPerLane; ++e) {
      const int d = lane + 32 * e;
      if (d < D) acc[e] += pj * v_s[jj * ld + d];
    }
  }
  *m = m_new;
}

__global__ void attention_forward_kernel(float* out, float* lse, const float* q, const float* k,
                                         const float* v, const int32_t* seq_start, int64_t N,
                                         int64_t S, int64_t Hq, int64_t Hkv, int D, float scale) {
  extern __shared__ float smem[];
  const int ld = shared_ld(D);
  float* q_s = smem;                 // (kWarps, ld)
  float* k_s = q_s + kWarps * ld;    // (kTile, ld)
  float* v_s = k_s + kTile * ld;     // (kTile, ld)
  const int lane = threadIdx.x & 31, w = threadIdx.x >> 5;
  const int64_t row0 = static_cast<int64_t>(blockIdx.x) * kWarps;
  const int64_t h = blockIdx.y, hk = h / (Hq / Hkv);
  const int64_t i = row0 + w;
  const bool active = i < N;
  int64_t lo = 0, hi = 0, block_lo = 0, unused = 0;
  if (active) seq_bounds(seq_start, S, i, &lo, &hi);
  seq_bounds(seq_start, S, row0, &block_lo, &unused);
  const int64_t block_end = row0 + kWarps < N ? row0 + kWarps : N;  // keys [block_lo, block_end)

  load_rows(q_s, q, row0, kWarps, N, Hq, h, D, ld);
  float m = -INFINITY, l = 0.0f, acc[kPerLane];
#pragma unroll
  for (int e = 0; e < kPerLane; ++e) acc[e] = 0.0f;

  for (int64_t j0 = block_lo; j0 < block_end; j0 += kTile) {
    __syncthreads();  // previous tile fully used (and q_s written, on the first pass)
    load_rows(k_s, k, j0, kTile, N, Hkv, hk, D, ld);
    load_rows(v_s, v, j0, kTile, N, Hkv, hk, D, ld);
    __syncthreads();
    if (!active || j0 > i || j0 + kTile <= lo) continue;  // warp-uniform
    const int64_t j = j0 + lane;
    attend_tile(q_s + w * ld, k_s, v_s, j >= lo && j <= i, ld, D, scale, &m, &l, acc);
  }
  if (!active) return;
  const float inv = 1.0f / l;
#pragma unroll
  for (int e = 0; e < kPerLane; ++e) {
    const int d = lane + 32 * e;
    if (d < D) out[(i * Hq + h) * D + d] = acc[e] * inv;
  }
  if (lane == 0) lse[i * Hq + h] = m + logf(l);
}

// Attention over a KV cache: one warp per query row t (keys 0..q_pos[t]), tiles of cache keys.
__global__ void attention_cache_kernel(float* out, const float* q, const float* k, const float* v,
                                       const int32_t* q_pos, int64_t T, int64_t S, int64_t Hq,
                                       int64_t Hkv, int D, float scale) {
  extern __shared__ float smem[];
  __shared__ int64_t last_s[kWarps];
  const int ld = shared_ld(D);
  float* q_s = smem;               // (kWarps, ld)
  float* k_s = q_s + kWarps * ld;  // (kTile, ld)
  float* v_s = k_s + kTile * ld;   // (kTile, ld)
  const int lane = threadIdx.x & 31, w = threadIdx.x >> 5;
  const int64_t row0 = static_cast<int64_t>(blockIdx.x) * kWarps;
  const int64_t h = blockIdx.y, hk = h / (Hq / Hkv);
  const int64_t t = row0 + w;
  const bool active = t < T;
  // Last visible key of the row, clamped into the cache (q_pos < S is the caller's promise).
  int64_t last = -1;
  if (active) {
    last = q_pos[t];
    last = last < S ? last : S - 1;
  }
  if (lane == 0) last_s[w] = last;
  load_rows(q_s, q, row0, kWarps, T, Hq, h, D, ld);
  __syncthreads();
  int64_t block_end = 0;  // keys [0, block_end) cover every row of the block
  for (int r = 0; r < kWarps; ++r) block_end = last_s[r] + 1 > block_end ? last_s[r] + 1 : block_end;
  float m = -INFINITY, l = 0.0f, acc[kPerLane];
#pragma unroll
  for (int e = 0; e < kPerLane; ++e) acc[e] = 0.0f;
  for (int64_t j0 = 0; j0 < block_end; j0 += kTile) {
    __syncthreads();
    load_rows(k_s, k, j0, kTile, S, Hkv, hk, D, ld);
    load_rows(v_s, v, j0, kTile, S, Hkv, hk, D, ld);
    __syncthreads();
    if (!active || j0 > last) continue;  // warp-uniform
    attend_tile(q_s + w * ld, k_s, v_s, j0 + lane <= last, ld, D, scale, &m, &l, acc);
  }
  if (!active || last < 0) return;
  const float inv = 1.0f / l;
#pragma unroll
  for (int e = 0; e < kPerLane; ++e) {
    const int d = lane + 32 * e;
    if (d < D) out[(t * Hq + h) * D + d] = acc[e] * inv;
  }
}

// dQ rows: one warp per query row, tiles of keys.
__global__ void attention_dq_kernel(float* dq, const float* dout, const float* q, const float* k,
                                    const float* v, const float* out, const float* lse,
                                    const int32_t* seq_start, int64_t N, int64_t S, int64_t Hq,
                                    int64_t Hkv, int D, float scale) {
  extern __shared__ float smem[];
  const int ld = shared_ld(D);
  float* q_s = smem;                  // (kWarps, ld)
  float* do_s = q_s + kWarps * ld;    // (kWarps, ld)
  float* k_s = do_s + kWarps * ld;    // (kTile, ld)
  float* v_s = k_s + kTile * ld;      // (kTile, ld)
  const int lane = threadIdx.x & 31, w = threadIdx.x >> 5;
  const int64_t row0 = static_cast<int64_t>(blockIdx.x) * kWarps;
  const int64_t h = blockIdx.y, hk = h / (Hq / Hkv);
  const int64_t i = row0 + w;
  const bool active = i < N;
  int64_t lo = 0, hi = 0, block_lo = 0, unused = 0;
  if (active) seq_bounds(seq_start, S, i, &lo, &hi);
  seq_bounds(seq_start, S, row0, &block_lo, &unused);
  const int64_t block_end = row0 + kWarps < N ? row0 + kWarps : N;

  load_rows(q_s, q, row0, kWarps, N, Hq, h, D, ld);
  load_rows(do_s, dout, row0, kWarps, N, Hq, h, D, ld);
  __syncthreads();
  float delta = 0.0f, row_lse = 0.0f;
  if (active) {
    float part = 0.0f;
    for (int d = lane; d < D; d += 32) part += do_s[w * ld + d] * out[(i * Hq + h) * D + d];
    delta = warp_sum(part);
    row_lse = lse[i * Hq + h];
  }
  float acc[kPerLane];
#pragma unroll
  for (int e = 0; e < kPerLane; ++e) acc[e] = 0.0f;

  for (int64_t j0 = block_lo; j0 < block_end; j0 += kTile) {
    __syncthreads();
    load_rows(k_s, k, j0, kTile, N, Hkv, hk, D, ld);
    load_rows(v_s, v, j0, kTile, N, Hkv, hk, D, ld);
    __syncthreads();
    if (!active || j0 > i || j0 + kTile <= lo) continue;
    const int64_t j = j0 + lane;
    const bool valid = j >= lo && j <= i;
    float ds = 0.0f;
    if (valid) {
      const float s = dot_shared(q_s + w * ld, k_s + lane * ld, D);
      const float dp = dot_shared(do_s + w * ld, v_s + lane * ld, D);
      const float p = expf(s * scale - row_lse);
      ds = p * (dp - delta);
    }
    for (int jj = 0; jj < kTile; ++jj) {
      const float dsj = __shfl_sync(0xffffffffu, ds, jj);
#pragma unroll
      for (int e = 0; e < kPerLane; ++e) {
        const int d = lane + 32 * e;
        if (d < D) acc[e] += dsj * k_s[jj * ld + d];
      }
    }
  }
  if (!active) return;
#pragma unroll
  for (int e = 0; e < kPerLane; ++e) {
    const int d = lane + 32 * e;
    if (d < D) dq[(i * Hq + h) * D + d] = scale * acc[e];
  }
}

// dK/dV rows: one warp per key row of kv head blockIdx.y, tiles of query rows of each query head
// of the group in turn.
__global__ void attention_dkv_kernel(float* dk, float* dv, const float* dout, const float* q,
                                     const float* k, const float* v, const float* out,
                                     const float* lse, const int32_t* seq_start, int64_t N,
                                     int64_t S, int64_t Hq, int64_t Hkv, int D, float scale) {
  extern __shared__ float smem[];
  const int ld = shared_ld(D);
  float* k_s = smem;                   // (kWarps, ld)
  float* v_s = k_s + kWarps * ld;      // (kWarps, ld)
  float* q_s = v_s + kWarps * ld;      // (kTile, ld)
  float* do_s = q_s + kTile * ld;      // (kTile, ld)
  float* lse_s = do_s + kTile * ld;    // (kTile)
  float* delta_s = lse_s + kTile;      // (kTile)
  const int lane = threadIdx.x & 31, w = threadIdx.x >> 5;
  const int64_t key0 = static_cast<int64_t>(blockIdx.x) * kWarps;
  const int64_t hk = blockIdx.y, group = Hq / Hkv;
  const int64_t j = key0 + w;
  const bool active = j < N;
  int64_t lo = 0, hi = 0, unused = 0, block_hi = 0;
  if (active) seq_bounds(seq_start, S, j, &lo, &hi);
  const int64_t last_key = key0 + kWarps < N ? key0 + kWarps - 1 : N - 1;
  seq_bounds(seq_start, S, last_key, &unused, &block_hi);  // queries [key0, block_hi)

  load_rows(k_s, k, key0, kWarps, N, Hkv, hk, D, ld);
  load_rows(v_s, v, key0, kWarps, N, Hkv, hk, D, ld);
  float acc_k[kPerLane], acc_v[kPerLane];
#pragma unroll
  for (int e = 0; e < kPerLane; ++e) acc_k[e] = acc_v[e] = 0.0f;

  for (int64_t g = 0; g < group; ++g) {
    const int64_t h = hk * group + g;
    for (int64_t i0 = key0; i0 < block_hi; i0 += kTile) {
      __syncthreads();
      load_rows(q_s, q, i0, kTile, N, Hq, h, D, ld);
      load_rows(do_s, dout, i0, kTile, N, Hq, h, D, ld);
      if (threadIdx.x < kTile) {
        const int64_t i = i0 + threadIdx.x;
        lse_s[threadIdx.x] = i < N ? lse[i * Hq + h] : 0.0f;
      }
      __syncthreads();
      // delta of the tile's rows: warp w takes rows w, w + kWarps, ...
      for (int r = w; r < kTile; r += kWarps) {
        const int64_t i = i0 + r;
        float part = 0.0f;
        if (i < N)
          for (int d = lane; d < D; d += 32) part += do_s[r * ld + d] * out[(i * Hq + h) * D + d];
        part = warp_sum(part);
        if (lane == 0) delta_s[r] = part;
      }
      __syncthreads();
      if (!active || i0 >= hi || i0 + kTile <= j) continue;
      const int64_t i = i0 + lane;
      const bool valid = i >= j && i < hi;
      float p = 0.0f, ds = 0.0f;
      if (valid) {
        const float s = dot_shared(q_s + lane * ld, k_s + w * ld, D);
        const float dp = dot_shared(do_s + lane * ld, v_s + w * ld, D);
        p = expf(s * scale - lse_s[lane]);
        ds = p * (dp - delta_s[lane]);
      }
      for (int ii = 0; ii < kTile; ++ii) {
        const float pi = __shfl_sync(0xffffffffu, p, ii);
        const float dsi = __shfl_sync(0xffffffffu, ds, ii);
#pragma unroll
        for (int e = 0; e < kPerLane; ++e) {
          const int d = lane + 32 * e;
          if (d < D) {
            acc_v[e] += pi * do_s[ii * ld + d];
            acc_k[e] += dsi * q_s[ii * ld + d];
          }
        }
      }
    }
  }
  if (!active) return;
#pragma unroll
  for (int e = 0; e < kPerLane; ++e) {
    const int d = lane + 32 * e;
    if (d < D) {
      dk[(j * Hkv + hk) * D + d] = scale * acc_k[e];
      dv[(j * Hkv + hk) * D + d] = acc_v[e];
    }
  }
}

void check_shapes(int64_t N, int64_t S, int64_t Hq, int64_t Hkv, int64_t D, const char* op) {
  TSFT_CHECK(N >= 0 && S >= 0 && Hkv > 0 && Hq % Hkv == 0 && D > 0, op, " N=", N, " S=", S,
             " Hq=", Hq, " Hkv=", Hkv, " D=", D);
  TSFT_CHECK(N == 0 || S > 0, op, ": N=", N, " rows need at least one sequence (or cache key)");
  TSFT_CHECK(Hq < 65536 && Hkv < 65536, op, " Hq=", Hq);
  if (D > kAttentionMaxHeadDim)
    fail("cuda: ", op, ": head_dim ", D, " is larger than the ", kAttentionMaxHeadDim,
         " the CUDA attention kernels take");
}

size_t shared_bytes(int rows, int D) {
  return static_cast<size_t>(rows) * shared_ld(D) * sizeof(float);
}

}  // namespace

void attention_train_forward(float* out, float* lse, const float* q, const float* k,
                             const float* v, const int32_t* seq_start, int64_t N, int64_t S,
                             int64_t Hq, int64_t Hkv, int64_t D, const Context& ctx) {
  const char* op = "attention_train_forward";
  check_shapes(N, S, Hq, Hkv, D, op);
  if (N == 0) return;
  const float scale = static_cast<float>(1.0 / std::sqrt(static_cast<double>(D)));
  const dim3 grid(static_cast<unsigned int>(ceil_div(N, kWarps)), static_cast<unsigned int>(Hq));
  const size_t smem = shared_bytes(kWarps + 2 * kTile, static_cast<int>(D));
  attention_forward_kernel<<<grid, kWarps * 32, smem, ctx.stream()>>>(
      out, lse, q, k, v, seq_start, N, S, Hq, Hkv, static_cast<int>(D), scale);
  check_launch(op);
}

void attention_forward(float* out, const float* q, const float* k, const float* v,
                       const int32_t* q_pos, int64_t T, int64_t S, int64_t Hq, int64_t Hkv,
                       int64_t D, const Context& ctx) {
  const char* op = "attention_forward";
  check_shapes(T, S, Hq, Hkv, D, op);
  if (T == 0) return;
  const float scale = static_cast<float>(1.0 / std::sqrt(static_cast<double>(D)));
  const dim3 grid(static_cast<unsigned int>(ceil_div(T, kWarps)), static_cast<unsigned int>(Hq));
  const size_t smem = shared_bytes(kWarps + 2 * kTile, static_cast<int>(D));
  attention_cache_kernel<<<grid, kWarps * 32, smem, ctx.stream()>>>(
      out, q, k, v, q_pos, T, S, Hq, Hkv, static_cast<int>(D), scale);
  check_launch(op);
}

void attention_train_backward(float* dq, float* dk, float* dv, const float* dout, const float* q,
                              const float* k, const float* v, const float* out, const float* lse,
                              const int32_t* seq_start, int64_t N, int64_t S, int64_t Hq,
                              int64_t Hkv, int64_t D, const Context& ctx) {
  const char* op = "attention_train_backward";
  check_shapes(N, S, Hq, Hkv, D, op);
  if (N == 0) return;
  const float scale = static_cast<float>(1.0 / std::sqrt(static_cast<double>(D)));
  const int Di = static_cast<int>(D);
  const unsigned int row_blocks = static_cast<unsigned int>(ceil_div(N, kWarps));
  attention_dq_kernel<<<dim3(row_blocks, static_cast<unsigned int>(Hq)), kWarps * 32,
                        shared_bytes(2 * kWarps + 2 * kTile, Di), ctx.stream()>>>(
      dq, dout, q, k, v, out, lse, seq_start, N, S, Hq, Hkv, Di, scale);
  check_launch(op);
  const size_t smem_kv = shared_bytes(2 * kWarps + 2 * kTile, Di) + 2 * kTile * sizeof(float);
  attention_dkv_kernel<<<dim3(row_blocks, static_cast<unsigned int>(Hkv)), kWarps * 32, smem_kv,
                         ctx.stream()>>>(dk, dv, dout, q, k, v, out, lse, seq_start, N, S, Hq,
                                         Hkv, Di, scale);
  check_launch(op);
}

}  // namespace tsft::cuda
