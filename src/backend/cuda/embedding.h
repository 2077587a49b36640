// Token embedding lookup on the GPU, out[t] = table[ids[t]], and its backward pass, as
// backend/cpu/embedding.h defines them.
#pragma once

#include <cstdint>

#include "backend/cuda/context.h"

namespace tsft::cuda {

// out (T, C), ids (T), table (V, C). ids must lie in [0, V): the caller checks them on the host
// when it builds the batch (a kernel cannot report a bad id without a round trip).
void embedding_forward(float* out, const int32_t* ids, const float* table, int64_t T, int64_t C,
                       const Context& ctx);

// dtable (V, C) ACCUMULATED: dtable[ids[t]] += dout[t]; ids (T); dout (T, C). Each distinct id
// is handled by the block of its first token, which adds the rows of all its tokens in token
// order: no atomics, and the same bits as embedding_backward_ref.
void embedding_backward(float* dtable, const int32_t* ids, const float* dout, int64_t T,
                        int64_t C, const Context& ctx);

}  // namespace tsft::cuda
