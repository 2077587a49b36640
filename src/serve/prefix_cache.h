// The server's prompt-prefix cache: keys and values of prompts already run, kept within a memory
// budget, so that a new request starting the same way (the chat template's system prompt, the
// tool definitions, a conversation's earlier turns) copies those positions instead of running
// them again, as vLLM's automatic prefix caching does. Entries are per adapter: an adapter
// changes the keys and values of every position.
#pragma once

#include <cstdint>
#include <list>
#include <vector>

#include "model/config.h"
#include "model/kv_cache.h"
#include "model/lora.h"
#include "model/token_prefix.h"

namespace tsft::serve {

class PrefixCache {
 public:
  // budget_bytes: the most the kept keys and values may take (0 keeps nothing).
  PrefixCache(const ModelConfig& cfg, int64_t budget_bytes);

  struct Match {
    const KvCache* cache = nullptr;  // holds the prefix's keys and values; null: no match
    int64_t tokens = 0;              // positions of `prompt` it holds
  };
  // The longest kept prefix of prompt[0..limit) for `adapter`, marked as used most recently.
  // The pointer is valid until the next store().
  Match match(const std::vector<int32_t>& prompt, int64_t limit, const LoraWeights* adapter);

  // Keeps the first n positions of `cache` as the keys and values of tokens[0..n) for `adapter`.
  // An entry this one extends is replaced; nothing is added when a kept entry already holds
  // these tokens. The least recently used entries go when the budget is exceeded; a prefix over
  // the whole budget is not kept.
  void store(const int32_t* tokens, int64_t n, const LoraWeights* adapter, const KvCache& cache);

  int64_t bytes() const { return bytes_; }
  int64_t entries() const { return static_cast<int64_t>(entries_.size()); }
  int64_t bytes_per_token() const { return bytes_per_token_; }

 private:
  struct Entry {
    Entry(const ModelConfig& cfg, std::vector<int32_t> t, const LoraWeights* a)
        : tokens(std::move(t)), adapter(a), kv(cfg, static_cast<int64_t>(tokens.size())) {}
    std::vector<int32_t> tokens;
    const LoraWeights* adapter;
    KvCache kv;
  };
  ModelConfig cfg_;
  int64_t budget_bytes_;
  int64_t bytes_per_token_;
  int64_t bytes_ = 0;
  std::list<Entry> entries_;  // most recently used first
};

}  // namespace tsft::serve
