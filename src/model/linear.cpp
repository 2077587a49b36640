#include "model/linear.h"

#include <vector>

#include "backend/cpu/dequant.h"
#include "backend/cpu/matmul.h"
#include "backend/cpu/matvec_quant.h"

namespace tsft {
namespace {

const float* opt(const Tensor& t) { return t.data == nullptr ? nullptr : t.f32(); }

// Up to this many rows, products read the quantized blocks (matmul_quant: each block read once
// per call, dequantized in L1) rather than OpenBLAS on the float32 copy, whose packing of the
// whole float32 matrix costs more than the few rows' arithmetic (bench/bench_matvec, second
// table: 1.7-2.6x faster at 4-8 rows, even at 16, slower from 32).
constexpr int64_t kQuantMaxRows = 16;
// A model without quantized blocks (a Hugging Face directory, a fine-tuned output) runs 2-16
// rows through the same broadcast kernel on its float32 weights, also not through sgemm:
// 1.5-3x faster there (bench/bench_matvec, second table, matmul_f32_broadcast column).
constexpr int64_t kF32MinRows = 2;

}  // namespace

void linear(float* out, const float* in, const Tensor& w, const Tensor& w_quant, const Tensor& bias,
            int64_t T, int64_t K, int64_t N) {
  if (w_quant.data != nullptr && T <= kQuantMaxRows) {
    matmul_quant(out, in, w_quant.data, w_quant.dtype, opt(bias), T, N, K);
  } else if (w.data != nullptr && T >= kF32MinRows && T <= kQuantMaxRows) {
    matmul_f32_broadcast(out, in, w.f32(), opt(bias), T, N, K);
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
