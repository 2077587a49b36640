// Device memory for the CUDA backend: allocation and copies whose failures name the op, an owning
// buffer for tests and tools, and float32 <-> bfloat16 conversion on the device.
#pragma once

#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

#include "backend/cuda/context.h"

namespace tsft::cuda {

// Throws tsft::Error "cuda: <what>: out of memory" (or CUDA's message). bytes == 0 gives nullptr.
void* device_alloc(size_t bytes, const char* what);
void device_free(void* p);  // null is fine; never throws

// Stream-ordered copies on ctx's stream. copy_to_host_sync waits for the copy (and so for all
// work enqueued before it); copy_to_device may return before the copy is done, so src must stay
// valid until the stream reaches it (synchronize before freeing or reusing it).
void copy_to_device(void* dst, const void* src, size_t bytes, const Context& ctx, const char* op);
void copy_to_host_sync(void* dst, const void* src, size_t bytes, const Context& ctx,
                       const char* op);
void copy_device_to_device(void* dst, const void* src, size_t bytes, const Context& ctx,
                           const char* op);
void fill_zero(void* dst, size_t bytes, const Context& ctx, const char* op);

// out (n) = in (n) rounded to bfloat16, nearest even (as core/half.h's f32_to_bf16), and back.
void convert_f32_to_bf16(uint16_t* out, const float* in, int64_t n, const Context& ctx);
void convert_bf16_to_f32(float* out, const uint16_t* in, int64_t n, const Context& ctx);

// An owning array of n T in device memory.
template <typename T>
class DeviceBuffer {
 public:
  DeviceBuffer() = default;
  explicit DeviceBuffer(size_t n, const char* what = "alloc")
      : n_(n), p_(static_cast<T*>(device_alloc(n * sizeof(T), what))) {}
  ~DeviceBuffer() { device_free(p_); }
  DeviceBuffer(DeviceBuffer&& o) noexcept : n_(std::exchange(o.n_, 0)), p_(std::exchange(o.p_, nullptr)) {}
  DeviceBuffer& operator=(DeviceBuffer&& o) noexcept {
    std::swap(n_, o.n_);
    std::swap(p_, o.p_);
    return *this;
  }
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;

  T* data() { return p_; }
  const T* data() const { return p_; }
  size_t size() const { return n_; }

  // A buffer holding a copy of host, ready once ctx's stream reaches it; host must outlive that
  // (upload_sync waits).
  static DeviceBuffer upload_sync(const std::vector<T>& host, const Context& ctx) {
    DeviceBuffer b(host.size(), "upload");
    copy_to_device(b.p_, host.data(), host.size() * sizeof(T), ctx, "upload");
    ctx.synchronize("upload");
    return b;
  }
  std::vector<T> download_sync(const Context& ctx) const {
    std::vector<T> host(n_);
    copy_to_host_sync(host.data(), p_, n_ * sizeof(T), ctx, "download");
    return host;
  }

 private:
  size_t n_ = 0;
  T* p_ = nullptr;
};

}  // namespace tsft::cuda
