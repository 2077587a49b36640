#include "model/kv_cache.h"

#include <sys/mman.h>

#include <new>

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
      layer_stride_(capacity * cfg.kv_dim()),
      floats_(static_cast<size_t>(cfg.n_layers * layer_stride_)),
      k_(map_zeroed(mapped_bytes()), Unmap{mapped_bytes()}),
      v_(map_zeroed(mapped_bytes()), Unmap{mapped_bytes()}) {}

}  // namespace tsft
