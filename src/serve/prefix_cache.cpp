#include "serve/prefix_cache.h"

#include <algorithm>
#include <new>

namespace tsft::serve {

PrefixCache::PrefixCache(const ModelConfig& cfg, int64_t budget_bytes)
    : cfg_(cfg),
      budget_bytes_(std::max<int64_t>(budget_bytes, 0)),
      bytes_per_token_(KvCache::bytes_per_position(cfg)) {}

PrefixCache::Match PrefixCache::match(const std::vector<int32_t>& prompt, int64_t limit,
                                      const LoraWeights* adapter) {
  limit = std::min<int64_t>(limit, static_cast<int64_t>(prompt.size()));
  auto best = entries_.end();
  int64_t best_n = 0;
  for (auto it = entries_.begin(); it != entries_.end(); ++it) {
    if (it->adapter != adapter) continue;
    const int64_t n = common_prefix(prompt.data(), limit, it->tokens.data(),
                                    static_cast<int64_t>(it->tokens.size()));
    if (n > best_n) {
      best = it;
      best_n = n;
    }
  }
  if (best == entries_.end()) return {};
  entries_.splice(entries_.begin(), entries_, best);  // most recently used
  return {&entries_.front().kv, best_n};
}

void PrefixCache::store(const int32_t* tokens, int64_t n, const LoraWeights* adapter,
                        const KvCache& cache) {
  if (n <= 0 || n * bytes_per_token_ > budget_bytes_) return;
  for (auto it = entries_.begin(); it != entries_.end();) {
    if (it->adapter != adapter) {
      ++it;
      continue;
    }
    const int64_t kept = static_cast<int64_t>(it->tokens.size());
    const int64_t same = common_prefix(tokens, n, it->tokens.data(), kept);
    if (same == n) {  // already held (by this entry or one that extends it)
      entries_.splice(entries_.begin(), entries_, it);
      return;
    }
    if (same == kept) {  // the new prefix extends this entry: it replaces it
      bytes_ -= kept * bytes_per_token_;
      it = entries_.erase(it);
    } else {
      ++it;
    }
  }
  while (!entries_.empty() && bytes_ + n * bytes_per_token_ > budget_bytes_) {
    bytes_ -= static_cast<int64_t>(entries_.back().tokens.size()) * bytes_per_token_;
    entries_.pop_back();
  }
  try {
    entries_.emplace_front(cfg_, std::vector<int32_t>(tokens, tokens + n), adapter);
  } catch (const std::bad_alloc&) {
    return;  // the cache only saves work: no memory for it is no reason to fail a request
  }
  entries_.front().kv.copy_from(cache, n);
  bytes_ += n * bytes_per_token_;
}

}  // namespace tsft::serve
