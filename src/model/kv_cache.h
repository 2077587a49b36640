// The key/value cache of one sequence: per layer, keys and values of every position seen so far,
// laid out (S, Hkv, D) so that new rows are written straight by the projection GEMMs.
#pragma once

#include <cstdint>
#include <cstdlib>
#include <memory>

#include "model/config.h"

namespace tsft {

class KvCache {
 public:
  KvCache(const ModelConfig& cfg, int64_t capacity);

  int64_t capacity() const { return capacity_; }
  int64_t size() const { return size_; }   // positions filled
  void clear() { size_ = 0; }
  void truncate(int64_t n) { size_ = n < size_ ? n : size_; }
  void advance(int64_t n) { size_ += n; }

  float* k(int64_t layer) { return k_.get() + layer * layer_stride_; }  // (capacity, Hkv, D)
  float* v(int64_t layer) { return v_.get() + layer * layer_stride_; }
  const float* k(int64_t layer) const { return k_.get() + layer * layer_stride_; }
  const float* v(int64_t layer) const { return v_.get() + layer * layer_stride_; }
  size_t bytes() const { return 2 * floats_ * sizeof(float); }  // reserved, not all resident

 private:
  struct Free {
    void operator()(float* p) const { std::free(p); }
  };
  int64_t capacity_;
  int64_t size_ = 0;
  int64_t layer_stride_;
  size_t floats_;
  // calloc'd: a large cache is mapped zero pages that become resident only as positions are
  // written, so a server can reserve a request's whole context without paying for it up front.
  std::unique_ptr<float[], Free> k_, v_;
};

}  // namespace tsft
