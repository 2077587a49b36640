// Where two token sequences stop agreeing: what a prompt shares with a cached or running one
// (serve's prefix sharing) or with every prompt of a set (eval's shared prompt prefix).
#pragma once

#include <algorithm>
#include <cstdint>

namespace tsft {

// Length of the longest common prefix of a[0..na) and b[0..nb).
inline int64_t common_prefix(const int32_t* a, int64_t na, const int32_t* b, int64_t nb) {
  const int64_t n = std::min(na, nb);
  int64_t i = 0;
  while (i < n && a[i] == b[i]) ++i;
  return i;
}

}  // namespace tsft
