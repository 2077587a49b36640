// RMSNorm as transformers' LlamaRMSNorm computes it in float32:
// out = weight * (x * rsqrt(mean(x^2) + eps)), and its backward pass.
// Backward rule for every CPU op: parameter gradients (weights, biases) are accumulated (+=);
// input gradients are accumulated or overwritten as each declaration says.
#pragma once

#include <cstdint>

namespace tsft {

// out (rows, C), inp (rows, C), weight (C). out may alias inp.
void rmsnorm_forward(float* out, const float* inp, const float* weight, float eps, int64_t rows,
                     int64_t C);
void rmsnorm_forward_ref(float* out, const float* inp, const float* weight, float eps,
                         int64_t rows, int64_t C);

// Training forward: rmsnorm_forward's loop (so the same bits), plus rstd (rows), the
// 1/sqrt(mean(x^2) + eps) of each row, saved for the backward pass; rstd may be null (that is
// rmsnorm_forward). out may alias inp.
void rmsnorm_forward_train(float* out, float* rstd, const float* inp, const float* weight,
                           float eps, int64_t rows, int64_t C);
void rmsnorm_forward_train_ref(float* out, float* rstd, const float* inp, const float* weight,
                               float eps, int64_t rows, int64_t C);

// dinp (rows, C) ACCUMULATED (+=), so residual streams and q/k-norm can add into it;
// dweight (C) accumulated, may be null (frozen weight); dout, inp (rows, C); weight (C);
// rstd (rows) from rmsnorm_forward_train. q/k-norm is rows = tokens * heads, C = head_dim.
// dinp must not alias dout or inp. The dweight sum runs over fixed row chunks combined in a
// fixed order, so the result does not depend on the thread count.
void rmsnorm_backward(float* dinp, float* dweight, const float* dout, const float* inp,
                      const float* weight, const float* rstd, int64_t rows, int64_t C);
void rmsnorm_backward_ref(float* dinp, float* dweight, const float* dout, const float* inp,
                          const float* weight, const float* rstd, int64_t rows, int64_t C);

}  // namespace tsft
