// LM head fused with cross-entropy on the GPU, over only the rows that carry loss, as
// backend/cpu/cross_entropy.h defines it: logits are computed in bounded chunks of rows and of
// the vocabulary (cuBLAS SGEMM into a caller-provided workspace) and never stored whole.
#pragma once

#include <cstdint>

#include "backend/cuda/context.h"

namespace tsft::cuda {

// Totals in device memory, so that a training step needs no host round trip; read them with
// read_cross_entropy_totals_sync when the step's loss is logged.
struct CrossEntropyTotals {
  double loss_sum = 0;    // sum over rows of -log softmax(logits)[target]
  int64_t n_correct = 0;  // rows whose argmax (lowest index on ties) is the target
};

// Floats of workspace lm_head_cross_entropy needs for R rows and vocabulary V.
int64_t lm_head_cross_entropy_workspace_floats(int64_t R, int64_t V);

// logits = hidden (R, C) @ weight (V, C)^T; targets (R) in [0, V) (checked on the host by the
// caller: a target outside gives a NaN loss for its row). totals (device) OVERWRITTEN.
// dhidden (R, C), when non-null, OVERWRITTEN with grad_scale * (softmax - onehot) @ weight.
// dweight (V, C), when non-null, ACCUMULATED += grad_scale * (softmax - onehot)^T @ hidden.
// Two passes over each vocabulary chunk: the first keeps a running max, sum of exponentials and
// argmax per row (online log-sum-exp), the second recomputes the chunk's logits and turns them
// into gradients. The totals are a fixed-order reduction over rows, so they are repeatable.
void lm_head_cross_entropy(CrossEntropyTotals* totals, float* dhidden, float* dweight,
                           const float* hidden, const int32_t* targets, const float* weight,
                           int64_t R, int64_t C, int64_t V, float grad_scale, float* workspace,
                           const Context& ctx);

CrossEntropyTotals read_cross_entropy_totals_sync(const CrossEntropyTotals* totals,
                                                  const Context& ctx);

// The supervised rows of a packed batch, so the LM head sees only them:
// out (R, C) = in[rows[r]] for in (N, C), rows (R) in [0, N).
void gather_rows(float* out, const float* in, const int32_t* rows, int64_t R, int64_t C,
                 const Context& ctx);
// dst[rows[r]] += src[r] for dst (N, C), src (R, C); rows must be distinct (no atomics needed).
void scatter_add_rows(float* dst, const float* src, const int32_t* rows, int64_t R, int64_t C,
                      const Context& ctx);

}  // namespace tsft::cuda
