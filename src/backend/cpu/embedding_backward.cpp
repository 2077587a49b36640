// Embedding backward: scatter-add of the output gradient into the table's rows.
#include <algorithm>

#include "backend/cpu/embedding.h"

namespace tsft {

namespace {
constexpr int64_t kColumnBlock = 256;
}  // namespace

// Threads split the columns, never the tokens: each column adds its tokens in token order,
// without atomics, whatever the thread count.
void embedding_backward(float* dtable, const int32_t* ids, const float* dout, int64_t T,
                        int64_t C) {
  const int64_t n_blocks = (C + kColumnBlock - 1) / kColumnBlock;
#pragma omp parallel for if (T * C > 65536)
  for (int64_t blk = 0; blk < n_blocks; ++blk) {
    const int64_t c0 = blk * kColumnBlock, c1 = std::min(C, c0 + kColumnBlock);
    for (int64_t t = 0; t < T; ++t) {
      float* row = dtable + static_cast<int64_t>(ids[t]) * C;
      const float* g = dout + t * C;
#pragma omp simd
      for (int64_t c = c0; c < c1; ++c) row[c] += g[c];
    }
  }
}

void embedding_backward_ref(float* dtable, const int32_t* ids, const float* dout, int64_t T,
                            int64_t C) {
  for (int64_t t = 0; t < T; ++t)
    for (int64_t c = 0; c < C; ++c) dtable[static_cast<int64_t>(ids[t]) * C + c] += dout[t * C + c];
}

}  // namespace tsft
