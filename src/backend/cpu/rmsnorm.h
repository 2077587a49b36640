// RMSNorm as transformers' LlamaRMSNorm computes it in float32:
// out = weight * (x * rsqrt(mean(x^2) + eps)).
#pragma once

#include <cstdint>

namespace tsft {

// out (rows, C), inp (rows, C), weight (C). out may alias inp.
void rmsnorm_forward(float* out, const float* inp, const float* weight, float eps, int64_t rows,
                     int64_t C);
void rmsnorm_forward_ref(float* out, const float* inp, const float* weight, float eps,
                         int64_t rows, int64_t C);

}  // namespace tsft
