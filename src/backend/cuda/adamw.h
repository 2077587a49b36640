// AdamW on the GPU with float32 master weights, the update torch.optim.AdamW (single-tensor path)
// makes and train/adamw.h makes on the CPU, element for element in the same float32 operations;
// optionally refreshes a bfloat16 copy of the weights for the bf16 GEMMs.
#pragma once

#include <cstdint>

#include "backend/cuda/context.h"

namespace tsft::cuda {

// The per-step scalars, computed in double from the hyperparameters and rounded once to float,
// as torch (and train/adamw.cpp) computes them. step counts from 1.
struct AdamWScalars {
  float decay_mul = 1.0f;  // 1 - lr * weight_decay
  float one_minus_b1 = 0.1f;
  float b2 = 0.999f;
  float one_minus_b2 = 0.001f;
  float neg_step_size = 0.0f;  // -lr / (1 - beta1^step)
  float bc2_sqrt = 1.0f;       // sqrt(1 - beta2^step)
  float eps = 1e-8f;
  bool lerp_from_start = true;  // torch.lerp's branch: |1 - beta1| < 0.5
};
AdamWScalars adamw_scalars(float lr, double beta1, double beta2, double eps, double weight_decay,
                           int64_t step);

// One update of n parameters, all (n) in device memory:
//   p *= decay_mul (when decay);  m = lerp(m, g, 1 - b1);  v = v*b2 + (1-b2)*g*g;
//   p += neg_step_size * m / (sqrt(v) / bc2_sqrt + eps)
// param (float32 master), m, v updated in place; grad read; param_bf16, when non-null,
// OVERWRITTEN with param rounded to bfloat16 (nearest even).
void adamw_update(float* param, float* m, float* v, uint16_t* param_bf16, const float* grad,
                  int64_t n, const AdamWScalars& s, bool decay, const Context& ctx);

}  // namespace tsft::cuda
