// cuBLAS GEMMs for row-major nn.Linear tensors, and the bias kernels around them.
//
// cuBLAS is column-major: a row-major X (r, c) is the column-major X^T (c, r) with leading
// dimension c. So row-major C = A @ B^T is column-major C^T = B @ A^T: gemm(T, N) with the
// operands swapped, and likewise for the two backward products.
#include "backend/cuda/common.cuh"
#include "backend/cuda/gemm.cuh"
#include "backend/cuda/matmul.h"
#include "core/error.h"

namespace tsft::cuda {
namespace {

// out (M, N) += bias (N) on every row.
__global__ void add_bias_kernel(float* out, const float* bias, int64_t M, int64_t N) {
  const int64_t total = M * N;
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < total;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x)
    out[i] += bias[i % N];
}

// dbias (N) += column sums of dout (M, N); one thread per column adds rows in order, so the
// result does not depend on the launch; neighbouring threads read neighbouring columns.
__global__ void bias_grad_kernel(float* dbias, const float* dout, int64_t M, int64_t N) {
  const int64_t n = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
  if (n >= N) return;
  float acc = 0.0f;
  for (int64_t m = 0; m < M; ++m) acc += dout[m * N + n];
  dbias[n] += acc;
}

void check_sizes(int64_t M, int64_t K, int64_t N, const char* op) {
  TSFT_CHECK(M >= 0 && K >= 0 && N >= 0, op, " M=", M, " K=", K, " N=", N);
  // cuBLAS takes int sizes and leading dimensions.
  TSFT_CHECK(M < (int64_t{1} << 31) && K < (int64_t{1} << 31) && N < (int64_t{1} << 31), op);
}

}  // namespace

void gemm(Product p, void* c, cudaDataType ct, const void* a, const void* b, cudaDataType abt,
          int64_t M, int64_t N, int64_t K, float alpha, float beta, const Context& ctx,
          const char* op) {
  if (M == 0 || N == 0) return;
  const int m = static_cast<int>(M), n = static_cast<int>(N), k = static_cast<int>(K);
  // Column-major: C^T (N, M) = op(B) @ op(A); see the comment at the top of the file.
  cublasOperation_t op_b, op_a;
  int ldb, lda;
  switch (p) {
    case Product::kNT:  // C^T = B @ A^T: B row-major (N, K) is col-major (K, N) ld K
      op_b = CUBLAS_OP_T, ldb = k, op_a = CUBLAS_OP_N, lda = k;
      break;
    case Product::kNN:  // C^T = B^T @ A^T: B row-major (K, N) is col-major (N, K) ld N
      op_b = CUBLAS_OP_N, ldb = n, op_a = CUBLAS_OP_N, lda = k;
      break;
    case Product::kTN:  // C^T = B^T @ A: A row-major (K, M) is col-major (M, K) ld M
    default:
      op_b = CUBLAS_OP_N, ldb = n, op_a = CUBLAS_OP_T, lda = m;
      break;
  }
  // K == 0 leaves C = beta * C; leading dimensions must still be at least 1.
  ldb = ldb > 0 ? ldb : 1;
  lda = lda > 0 ? lda : 1;
  check_cublas(cublasGemmEx(ctx.cublas(), op_b, op_a, n, m, k, &alpha, b, abt, ldb, a, abt, lda,
                            &beta, c, ct, n, CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT),
               op);
}

namespace {

void add_bias(float* out, const float* bias, int64_t M, int64_t N, const Context& ctx,
              const char* op) {
  if (bias == nullptr || M * N == 0) return;
  add_bias_kernel<<<grid_for(M * N, 256), 256, 0, ctx.stream()>>>(out, bias, M, N);
  check_launch(op);
}

}  // namespace

void matmul_forward(float* out, const float* inp, const float* weight, const float* bias,
                    int64_t M, int64_t K, int64_t N, const Context& ctx) {
  const char* op = "matmul_forward";
  check_sizes(M, K, N, op);
  gemm(Product::kNT, out, CUDA_R_32F, inp, weight, CUDA_R_32F, M, N, K, 1.0f, 0.0f, ctx, op);
  add_bias(out, bias, M, N, ctx, op);
}

void matmul_backward(float* dinp, float* dweight, float* dbias, const float* dout,
                     const float* inp, const float* weight, int64_t M, int64_t K, int64_t N,
                     const Context& ctx) {
  const char* op = "matmul_backward";
  check_sizes(M, K, N, op);
  // dinp (M, K) = dout (M, N) @ weight (N, K)
  if (dinp != nullptr)
    gemm(Product::kNN, dinp, CUDA_R_32F, dout, weight, CUDA_R_32F, M, K, N, 1.0f, 0.0f, ctx, op);
  // dweight (N, K) += dout (M, N)^T @ inp (M, K)
  if (dweight != nullptr)
    gemm(Product::kTN, dweight, CUDA_R_32F, dout, inp, CUDA_R_32F, N, K, M, 1.0f, 1.0f, ctx, op);
  if (dbias != nullptr && N > 0) {
    bias_grad_kernel<<<static_cast<unsigned int>(ceil_div(N, 256)), 256, 0, ctx.stream()>>>(
        dbias, dout, M, N);
    check_launch(op);
  }
}

void matmul_forward_bf16(float* out, const uint16_t* inp, const uint16_t* weight,
                         const float* bias, int64_t M, int64_t K, int64_t N, const Context& ctx) {
  const char* op = "matmul_forward_bf16";
  check_sizes(M, K, N, op);
  gemm(Product::kNT, out, CUDA_R_32F, inp, weight, CUDA_R_16BF, M, N, K, 1.0f, 0.0f, ctx, op);
  add_bias(out, bias, M, N, ctx, op);
}

void matmul_backward_bf16(float* dinp, float* dweight, const uint16_t* dout, const uint16_t* inp,
                          const uint16_t* weight, int64_t M, int64_t K, int64_t N,
                          const Context& ctx) {
  const char* op = "matmul_backward_bf16";
  check_sizes(M, K, N, op);
  if (dinp != nullptr)
    gemm(Product::kNN, dinp, CUDA_R_32F, dout, weight, CUDA_R_16BF, M, K, N, 1.0f, 0.0f, ctx, op);
  if (dweight != nullptr)
    gemm(Product::kTN, dweight, CUDA_R_32F, dout, inp, CUDA_R_16BF, N, K, M, 1.0f, 1.0f, ctx, op);
}

}  // namespace tsft::cuda
