// Causal scaled-dot-product attention with grouped-query heads over a KV cache, as transformers'
// eager attention computes it (softmax in float32, scale 1/sqrt(D)).
#pragma once

#include <cstdint>

namespace tsft {

// out (T, Hq*D); q (T, Hq, D); k, v (S, Hkv, D) hold keys/values of positions 0..S-1.
// Query t sees keys 0..q_pos[t] (q_pos[t] < S). Hq must be a multiple of Hkv.
// scratch must hold attention_scratch_floats(T, S, Hq) floats.
void attention_forward(float* out, const float* q, const float* k, const float* v,
                       const int32_t* q_pos, int64_t T, int64_t S, int64_t Hq, int64_t Hkv,
                       int64_t D, float* scratch);
int64_t attention_scratch_floats(int64_t T, int64_t S, int64_t Hq);

void attention_forward_ref(float* out, const float* q, const float* k, const float* v,
                           const int32_t* q_pos, int64_t T, int64_t S, int64_t Hq, int64_t Hkv,
                           int64_t D);

}  // namespace tsft
