// CUDA device query, the Context (stream + cuBLAS handle) and the error messages of the backend.
#include "backend/cuda/common.cuh"
#include "core/error.h"

namespace tsft::cuda {

void fail_cuda(cudaError_t err, const char* op) {
  // Clear the (non-sticky) error so that the next check does not report it a second time.
  (void)cudaGetLastError();
  fail("cuda: ", op, ": ", cudaGetErrorString(err));
}

void fail_cublas(cublasStatus_t status, const char* op) {
  fail("cuda: ", op, ": cuBLAS: ", cublasGetStatusString(status));
}

DeviceStatus device_status() {
  DeviceStatus st;
  int n = 0;
  const cudaError_t err = cudaGetDeviceCount(&n);
  if (err != cudaSuccess) {
    (void)cudaGetLastError();
    st.reason = str("cudaGetDeviceCount: ", cudaGetErrorString(err));
    return st;
  }
  st.count = n;
  if (n == 0) st.reason = "cudaGetDeviceCount: 0 devices";
  return st;
}

Context::Context(int device) : device_(device) {
  check_cuda(cudaSetDevice(device), "context: cudaSetDevice");
  cudaStream_t stream = nullptr;
  check_cuda(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking), "context: stream");
  stream_ = stream;
  cublasHandle_t handle = nullptr;
  const cublasStatus_t st = cublasCreate(&handle);
  if (st != CUBLAS_STATUS_SUCCESS) {
    cudaStreamDestroy(stream);
    fail_cublas(st, "context: cublasCreate");
  }
  cublas_ = handle;
  check_cublas(cublasSetStream(handle, stream), "context: cublasSetStream");
  // Scalars (alpha, beta) come from the host; TF32 stays off so float32 GEMMs match the CPU.
  check_cublas(cublasSetPointerMode(handle, CUBLAS_POINTER_MODE_HOST), "context: pointer mode");
  check_cublas(cublasSetMathMode(handle, CUBLAS_DEFAULT_MATH), "context: math mode");
}

Context::~Context() {
  // Destructors do not throw: failures here have nothing left to report to.
  if (cublas_ != nullptr) cublasDestroy(cublas_);
  if (stream_ != nullptr) cudaStreamDestroy(stream_);
}

void Context::synchronize(const char* op) const { check_cuda(cudaStreamSynchronize(stream_), op); }

}  // namespace tsft::cuda
