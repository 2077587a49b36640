// Causal attention for training over packed variable-length sequences on the GPU, as
// backend/cpu/attention_train.h defines it: a tiled, FlashAttention-style forward with an online
// softmax that saves each row's log-sum-exp, and a backward that recomputes scores per tile. The
// (N, N) score matrix is never stored: memory is O(N * heads * D). Also the same forward over a
// KV cache, for prefill and decoding.
#pragma once

#include <cstdint>

#include "backend/cuda/context.h"

namespace tsft::cuda {

// Largest head dimension the kernels take (each lane of a warp holds D / 32 <= 4 values).
constexpr int64_t kAttentionMaxHeadDim = 128;

// Sequences lie end to end: sequence s holds rows seq_start[s] .. seq_start[s+1]-1; seq_start
// (S+1, device memory) starts at 0 and is non-decreasing (empty sequences are fine), and N must
// equal seq_start[S] (passed because reading it back would be a host round trip). Attention is
// causal inside a sequence and never crosses sequences. Query head h uses kv head h / (Hq / Hkv).
// Scale 1/sqrt(D), softmax in float32. D <= kAttentionMaxHeadDim (a larger D throws).
//
// out (N, Hq*D) overwritten; lse (N, Hq) overwritten; q (N, Hq, D); k, v (N, Hkv, D).
void attention_train_forward(float* out, float* lse, const float* q, const float* k,
                             const float* v, const int32_t* seq_start, int64_t N, int64_t S,
                             int64_t Hq, int64_t Hkv, int64_t D, const Context& ctx);

// dq (N, Hq, D), dk, dv (N, Hkv, D) all OVERWRITTEN; dout, out (N, Hq*D); lse (N, Hq) from the
// forward. P = exp(scores * scale - lse); dV = P^T dO; dP = dO V^T; delta = rowsum(dO * O);
// dS = P * (dP - delta); dQ = scale dS K; dK = scale dS^T Q. Two kernels, neither with atomics:
// one owns rows of dQ (walks key tiles), one owns rows of dK/dV (walks the query heads of its
// group in head order, and query tiles in row order), so results are bitwise repeatable.
void attention_train_backward(float* dq, float* dk, float* dv, const float* dout, const float* q,
                              const float* k, const float* v, const float* out, const float* lse,
                              const int32_t* seq_start, int64_t N, int64_t S, int64_t Hq,
                              int64_t Hkv, int64_t D, const Context& ctx);

// Attention over a KV cache (prefill and decoding), as backend/cpu/attention.h's
// attention_forward: out (T, Hq*D) overwritten; q (T, Hq, D); k, v (S, Hkv, D) hold the keys and
// values of positions 0..S-1; q_pos (T, device memory): query t sees keys 0..q_pos[t], and
// q_pos[t] < S (larger values are clamped to S - 1). Same tiles and online softmax as the
// training forward; one block of 8 query rows per head, so a single decoding row uses one warp
// of its block (a split-key "flash-decoding" version is future work).
void attention_forward(float* out, const float* q, const float* k, const float* v,
                       const int32_t* q_pos, int64_t T, int64_t S, int64_t Hq, int64_t Hkv,
                       int64_t D, const Context& ctx);

}  // namespace tsft::cuda
