#include "model/constrained_sampling.h"

#include <algorithm>
#include <limits>

#include "core/clock.h"
#include "core/error.h"

namespace tsft {

TokenTable::TokenTable(const Tokenizer& tok, std::vector<int32_t> end_ids)
    : end_ids_(std::move(end_ids)) {
  const int32_t V = tok.vocab_size();
  bytes_.resize(static_cast<size_t>(V));
  is_end_.assign(static_cast<size_t>(V), 0);
  for (int32_t id : end_ids_) {
    TSFT_CHECK(id >= 0 && id < V, "end token ", id, " outside the vocabulary of ", V);
    is_end_[id] = 1;
  }
  for (int32_t id = 0; id < V; ++id) {
    if (is_end_[id] || tok.is_special(id)) continue;  // decoding drops special tokens' text
    bytes_[id] = tok.token_bytes(id);
    if (!bytes_[id].empty()) by_first_byte_[static_cast<uint8_t>(bytes_[id][0])].push_back(id);
  }
}

ToolCallConstraint::ToolCallConstraint(std::shared_ptr<const TokenTable> table,
                                       std::shared_ptr<const ToolCallGrammar> grammar)
    : table_(std::move(table)), matcher_(std::move(grammar)) {
  TSFT_CHECK(table_ != nullptr);
}

bool ToolCallConstraint::allows(int32_t id) const {
  if (id < 0 || id >= table_->size()) return false;
  if (table_->is_end(id)) return matcher_.can_end();
  return table_->is_text(id) && matcher_.allows(table_->bytes(id));
}

int32_t ToolCallConstraint::pick(Sampler& sampler, float* logits, int64_t V,
                                 int64_t tokens_left) {
  const auto t0 = std::chrono::steady_clock::now();
  int32_t id = pick_token(sampler, logits, V);
  if (id >= 0 && tokens_left >= 1 && tokens_left <= kCloseWindow)
    id = keep_closable(id, tokens_left);
  stats_.seconds += seconds_since(t0);
  return id;
}

int32_t ToolCallConstraint::keep_closable(int32_t id, int64_t tokens_left) {
  if (table_->is_end(id)) return id;
  ToolCallMatcher after = matcher_;
  after.feed(table_->bytes(id));
  int32_t first = -1;
  const int64_t need = close_tokens(after, &first);
  if (need >= 0 && need <= tokens_left - 1) return id;
  const int64_t now = close_tokens(matcher_, &first);
  if (now < 0 || first < 0) return id;  // no close known from here: leave the model's pick
  ++stats_.forced;
  return first;
}

int64_t ToolCallConstraint::close_tokens(const ToolCallMatcher& m, int32_t* first) const {
  *first = -1;
  if (m.can_end()) {
    if (!table_->end_ids().empty()) *first = table_->end_ids()[0];
    return 0;
  }
  const std::optional<std::string> bytes = m.closing_bytes();
  if (!bytes) return -1;
  int64_t n = 0;
  for (size_t p = 0; p < bytes->size(); ++n) {
    int32_t best = -1;
    size_t len = 0;
    for (int32_t id : table_->starting_with(static_cast<uint8_t>((*bytes)[p]))) {
      const std::string& b = table_->bytes(id);
      if (b.size() > len && bytes->compare(p, b.size(), b) == 0) best = id, len = b.size();
    }
    if (best < 0) return -1;  // a byte no token starts with
    if (n == 0) *first = best;
    p += len;
  }
  return n;
}

int32_t ToolCallConstraint::pick_token(Sampler& sampler, float* logits, int64_t V) {
  // Only the tokenizer's ids are tokens: a model's embedding may have padding rows past them
  // (Qwen2.5: 151,936 rows for 151,665 tokens), which are never picked.
  V = std::min<int64_t>(V, table_->size());
  constexpr float kMasked = -std::numeric_limits<float>::infinity();
  ++stats_.tokens;
  for (int attempt = 0; attempt < kFastTries; ++attempt) {
    const int32_t id = sampler.sample(logits, V);
    if (logits[id] == kMasked) break;  // everything left is masked: test the whole vocabulary
    if (allows(id)) return id;
    logits[id] = kMasked;
    ++stats_.rejected;
  }
  // Test every token, skipping those whose first byte the matcher refuses.
  ++stats_.full_masks;
  bool byte_ok[256];
  matcher_.allowed_bytes(byte_ok);
  ok_.assign(static_cast<size_t>(V), 0);
  bool any = false;
  for (int b = 0; b < 256; ++b) {
    if (!byte_ok[b]) continue;
    for (int32_t id : table_->starting_with(static_cast<uint8_t>(b))) {
      if (id >= V || logits[id] == kMasked) continue;
      if (matcher_.allows(table_->bytes(id))) ok_[id] = 1, any = true;
    }
  }
  if (matcher_.can_end())
    for (int32_t id : table_->end_ids())
      if (id < V && logits[id] != kMasked) ok_[id] = 1, any = true;
  if (!any) return -1;
  for (int64_t i = 0; i < V; ++i)
    if (!ok_[i]) logits[i] = kMasked;
  return sampler.sample(logits, V);
}

void ToolCallConstraint::accept(int32_t id) {
  const auto t0 = std::chrono::steady_clock::now();
  advance(id);
  stats_.seconds += seconds_since(t0);
}

void ToolCallConstraint::advance(int32_t id) {
  if (table_->is_end(id)) {
    TSFT_CHECK(matcher_.can_end(), "end token ", id, " where the reply cannot end");
    return;
  }
  TSFT_CHECK(table_->is_text(id) && matcher_.feed(table_->bytes(id)), "token ", id,
             " is not allowed here");
}

}  // namespace tsft
