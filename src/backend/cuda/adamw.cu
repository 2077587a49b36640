// AdamW update kernel. Every operation is an explicitly rounded intrinsic (__fmul_rn, ...) so
// nvcc cannot contract pairs into fused multiply-adds: the order and rounding are torch's.
#include <cuda_bf16.h>

#include <cmath>

#include "backend/cuda/adamw.h"
#include "backend/cuda/common.cuh"
#include "core/error.h"

namespace tsft::cuda {
namespace {

__global__ void adamw_kernel(float* param, float* m, float* v, uint16_t* param_bf16,
                             const float* grad, int64_t n, AdamWScalars s, bool decay) {
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    float w = param[i];
    if (decay) w = __fmul_rn(w, s.decay_mul);
    const float g = grad[i], mi = m[i];
    // torch.lerp: start + weight*(end-start) for |weight| < 0.5, else end - (end-start)*(1-weight)
    const float mj = s.lerp_from_start
                         ? __fadd_rn(mi, __fmul_rn(s.one_minus_b1, __fsub_rn(g, mi)))
                         : __fsub_rn(g, __fmul_rn(__fsub_rn(g, mi), __fsub_rn(1.0f, s.one_minus_b1)));
    const float vj = __fadd_rn(__fmul_rn(v[i], s.b2), __fmul_rn(__fmul_rn(s.one_minus_b2, g), g));
    const float denom = __fadd_rn(__fdiv_rn(__fsqrt_rn(vj), s.bc2_sqrt), s.eps);
    m[i] = mj;
    v[i] = vj;
    w = __fadd_rn(w, __fdiv_rn(__fmul_rn(s.neg_step_size, mj), denom));
    param[i] = w;
    if (param_bf16 != nullptr) param_bf16[i] = __bfloat16_as_ushort(__float2bfloat16_rn(w));
  }
}

}  // namespace

AdamWScalars adamw_scalars(float lr, double beta1, double beta2, double eps, double weight_decay,
                           int64_t step) {
  TSFT_CHECK(step >= 1, "adamw_scalars step=", step);
  const double t = static_cast<double>(step);
  const double bc1 = 1.0 - std::pow(beta1, t);
  const double bc2 = 1.0 - std::pow(beta2, t);
  AdamWScalars s;
  s.decay_mul = static_cast<float>(1.0 - static_cast<double>(lr) * weight_decay);
  s.one_minus_b1 = static_cast<float>(1.0 - beta1);
  s.b2 = static_cast<float>(beta2);
  s.one_minus_b2 = static_cast<float>(1.0 - beta2);
  s.neg_step_size = static_cast<float>(-(static_cast<double>(lr) / bc1));
  s.bc2_sqrt = static_cast<float>(std::sqrt(bc2));
  s.eps = static_cast<float>(eps);
  s.lerp_from_start = std::fabs(s.one_minus_b1) < 0.5f;
  return s;
}

void adamw_update(float* param, float* m, float* v, uint16_t* param_bf16, const float* grad,
                  int64_t n, const AdamWScalars& s, bool decay, const Context& ctx) {
  TSFT_CHECK(n >= 0, "adamw_update n=", n);
  if (n == 0) return;
  adamw_kernel<<<grid_for(n, 256), 256, 0, ctx.stream()>>>(param, m, v, param_bf16, grad, n, s,
                                                           decay);
  check_launch("adamw_update");
}

}  // namespace tsft::cuda
