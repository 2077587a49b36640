#include "model/kv_cache.h"

#include <new>

namespace tsft {

KvCache::KvCache(const ModelConfig& cfg, int64_t capacity)
    : capacity_(capacity),
      layer_stride_(capacity * cfg.kv_dim()),
      floats_(static_cast<size_t>(cfg.n_layers * layer_stride_)) {
  const size_t n = floats_ > 0 ? floats_ : 1;
  k_.reset(static_cast<float*>(std::calloc(n, sizeof(float))));
  v_.reset(static_cast<float*>(std::calloc(n, sizeof(float))));
  if (!k_ || !v_) throw std::bad_alloc();
}

}  // namespace tsft
