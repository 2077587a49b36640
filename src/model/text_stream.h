// Generated token ids -> text as it becomes final: EOS and stop strings end the text, and text that
// could still turn into a stop string, or is half a UTF-8 character, is held back from streaming.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "tokenizer/tokenizer.h"

namespace tsft {

// Length of the longest suffix of `text` that is a proper prefix of one of `strings` (none
// empty): text to hold back, since the next tokens may complete one of them.
size_t partial_match_suffix(const std::string& text, const std::vector<std::string>& strings);

class TextStream {
 public:
  // The tokenizer must outlive the stream. Empty stop strings are a tsft::Error.
  TextStream(const Tokenizer& tok, std::vector<std::string> stop, std::vector<int32_t> eos_ids,
             bool stop_at_eos);

  // Adds a generated token and returns the text that became final with it (often empty). Once
  // finished() is true (EOS or a stop string), further tokens are ignored.
  std::string push(int32_t token);
  // Ends the stream for `reason` ("length", "cancelled", ...) unless it already finished, and
  // returns the text still held back.
  std::string close(const std::string& reason);

  bool finished() const { return !finish_reason_.empty(); }
  const std::string& finish_reason() const { return finish_reason_; }  // "" while running
  const std::vector<int32_t>& tokens() const { return tokens_; }       // an ending EOS included
  // The text so far: decoded without special tokens, cut at a stop string, the EOS left out.
  const std::string& text() const { return text_; }

 private:
  const Tokenizer& tok_;
  std::vector<std::string> stop_;
  std::vector<int32_t> eos_ids_;
  bool stop_at_eos_;
  std::vector<int32_t> tokens_;
  std::string text_;
  size_t streamed_ = 0;
  std::string finish_reason_;
};

}  // namespace tsft
