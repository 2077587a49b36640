// Global-norm gradient clipping as torch.nn.utils.clip_grad_norm_ (norm type 2), with a
// deterministic double-precision reduction whose result does not depend on the thread count.
#pragma once

#include "train/param.h"

namespace tsft {

// L2 norm over all gradients of params, as if concatenated. NaN or Inf when any gradient is
// non-finite (or the sum overflows): check with std::isfinite.
double grad_norm(const ParamList& params);

// Computes the total norm; if it is finite and max_norm > 0, scales every gradient by
// coef = max_norm / (total + 1e-6) when coef < 1. Returns the total norm before clipping.
// When the norm is not finite the gradients are left untouched (torch would fill them with NaN);
// the caller should skip the optimizer step.
double clip_grad_norm(const ParamList& params, double max_norm);

}  // namespace tsft
