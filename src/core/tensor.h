// Tensors are views: a dtype, a shape in PyTorch order (outermost first, row-major, contiguous)
// and a pointer into memory owned elsewhere (an Arena, an mmap'd file, a std::vector).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <vector>

#include "core/dtype.h"
#include "core/error.h"

namespace tsft {

constexpr int kMaxDims = 4;

struct Shape {
  std::array<int64_t, kMaxDims> dims{};
  int ndim = 0;

  Shape() = default;
  Shape(std::initializer_list<int64_t> d) {
    TSFT_CHECK(d.size() <= kMaxDims);
    for (int64_t v : d) dims[ndim++] = v;
  }
  static Shape from(const std::vector<int64_t>& d) {
    Shape s;
    TSFT_CHECK(d.size() <= kMaxDims, "too many dims: ", d.size());
    for (int64_t v : d) s.dims[s.ndim++] = v;
    return s;
  }
  int64_t operator[](int i) const { return dims[i < 0 ? ndim + i : i]; }
  int64_t numel() const {
    int64_t n = 1;
    for (int i = 0; i < ndim; ++i) n *= dims[i];
    return n;
  }
  bool operator==(const Shape& o) const {
    if (ndim != o.ndim) return false;
    for (int i = 0; i < ndim; ++i)
      if (dims[i] != o.dims[i]) return false;
    return true;
  }
  std::string to_string() const;
};

struct Tensor {
  DType dtype = DType::kF32;
  Shape shape;
  void* data = nullptr;

  int64_t numel() const { return shape.numel(); }
  size_t nbytes() const { return dtype_bytes(dtype, numel()); }
  float* f32() const {
    TSFT_CHECK(dtype == DType::kF32, "tensor is ", dtype_name(dtype), ", not F32");
    return static_cast<float*>(data);
  }
};

// A bump allocator: one block of memory, 64-byte aligned allocations, freed all at once.
class Arena {
 public:
  explicit Arena(size_t capacity_bytes = 0);
  ~Arena();
  Arena(const Arena&) = delete;
  Arena& operator=(const Arena&) = delete;
  Arena(Arena&& o) noexcept;
  Arena& operator=(Arena&& o) noexcept;

  void* alloc(size_t bytes, size_t align = 64);
  Tensor alloc_tensor(DType dtype, Shape shape);
  void reset() { used_ = 0; }
  size_t used() const { return used_; }
  size_t capacity() const { return capacity_; }

 private:
  char* base_ = nullptr;
  size_t capacity_ = 0;
  size_t used_ = 0;
};

}  // namespace tsft
