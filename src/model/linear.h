// The linear layer the inference forwards share (Transformer::forward, tree_forward): which
// weight copy a call uses (quantized blocks or float32) depends on the number of rows.
#pragma once

#include <cstdint>

#include "core/tensor.h"

namespace tsft {

// out (T, N) = in (T, K) @ w (N, K)^T (+ bias (N), an empty Tensor for none). One row (decoding)
// reads the stored quantized blocks w_quant when there are any, since the weights are then read
// once and fewer bytes is what counts; more rows run BLAS on the float32 weights (dequantized on
// the fly when only the quantized blocks are kept, as for LoRA on a quantized base).
void linear(float* out, const float* in, const Tensor& w, const Tensor& w_quant, const Tensor& bias,
            int64_t T, int64_t K, int64_t N);

}  // namespace tsft
