#include "core/tensor.h"

#include <cstdlib>
#include <new>
#include <utility>

namespace tsft {

std::string Shape::to_string() const {
  std::string s = "(";
  for (int i = 0; i < ndim; ++i) s += (i ? ", " : "") + std::to_string(dims[i]);
  return s + ")";
}

Arena::Arena(size_t capacity_bytes) : capacity_(capacity_bytes) {
  if (capacity_ == 0) return;
  const size_t rounded = (capacity_ + 63) / 64 * 64;
  base_ = static_cast<char*>(std::aligned_alloc(64, rounded));
  if (base_ == nullptr) fail("out of memory: could not allocate ", rounded >> 20, " MiB");
}

Arena::~Arena() { std::free(base_); }

Arena::Arena(Arena&& o) noexcept
    : base_(std::exchange(o.base_, nullptr)),
      capacity_(std::exchange(o.capacity_, 0)),
      used_(std::exchange(o.used_, 0)) {}

Arena& Arena::operator=(Arena&& o) noexcept {
  if (this != &o) {
    std::free(base_);
    base_ = std::exchange(o.base_, nullptr);
    capacity_ = std::exchange(o.capacity_, 0);
    used_ = std::exchange(o.used_, 0);
  }
  return *this;
}

void* Arena::alloc(size_t bytes, size_t align) {
  const size_t start = (used_ + align - 1) / align * align;
  TSFT_CHECK(start + bytes <= capacity_, "arena overflow: need ", start + bytes, " of ", capacity_);
  used_ = start + bytes;
  return base_ + start;
}

Tensor Arena::alloc_tensor(DType dtype, Shape shape) {
  Tensor t;
  t.dtype = dtype;
  t.shape = shape;
  t.data = alloc(t.nbytes());
  return t;
}

}  // namespace tsft
