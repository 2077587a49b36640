// Token embedding lookup: out[t] = table[ids[t]].
#pragma once

#include <cstdint>

namespace tsft {

// out (T, C), ids (T), table (V, C). ids are checked against V by the caller.
void embedding_forward(float* out, const int32_t* ids, const float* table, int64_t T, int64_t C);

}  // namespace tsft
