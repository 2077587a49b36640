#include "backend/cpu/embedding.h"

#include <cstring>

namespace tsft {

void embedding_forward(float* out, const int32_t* ids, const float* table, int64_t T, int64_t C) {
  for (int64_t t = 0; t < T; ++t)
    std::memcpy(out + t * C, table + static_cast<int64_t>(ids[t]) * C, C * sizeof(float));
}

}  // namespace tsft
