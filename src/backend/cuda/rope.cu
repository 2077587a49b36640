// RoPE tables and the in-place rotation, forward and transposed (backward).
#include "backend/cuda/common.cuh"
#include "backend/cuda/rope.h"
#include "core/error.h"

namespace tsft::cuda {
namespace {

__global__ void rope_cos_sin_kernel(float* cos_out, float* sin_out, const int32_t* pos,
                                   const float* inv_freq, int64_t T, int64_t half) {
  const int64_t total = T * half;
  for (int64_t k = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; k < total;
       k += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const int64_t t = k / half, i = k % half;
    const float a = __fmul_rn(static_cast<float>(pos[t]), inv_freq[i]);
    cos_out[k] = cosf(a);
    sin_out[k] = sinf(a);
  }
}

// One thread per (t, h, i < D/2) pair. sign = +1 rotates by +angle, -1 by -angle (negating sin
// is exact, so backward is forward with the other sign, as on the CPU).
__global__ void rope_rotate_kernel(float* x, const float* cos_t, const float* sin_t, int64_t T,
                                   int64_t H, int64_t half, float sign) {
  const int64_t total = T * H * half;
  for (int64_t k = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; k < total;
       k += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const int64_t i = k % half, th = k / half, t = th / H;
    float* v = x + th * 2 * half;
    const float c = cos_t[t * half + i], s = sign * sin_t[t * half + i];
    const float a = v[i], b = v[i + half];
    v[i] = a * c - b * s;
    v[i + half] = b * c + a * s;
  }
}

void rotate(float* x, const float* cos_t, const float* sin_t, int64_t T, int64_t H, int64_t D,
            float sign, const Context& ctx, const char* op) {
  TSFT_CHECK(T >= 0 && H >= 0 && D > 0 && D % 2 == 0, op, " T=", T, " H=", H, " D=", D);
  const int64_t total = T * H * (D / 2);
  if (total == 0) return;
  rope_rotate_kernel<<<grid_for(total, 256), 256, 0, ctx.stream()>>>(x, cos_t, sin_t, T, H, D / 2,
                                                                     sign);
  check_launch(op);
}

}  // namespace

void rope_cos_sin(float* cos_out, float* sin_out, const int32_t* pos, const float* inv_freq,
                  int64_t T, int64_t head_dim, const Context& ctx) {
  TSFT_CHECK(T >= 0 && head_dim > 0 && head_dim % 2 == 0, "rope_cos_sin D=", head_dim);
  const int64_t total = T * (head_dim / 2);
  if (total == 0) return;
  rope_cos_sin_kernel<<<grid_for(total, 256), 256, 0, ctx.stream()>>>(cos_out, sin_out, pos,
                                                                      inv_freq, T, head_dim / 2);
  check_launch("rope_cos_sin");
}

void rope_forward(float* x, const float* cos_t, const float* sin_t, int64_t T, int64_t H,
                  int64_t D, const Context& ctx) {
  rotate(x, cos_t, sin_t, T, H, D, 1.0f, ctx, "rope_forward");
}

void rope_backward(float* dx, const float* cos_t, const float* sin_t, int64_t T, int64_t H,
                   int64_t D, const Context& ctx) {
  rotate(dx, cos_t, sin_t, T, H, D, -1.0f, ctx, "rope_backward");
}

}  // namespace tsft::cuda
