// Pre-tokenizers that cut text into the pieces BPE sees: the GPT-2 regex (written out as a
// scanner, same matches as Oniguruma), SmolLM2's Digits(individual) + GPT-2 sequence, and the
// Qwen2 / Llama 3 Split regexes.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "tokenizer/tokenizer.h"

namespace tsft {

struct PieceRange {
  uint32_t begin, end;  // byte offsets into the text given to pretokenize()
};

// Appends to `out` the pieces of `text`, in order; together they cover every byte of it.
// Invalid UTF-8 bytes are treated as single "other" characters (neither letter, number nor
// space), so no byte is ever dropped.
//   kGpt2:    's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
//   kQwen2:   (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*
//             |\s*[\r\n]+|\s+(?!\S)|\s+
//   kLlama3:  the same with \p{N}{1,3} for \p{N}.
//   kSmolLM2: every \p{N} character is its own piece first; the GPT-2 regex then runs on each
//             stretch between them (so lookahead stops at a digit's edge, as in HF).
void pretokenize(std::string_view text, PreTokenizerKind kind, std::vector<PieceRange>& out);

}  // namespace tsft
