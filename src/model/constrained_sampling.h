// Constrained decoding: the tokens a reply may take next under a ToolCallMatcher (schema-valid
// tool calls or plain text), and picking the sampler's choice among them.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "chat/tool_call_grammar.h"
#include "model/sampler.h"
#include "tokenizer/tokenizer.h"

namespace tsft {

// Every token's bytes, indexed by first byte; built once per tokenizer and end-token list, and
// shared by every constrained sequence.
class TokenTable {
 public:
  // end_ids: the tokens that end a reply (allowed where the matcher may end).
  TokenTable(const Tokenizer& tok, std::vector<int32_t> end_ids);

  int32_t size() const { return static_cast<int32_t>(bytes_.size()); }
  const std::string& bytes(int32_t id) const { return bytes_[id]; }
  bool is_end(int32_t id) const { return is_end_[id] != 0; }
  // Text tokens: not special (their text is dropped when decoding) and not empty.
  bool is_text(int32_t id) const { return !bytes_[id].empty(); }
  const std::vector<int32_t>& starting_with(uint8_t b) const { return by_first_byte_[b]; }
  const std::vector<int32_t>& end_ids() const { return end_ids_; }

 private:
  std::vector<std::string> bytes_;  // empty for special and empty tokens
  std::vector<uint8_t> is_end_;
  std::vector<int32_t> end_ids_;
  std::vector<int32_t> by_first_byte_[256];
};

struct ConstraintStats {
  int64_t tokens = 0;      // tokens picked
  int64_t rejected = 0;    // sampler picks the constraint refused
  int64_t full_masks = 0;  // steps that had to test the whole vocabulary
  int64_t forced = 0;      // tokens put in to close a call before the budget ran out
  double seconds = 0.0;    // spent in pick and accept
};

class ToolCallConstraint {
 public:
  ToolCallConstraint(std::shared_ptr<const TokenTable> table,
                     std::shared_ptr<const ToolCallGrammar> grammar);

  bool allows(int32_t id) const;

  // The next token. The sampler runs on the logits as they are; a pick the matcher refuses is
  // masked (-inf) and the sampler runs again, so greedy decoding gets the most likely allowed
  // token, and sampling draws from the sampler's distribution over the tokens not refused so far
  // (top-k / top-p are taken over those). After kFastTries refusals every token is tested and
  // the refused ones masked at once. `logits` (V) are overwritten. Only ids below the token
  // table's size are candidates (padding rows of a model's embedding are never picked). Returns
  // -1 only if no token is allowed (the matcher's byte-level guarantee makes that a bug; callers
  // end the reply).
  //
  // tokens_left: the tokens the reply may still take, this one included (-1: no budget). Within
  // kCloseWindow tokens of the budget, a pick after which the reply could no longer reach a valid
  // end in the tokens left (by the matcher's closing_bytes) is replaced by the first token of the
  // close from here (an end token where the reply may end), so a reply cut by its budget ends as
  // complete calls or plain text, never as a broken call (ConstraintStats::forced counts these).
  int32_t pick(Sampler& sampler, float* logits, int64_t V, int64_t tokens_left = -1);

  // Advances past `id` (which must be allowed).
  void accept(int32_t id);

  const ToolCallMatcher& matcher() const { return matcher_; }
  const ConstraintStats& stats() const { return stats_; }

  static constexpr int kFastTries = 8;
  static constexpr int64_t kCloseWindow = 64;

 private:
  int32_t pick_token(Sampler& sampler, float* logits, int64_t V);
  int32_t keep_closable(int32_t id, int64_t tokens_left);
  // Tokens of m's closing bytes, split greedily into the longest tokens (0 where m may end;
  // *first: an end token then), or -1 where no close is known. *first: the first of them.
  int64_t close_tokens(const ToolCallMatcher& m, int32_t* first) const;
  void advance(int32_t id);

  std::shared_ptr<const TokenTable> table_;
  ToolCallMatcher matcher_;
  ConstraintStats stats_;
  std::vector<uint8_t> ok_;  // full-mask scratch
};

}  // namespace tsft
