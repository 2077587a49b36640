#include "backend/cpu/rmsnorm.h"

#include <cmath>

namespace tsft {

void rmsnorm_forward(float* out, const float* inp, const float* weight, float eps, int64_t rows,
                     int64_t C) {
  rmsnorm_forward_train(out, nullptr, inp, weight, eps, rows, C);
}

// One loop for inference and training, so both give the same bits; rstd may be null.
void rmsnorm_forward_train(float* out, float* rstd, const float* inp, const float* weight,
                           float eps, int64_t rows, int64_t C) {
#pragma omp parallel for if (rows > 16)
  for (int64_t r = 0; r < rows; ++r) {
    const float* x = inp + r * C;
    float* y = out + r * C;
    float ss = 0.0f;
#pragma omp simd reduction(+ : ss)
    for (int64_t i = 0; i < C; ++i) ss += x[i] * x[i];
    const float scale = 1.0f / std::sqrt(ss / static_cast<float>(C) + eps);
    if (rstd != nullptr) rstd[r] = scale;
#pragma omp simd
    for (int64_t i = 0; i < C; ++i) y[i] = weight[i] * (x[i] * scale);
  }
}

void rmsnorm_forward_ref(float* out, const float* inp, const float* weight, float eps,
                         int64_t rows, int64_t C) {
  for (int64_t r = 0; r < rows; ++r) {
    double ss = 0.0;
    for (int64_t i = 0; i < C; ++i) ss += static_cast<double>(inp[r * C + i]) * inp[r * C + i];
    const double scale = 1.0 / std::sqrt(ss / static_cast<double>(C) + eps);
    for (int64_t i = 0; i < C; ++i)
      out[r * C + i] = static_cast<float>(weight[i] * (inp[r * C + i] * scale));
  }
}

}  // namespace tsft
