#include "model/linear.h"

#include <vector>

#include "backend/cpu/dequant.h"
#include "backend/cpu/matmul.h"
#include "backend/cpu/matvec_quant.h"

namespace tsft {
namespace {

const float* opt(const Tensor& t) { return t.data == nullptr ? nullptr : t.f32(); }

}  // namespace

void linear(float* out, const float* in, const Tensor& w, const Tensor& w_quant, const Tensor& bias,
            int64_t T, int64_t K, int64_t N) {
  if (T == 1 && w_quant.data != nullptr) {
    matvec_quant(out, in, w_quant.data, w_quant.dtype, opt(bias), N, K);
  } else if (w.data == nullptr) {  // only the quantized blocks are kept (LoRA on a quantized base)
    thread_local std::vector<float> deq;
    if (static_cast<int64_t>(deq.size()) < N * K) deq.resize(static_cast<size_t>(N * K));
    dequantize_row(w_quant.dtype, w_quant.data, deq.data(), N * K);
    matmul_forward(out, in, deq.data(), opt(bias), T, K, N);
  } else {
    matmul_forward(out, in, w.f32(), opt(bias), T, K, N);
  }
}

}  // namespace tsft
