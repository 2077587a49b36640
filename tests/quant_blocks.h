// Random quantized blocks for the kernel tests (matvec_quant, matmul_int): Q4_0, Q4_1 or Q8_0
// rows with scales of the magnitude real SmolLM2 weights have.
#pragma once

#include <cstdint>
#include <cstring>
#include <random>
#include <vector>

#include "core/dtype.h"
#include "core/half.h"

namespace tsft::testing {

inline void put_f16(uint8_t* p, float v) {
  const uint16_t h = f32_to_f16(v);
  std::memcpy(p, &h, 2);
}

// N rows of K elements in type t (d ~ 0.002-0.02, Q4_1's m ~ -0.15 to -0.01, random values).
inline std::vector<uint8_t> random_blocks(DType t, int64_t N, int64_t K, std::mt19937& gen) {
  const DTypeInfo& info = dtype_info(t);
  const int64_t n_blocks = N * K / info.block_elems;
  std::vector<uint8_t> buf(static_cast<size_t>(n_blocks * info.block_bytes));
  std::uniform_real_distribution<float> d_dist(0.002f, 0.02f), m_dist(-0.15f, -0.01f);
  std::uniform_int_distribution<int> byte(0, 255);
  for (int64_t b = 0; b < n_blocks; ++b) {
    uint8_t* p = buf.data() + b * info.block_bytes;
    put_f16(p, d_dist(gen));
    const int header = t == DType::kQ4_1 ? 4 : 2;
    if (t == DType::kQ4_1) put_f16(p + 2, m_dist(gen));
    for (int64_t i = header; i < info.block_bytes; ++i) p[i] = static_cast<uint8_t>(byte(gen));
  }
  return buf;
}

}  // namespace tsft::testing
