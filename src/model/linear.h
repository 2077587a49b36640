// The linear layer the inference forwards share (Transformer::forward, tree_forward): which
// weight copy a call uses (quantized blocks or float32) depends on the number of rows.
#pragma once

#include <cstdint>
#include <initializer_list>

#include "core/tensor.h"

namespace tsft {

// out (T, N) = in (T, K) @ w (N, K)^T (+ bias (N), an empty Tensor for none). Up to 16 rows
// (decoding steps) read the stored quantized blocks w_quant when there are any, since the
// weights are then read once and fewer bytes is what counts; more rows run BLAS on the float32
// weights (dequantized on the fly when only the quantized blocks are kept, as for LoRA on a
// quantized base). Products with quantized blocks of a type matmul_int supports multiply in
// integers as activations() says: kInt8 at any number of rows; kAuto in int16 at 6-16 rows of a
// `batch` step (rows of several sequences: a server's decoding step), otherwise in float32.
void linear(float* out, const float* in, const Tensor& w, const Tensor& w_quant, const Tensor& bias,
            int64_t T, int64_t K, int64_t N, bool batch = false);

// One output of linear_group: out (T, N) = in @ w^T (+ bias), the weights as linear takes them.
struct LinearOut {
  float* out;
  const Tensor& w;
  const Tensor& w_quant;
  const Tensor& bias;
  int64_t N;
};

// linear() for each output, all of the same input (a layer's q, k and v; gate and up). When they
// multiply in integers the input is quantized once and the products share one parallel region.
void linear_group(const float* in, int64_t T, int64_t K, std::initializer_list<LinearOut> outs,
                  bool batch = false);

}  // namespace tsft
