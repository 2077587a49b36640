// Causal attention for training over packed variable-length sequences (no KV cache): forward
// that saves the log-sum-exp of each row, and the backward pass (FlashAttention-style recompute).
#pragma once

#include <cstdint>

namespace tsft {

// Sequences lie end to end: sequence s holds rows seq_start[s] .. seq_start[s+1]-1 (seq_start
// has S+1 entries, seq_start[0] = 0, N = seq_start[S]). Attention is causal inside a sequence
// and never crosses sequences. Grouped-query heads: query head h uses kv head h / (Hq / Hkv).
// Scale 1/sqrt(D), softmax in float32.
//
// out (N, Hq*D) overwritten; lse (N, Hq) log-sum-exp of each row's scaled scores, overwritten;
// q (N, Hq, D); k, v (N, Hkv, D).
void attention_train_forward(float* out, float* lse, const float* q, const float* k,
                             const float* v, const int32_t* seq_start, int64_t S, int64_t Hq,
                             int64_t Hkv, int64_t D);
void attention_train_forward_ref(float* out, float* lse, const float* q, const float* k,
                                 const float* v, const int32_t* seq_start, int64_t S, int64_t Hq,
                                 int64_t Hkv, int64_t D);

// dq (N, Hq, D), dk, dv (N, Hkv, D) all OVERWRITTEN; dout, out (N, Hq*D); lse (N, Hq) from the
// forward. P = exp(scores * scale - lse); dV = P^T dO; dP = dO V^T; delta = rowsum(dO * O);
// dS = P * (dP - delta); dQ = scale dS K; dK = scale dS^T Q; dK, dV summed over the query
// heads of a group in head order, so results do not depend on the thread count.
void attention_train_backward(float* dq, float* dk, float* dv, const float* dout, const float* q,
                              const float* k, const float* v, const float* out, const float* lse,
                              const int32_t* seq_start, int64_t S, int64_t Hq, int64_t Hkv,
                              int64_t D);
void attention_train_backward_ref(float* dq, float* dk, float* dv, const float* dout,
                                  const float* q, const float* k, const float* v,
                                  const float* out, const float* lse, const int32_t* seq_start,
                                  int64_t S, int64_t Hq, int64_t Hkv, int64_t D);

}  // namespace tsft
