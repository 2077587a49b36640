// Q8_0 quantization as ggml's quantize_row_q8_0_ref and gguf-py's quants.Q8_0 compute it: the scale
// is found in float32 and stored as fp16, the values are scaled by the float32 inverse.
#include "backend/cpu/quantize.h"

#include <cmath>
#include <cstring>

#include "core/error.h"
#include "core/half.h"

namespace tsft {

void quantize_row_q8_0(const float* src, void* dst_v, int64_t n) {
  constexpr int64_t kQK = 32;
  TSFT_CHECK(n % kQK == 0, "Q8_0 needs a multiple of 32 values, got ", n);
  uint8_t* dst = static_cast<uint8_t*>(dst_v);
  for (int64_t b = 0; b < n / kQK; ++b) {
    const float* x = src + b * kQK;
    float amax = 0.0f;
    for (int64_t i = 0; i < kQK; ++i) amax = std::fmax(amax, std::fabs(x[i]));
    const float d = amax / 127.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    const uint16_t dh = f32_to_f16(d);
    uint8_t* block = dst + b * (2 + kQK);
    std::memcpy(block, &dh, 2);
    for (int64_t i = 0; i < kQK; ++i) {
      // roundf rounds half away from zero, as ggml and gguf-py's np_roundf do.
      const int8_t q = static_cast<int8_t>(std::roundf(x[i] * id));
      std::memcpy(block + 2 + i, &q, 1);
    }
  }
}

}  // namespace tsft
