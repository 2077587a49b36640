// RMSNorm forward (with saved rstd) and backward.
#include "backend/cuda/common.cuh"
#include "backend/cuda/rmsnorm.h"
#include "core/error.h"

namespace tsft::cuda {
namespace {

constexpr int kRowThreads = 256;

__global__ void rmsnorm_forward_kernel(float* out, float* rstd, const float* inp,
                                       const float* weight, float eps, int64_t rows, int64_t C) {
  __shared__ float red[32];
  for (int64_t r = blockIdx.x; r < rows; r += gridDim.x) {
    const float* x = inp + r * C;
    float ss = 0.0f;
    for (int64_t i = threadIdx.x; i < C; i += blockDim.x) ss += x[i] * x[i];
    ss = block_sum(ss, red);
    const float s = rsqrtf(ss / static_cast<float>(C) + eps);
    if (rstd != nullptr && threadIdx.x == 0) rstd[r] = s;
    float* y = out + r * C;
    for (int64_t i = threadIdx.x; i < C; i += blockDim.x) y[i] = weight[i] * (x[i] * s);
  }
}

// dx = s * (w * dy) - x * s^3 / C * sum_j(w_j dy_j x_j), added into dinp.
__global__ void rmsnorm_backward_input_kernel(float* dinp, const float* dout, const float* inp,
                                              const float* weight, const float* rstd,
                                              int64_t rows, int64_t C) {
  __shared__ float red[32];
  for (int64_t r = blockIdx.x; r < rows; r += gridDim.x) {
    const float* x = inp + r * C;
    const float* dy = dout + r * C;
    float dot = 0.0f;
    for (int64_t i = threadIdx.x; i < C; i += blockDim.x) dot += dy[i] * weight[i] * x[i];
    dot = block_sum(dot, red);
    const float s = rstd[r];
    const float k = dot * s * s * s / static_cast<float>(C);
    float* dx = dinp + r * C;
    for (int64_t i = threadIdx.x; i < C; i += blockDim.x) dx[i] += s * weight[i] * dy[i] - k * x[i];
  }
}

// dweight[c] += sum_r dout[r, c] * inp[r, c] * rstd[r]. Block (32 columns, 32 row lanes): lane y
// sums rows y, y + 32, ... in order, then the 32 lane sums are added in lane order.
__global__ void rmsnorm_backward_weight_kernel(float* dweight, const float* dout,
                                               const float* inp, const float* rstd, int64_t rows,
                                               int64_t C) {
  __shared__ float part[32][33];
  const int64_t c = blockIdx.x * 32 + threadIdx.x;
  float acc = 0.0f;
  if (c < C)
    for (int64_t r = threadIdx.y; r < rows; r += 32) acc += dout[r * C + c] * inp[r * C + c] * rstd[r];
  part[threadIdx.y][threadIdx.x] = acc;
  __syncthreads();
  if (threadIdx.y == 0 && c < C) {
    float total = 0.0f;
    for (int y = 0; y < 32; ++y) total += part[y][threadIdx.x];
    dweight[c] += total;
  }
}

unsigned int row_grid(int64_t rows) {
  return static_cast<unsigned int>(rows < 65535 * 8 ? rows : 65535 * 8);
}

}  // namespace

void rmsnorm_forward(float* out, float* rstd, const float* inp, const float* weight, float eps,
                     int64_t rows, int64_t C, const Context& ctx) {
  TSFT_CHECK(rows >= 0 && C > 0, "rmsnorm_forward rows=", rows, " C=", C);
  if (rows == 0) return;
  rmsnorm_forward_kernel<<<row_grid(rows), kRowThreads, 0, ctx.stream()>>>(out, rstd, inp, weight,
                                                                           eps, rows, C);
  check_launch("rmsnorm_forward");
}

void rmsnorm_backward(float* dinp, float* dweight, const float* dout, const float* inp,
                      const float* weight, const float* rstd, int64_t rows, int64_t C,
                      const Context& ctx) {
  TSFT_CHECK(rows >= 0 && C > 0, "rmsnorm_backward rows=", rows, " C=", C);
  if (rows == 0) return;
  rmsnorm_backward_input_kernel<<<row_grid(rows), kRowThreads, 0, ctx.stream()>>>(
      dinp, dout, inp, weight, rstd, rows, C);
  check_launch("rmsnorm_backward");
  if (dweight != nullptr) {
    const dim3 block(32, 32);
    rmsnorm_backward_weight_kernel<<<static_cast<unsigned int>(ceil_div(C, 32)), block, 0,
                                     ctx.stream()>>>(dweight, dout, inp, rstd, rows, C);
    check_launch("rmsnorm_backward");
  }
}

}  // namespace tsft::cuda
