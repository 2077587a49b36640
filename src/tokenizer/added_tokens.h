// Splits text around added/special tokens before pre-tokenization, as HF's AddedVocabulary
// does: leftmost-longest matching, then the lstrip/rstrip/single_word rules of each token.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>
#include <vector>

#include "tokenizer/tokenizer.h"

namespace tsft {

struct Segment {
  uint32_t begin, end;  // byte range in the text
  int32_t id;           // the added token's id, or -1 for plain text to pre-tokenize
};

class AddedTokenMatcher {
 public:
  explicit AddedTokenMatcher(const std::vector<AddedToken>& tokens);

  // HF runs two passes: tokens with normalized=false on the raw text, then tokens with
  // normalized=true on the remaining (normalized) text. With no normalizer both see the same
  // bytes, but the order still decides overlaps. parse_special=false leaves special tokens as
  // text (HF's encode_special_tokens) while other added tokens still split.
  void split(std::string_view text, bool parse_special, std::vector<Segment>& out) const;

 private:
  struct Set {
    // Token indices bucketed by first byte, longest first, so the first hit is the longest.
    std::array<std::vector<int32_t>, 256> by_first_byte;
    bool empty = true;
  };
  void find_matches(std::string_view text, uint32_t base, const Set& set, bool parse_special,
                    std::vector<Segment>& out) const;

  std::vector<AddedToken> tokens_;
  Set raw_, normalized_;
};

}  // namespace tsft
