// The CUDA backend's per-device state (one stream, one cuBLAS handle) and the device query the
// tests use to skip. Headers of src/backend/cuda include no CUDA header, so plain C++ can call them.
#pragma once

#include <string>

// Opaque handles, as cuda_runtime.h (cudaStream_t) and cublas_v2.h (cublasHandle_t) declare them.
struct CUstream_st;
struct cublasContext;

namespace tsft::cuda {

// How many CUDA devices can be used; count 0 when there is none, no driver, or the runtime fails,
// and reason then says which (e.g. "cudaGetDeviceCount: no CUDA-capable device is detected").
struct DeviceStatus {
  int count = 0;
  std::string reason;
};
DeviceStatus device_status();

// Conventions of every op in src/backend/cuda (the CPU backend's, on the device):
// - pointers are device memory unless a comment says host; shapes as the CPU twin documents them;
// - ops are enqueued on ctx's stream and return without waiting; nothing copies to the host
//   except functions whose names end in _sync;
// - a CUDA or cuBLAS failure throws tsft::Error "cuda: <op>: <CUDA's message>";
// - parameter gradients are ACCUMULATED (+=); input gradients are overwritten or accumulated as
//   each declaration says, as on the CPU; no reduction uses atomics, so results are repeatable.
class Context {
 public:
  // Selects `device`, creates a non-blocking stream and a cuBLAS handle bound to it. The cuBLAS
  // math mode is the default (no TF32), so float32 GEMMs are true float32.
  explicit Context(int device = 0);
  ~Context();
  Context(const Context&) = delete;
  Context& operator=(const Context&) = delete;

  int device() const { return device_; }
  CUstream_st* stream() const { return stream_; }
  cublasContext* cublas() const { return cublas_; }

  // Waits for everything enqueued so far; a failure of any earlier kernel is reported here
  // with `op` (the caller's name for the point it waited at).
  void synchronize(const char* op) const;

 private:
  int device_ = 0;
  CUstream_st* stream_ = nullptr;
  cublasContext* cublas_ = nullptr;
};

}  // namespace tsft::cuda
