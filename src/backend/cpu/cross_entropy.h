// LM head fused with cross-entropy over only the rows that carry loss: logits are computed in
// bounded chunks of rows and never stored whole (V can be 152k).
#pragma once

#include <cstdint>

namespace tsft {

struct CrossEntropyResult {
  double loss_sum = 0;    // sum over rows of -log softmax(logits)[target]
  int64_t n_correct = 0;  // rows whose argmax (lowest index on ties) is the target
};

// logits = hidden (R, C) @ weight (V, C)^T; targets (R) in [0, V).
// dhidden (R, C), when non-null, OVERWRITTEN with grad_scale * (softmax - onehot) @ weight.
// dweight (V, C), when non-null, ACCUMULATED += grad_scale * (softmax - onehot)^T @ hidden.
CrossEntropyResult lm_head_cross_entropy(float* dhidden, float* dweight, const float* hidden,
                                         const int32_t* targets, const float* weight, int64_t R,
                                         int64_t C, int64_t V, float grad_scale);
CrossEntropyResult lm_head_cross_entropy_ref(float* dhidden, float* dweight, const float* hidden,
                                             const int32_t* targets, const float* weight,
                                             int64_t R, int64_t C, int64_t V, float grad_scale);

}  // namespace tsft
