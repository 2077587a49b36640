#include "model/kv_cache.h"

#include <sys/mman.h>

#include <cstring>
#include <new>

#include "core/error.h"

namespace tsft {
namespace {

float* map_zeroed(size_t bytes) {
  void* p = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) throw std::bad_alloc();
  return static_cast<float*>(p);
}

}  // namespace

void KvCache::Unmap::operator()(float* p) const {
  if (p != nullptr) munmap(p, bytes);
}

KvCache::KvCache(const ModelConfig& cfg, int64_t capacity)
    : capacity_(capacity),
      kv_dim_(cfg.kv_dim()),
      n_layers_(cfg.n_layers),
      layer_stride_(capacity * cfg.kv_dim()),
      floats_(static_cast<size_t>(cfg.n_layers * layer_stride_)),
      k_(map_zeroed(mapped_bytes()), Unmap{mapped_bytes()}),
      v_(map_zeroed(mapped_bytes()), Unmap{mapped_bytes()}) {}

void KvCache::copy_from(const KvCache& src, int64_t end) {
  TSFT_CHECK(src.kv_dim_ == kv_dim_ && src.n_layers_ == n_layers_,
             "KV caches of different model shapes");
  TSFT_CHECK(end <= src.size_ && end <= capacity_, "copying ", end, " positions from a cache of ",
             src.size_, " into one of capacity ", capacity_);
  if (end <= size_) return;
  const size_t offset = static_cast<size_t>(size_ * kv_dim_);
  const size_t count = static_cast<size_t>((end - size_) * kv_dim_) * sizeof(float);
  for (int64_t l = 0; l < n_layers_; ++l) {
    std::memcpy(k(l) + offset, src.k(l) + offset, count);
    std::memcpy(v(l) + offset, src.v(l) + offset, count);
  }
  size_ = end;
}

}  // namespace tsft
