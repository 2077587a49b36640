// Token embedding lookup: out[t] = table[ids[t]], and its backward pass.
// Backward rule for every CPU op: parameter gradients are accumulated (+=).
#pragma once

#include <cstdint>

namespace tsft {

// out (T, C), ids (T), table (V, C). ids are checked against V by the caller.
void embedding_forward(float* out, const int32_t* ids, const float* table, int64_t T, int64_t C);

// dtable (V, C) ACCUMULATED: dtable[ids[t]] += dout[t]; ids (T); dout (T, C). Repeated ids add
// in token order, so the result is deterministic.
void embedding_backward(float* dtable, const int32_t* ids, const float* dout, int64_t T,
                        int64_t C);
void embedding_backward_ref(float* dtable, const int32_t* ids, const float* dout, int64_t T,
                            int64_t C);

}  // namespace tsft
