#include "model/kv_cache.h"

namespace tsft {

KvCache::KvCache(const ModelConfig& cfg, int64_t capacity)
    : capacity_(capacity), layer_stride_(capacity * cfg.kv_dim()) {
  k_.assign(static_cast<size_t>(cfg.n_layers * layer_stride_), 0.0f);
  v_.assign(static_cast<size_t>(cfg.n_layers * layer_stride_), 0.0f);
}

}  // namespace tsft
