// RMSNorm training forward (saves rstd) and backward.
#include <algorithm>
#include <cmath>
#include <vector>

#include "backend/cpu/rmsnorm.h"

namespace tsft {

namespace {
// dweight partial sums are taken over fixed chunks of rows and combined in chunk order, so the
// result is the same for any number of threads.
constexpr int64_t kRowChunk = 64;
}  // namespace

void rmsnorm_forward_train_ref(float* out, float* rstd, const float* inp, const float* weight,
                               float eps, int64_t rows, int64_t C) {
  for (int64_t r = 0; r < rows; ++r) {
    double ss = 0.0;
    for (int64_t i = 0; i < C; ++i) ss += static_cast<double>(inp[r * C + i]) * inp[r * C + i];
    const double scale = 1.0 / std::sqrt(ss / static_cast<double>(C) + eps);
    rstd[r] = static_cast<float>(scale);
    for (int64_t i = 0; i < C; ++i)
      out[r * C + i] = static_cast<float>(weight[i] * (inp[r * C + i] * scale));
  }
}

// y = w * x * s with s = (mean(x^2) + eps)^-1/2:
// dx = s * (w * dy) - x * s^3 / C * sum_j(w_j dy_j x_j);  dw += dy * x * s.
void rmsnorm_backward(float* dinp, float* dweight, const float* dout, const float* inp,
                      const float* weight, const float* rstd, int64_t rows, int64_t C) {
  const int64_t n_chunks = (rows + kRowChunk - 1) / kRowChunk;
  std::vector<float> partial(dweight != nullptr ? n_chunks * C : 0);
#pragma omp parallel for schedule(static) if (rows > 16)
  for (int64_t ch = 0; ch < n_chunks; ++ch) {
    float* pw = dweight != nullptr ? partial.data() + ch * C : nullptr;
    if (pw != nullptr)
      for (int64_t i = 0; i < C; ++i) pw[i] = 0.0f;
    const int64_t r_end = std::min(rows, (ch + 1) * kRowChunk);
    for (int64_t r = ch * kRowChunk; r < r_end; ++r) {
      const float* x = inp + r * C;
      const float* dy = dout + r * C;
      float* dx = dinp + r * C;
      const float s = rstd[r];
      float dot = 0.0f;
#pragma omp simd reduction(+ : dot)
      for (int64_t i = 0; i < C; ++i) dot += dy[i] * weight[i] * x[i];
      const float k = dot * s * s * s / static_cast<float>(C);
#pragma omp simd
      for (int64_t i = 0; i < C; ++i) dx[i] += s * weight[i] * dy[i] - k * x[i];
      if (pw != nullptr) {
#pragma omp simd
        for (int64_t i = 0; i < C; ++i) pw[i] += dy[i] * x[i] * s;
      }
    }
  }
  if (dweight != nullptr) {
#pragma omp parallel for if (C * n_chunks > 65536)
    for (int64_t i = 0; i < C; ++i) {
      float acc = 0.0f;
      for (int64_t ch = 0; ch < n_chunks; ++ch) acc += partial[ch * C + i];
      dweight[i] += acc;
    }
  }
}

void rmsnorm_backward_ref(float* dinp, float* dweight, const float* dout, const float* inp,
                          const float* weight, const float* rstd, int64_t rows, int64_t C) {
  std::vector<double> dw(C, 0.0);
  for (int64_t r = 0; r < rows; ++r) {
    const double s = rstd[r];
    double dot = 0.0;
    for (int64_t i = 0; i < C; ++i)
      dot += static_cast<double>(dout[r * C + i]) * weight[i] * inp[r * C + i];
    const double k = dot * s * s * s / static_cast<double>(C);
    for (int64_t i = 0; i < C; ++i) {
      const double x = inp[r * C + i], dy = dout[r * C + i];
      dinp[r * C + i] = static_cast<float>(dinp[r * C + i] + (s * weight[i] * dy - k * x));
      dw[i] += dy * x * s;
    }
  }
  if (dweight != nullptr)
    for (int64_t i = 0; i < C; ++i) dweight[i] = static_cast<float>(dweight[i] + dw[i]);
}

}  // namespace tsft
