// The key/value cache of one sequence: per layer, keys and values of every position seen so far,
// laid out (S, Hkv, D) so that new rows are written straight by the projection GEMMs.
#pragma once

#include <cstdint>
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
  // Positions [size(), end) of `src` (a cache of the same model, holding the same tokens up to
  // `end`) copied into this one, which then holds `end` positions: a shared prompt prefix reused
  // instead of run again. The keys and values of a position depend only on the tokens up to it.
  void copy_from(const KvCache& src, int64_t end);

  float* k(int64_t layer) { return k_.get() + layer * layer_stride_; }  // (capacity, Hkv, D)
  float* v(int64_t layer) { return v_.get() + layer * layer_stride_; }
  const float* k(int64_t layer) const { return k_.get() + layer * layer_stride_; }
  const float* v(int64_t layer) const { return v_.get() + layer * layer_stride_; }
  size_t bytes() const { return 2 * floats_ * sizeof(float); }  // reserved, not all resident
  // Bytes of keys and values one position takes (capacity * this is bytes()).
  static int64_t bytes_per_position(const ModelConfig& cfg) {
    return 2 * cfg.n_layers * cfg.kv_dim() * static_cast<int64_t>(sizeof(float));
  }

 private:
  size_t mapped_bytes() const { return (floats_ > 0 ? floats_ : 1) * sizeof(float); }
  struct Unmap {
    size_t bytes;
    void operator()(float* p) const;
  };
  int64_t capacity_;
  int64_t size_ = 0;
  int64_t kv_dim_;
  int64_t n_layers_;
  int64_t layer_stride_;
  size_t floats_;
  // Anonymous mappings of their own: zero pages that become resident only as positions are
  // written (a server reserves a request's whole context without paying for it up front), and
  // that go back to the system when the cache is destroyed (malloc would keep freed caches of a
  // few MB in its arenas, so a server's memory would not return to idle after a burst).
  std::unique_ptr<float[], Unmap> k_, v_;
};

}  // namespace tsft
