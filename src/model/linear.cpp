#include "model/linear.h"

#include <vector>

#include "backend/cpu/dequant.h"
#include "backend/cpu/matmul.h"
#include "backend/cpu/matmul_int.h"
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
// rows through the same kernels on its float32 weights, not through sgemm, whose packing costs
// more than a few rows' arithmetic: the dot form up to 6 rows (one tile of inputs), the
// broadcast form above (bench/bench_matvec, second table, matmul_f32_* columns: at 2 threads the
// dot form is 1.1-1.4x the broadcast form at 4 and 6 rows, 0.9-1.0x at 8).
constexpr int64_t kF32MinRows = 2;
constexpr int64_t kF32DotMaxRows = 6;
// With Activations::kAuto, steps of several sequences from this many rows up to kQuantMaxRows
// multiply in int16 (matmul_int): below it the 16-input tile wastes most of its lanes and the
// float dot form is as fast (bench/bench_matvec --rows 4,6,8,16, int16 column).
constexpr int64_t kInt16MinRows = 6;

// The integer precision a product of T rows with weights of type t runs at, if any.
bool integer_bits(int64_t T, DType t, bool batch, IntBits* bits) {
  if (!matmul_int_supported(t)) return false;
  switch (activations()) {
    case Activations::kInt8: *bits = IntBits::k8; return true;
    case Activations::kAuto:
      *bits = IntBits::k16;
      return batch && T >= kInt16MinRows && T <= kQuantMaxRows;
    default: return false;
  }
}

}  // namespace

void linear(float* out, const float* in, const Tensor& w, const Tensor& w_quant, const Tensor& bias,
            int64_t T, int64_t K, int64_t N, bool batch) {
  IntBits bits;
  if (w_quant.data != nullptr && integer_bits(T, w_quant.dtype, batch, &bits)) {
    // int8: any number of rows; at 32 and 64 (a prompt's chunks) it is still 2x sgemm on the
    // float32 copy (bench/bench_matvec --rows 32,64)
    matmul_int(out, in, w_quant.data, w_quant.dtype, opt(bias), T, N, K, bits);
  } else if (w_quant.data != nullptr && T <= kQuantMaxRows) {
    matmul_quant(out, in, w_quant.data, w_quant.dtype, opt(bias), T, N, K);
  } else if (w.data != nullptr && T >= kF32MinRows && T <= kQuantMaxRows) {
    if (T <= kF32DotMaxRows && K % 8 == 0)
      matmul_f32_dot(out, in, w.f32(), opt(bias), T, N, K);
    else
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

void linear_group(const float* in, int64_t T, int64_t K, std::initializer_list<LinearOut> outs,
                  bool batch) {
  IntBits bits = IntBits::k8;
  bool integer = outs.size() <= 4;
  for (const LinearOut& o : outs)
    integer =
        integer && o.w_quant.data != nullptr && integer_bits(T, o.w_quant.dtype, batch, &bits);
  if (!integer) {
    for (const LinearOut& o : outs) linear(o.out, in, o.w, o.w_quant, o.bias, T, K, o.N, batch);
    return;
  }
  IntProduct products[4];
  int n = 0;
  for (const LinearOut& o : outs)
    products[n++] = IntProduct{o.out, o.w_quant.data, o.w_quant.dtype, opt(o.bias), o.N};
  matmul_int_group(in, T, K, products, n, bits);
}

}  // namespace tsft
