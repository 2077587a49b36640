// Attention over a forest of token sequences batched together (scoring many candidate answers in
// one forward): each token sees a shared cached prefix and its own ancestors, nothing else.
#pragma once

#include <cstdint>

namespace tsft {

// Grouped-query attention, scale 1/sqrt(D), softmax in float32, as attention_forward computes it,
// but causal by ancestry: token i attends to the P prefix keys and to the chain i, parent[i],
// parent[parent[i]], ... of the batch's own keys. parent (T): parent[i] in [-1, i) (-1: the token
// follows the prefix directly).
// out (T, Hq*D); q (T, Hq, D); k, v (T, Hkv, D) of the batch's tokens; k_prefix, v_prefix
// (P, Hkv, D), may be null when P == 0. Hq must be a multiple of Hkv.
// scratch must hold attention_tree_scratch_floats(parent, T, P, Hq) floats.
void attention_tree_forward(float* out, const float* q, const float* k, const float* v,
                            const float* k_prefix, const float* v_prefix, const int32_t* parent,
                            int64_t T, int64_t P, int64_t Hq, int64_t Hkv, int64_t D,
                            float* scratch);
int64_t attention_tree_scratch_floats(const int32_t* parent, int64_t T, int64_t P, int64_t Hq);

// Scalar reference (double accumulation), the definition the fast version is tested against.
void attention_tree_forward_ref(float* out, const float* q, const float* k, const float* v,
                                const float* k_prefix, const float* v_prefix,
                                const int32_t* parent, int64_t T, int64_t P, int64_t Hq,
                                int64_t Hkv, int64_t D);

}  // namespace tsft
