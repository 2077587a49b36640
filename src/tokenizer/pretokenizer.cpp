// The GPT-2 split regex as a hand-written scanner. Alternatives are tried in the regex's order
// at each position (Oniguruma is a backtracking engine: first alternative wins, not longest).
#include "tokenizer/pretokenizer.h"

#include "tokenizer/unicode.h"

namespace tsft {
namespace {

using unicode::CharClass;

struct Char {
  uint32_t off;  // byte offset of this character
  uint32_t cp;   // code point (unicode::kInvalid for a stray byte)
  CharClass cls;
};

// Letters, numbers and spaces are themselves; everything else (marks, symbols, punctuation,
// stray bytes) is what [^\s\p{L}\p{N}] matches.
inline CharClass regex_class(CharClass c) {
  return c == CharClass::kMark ? CharClass::kOther : c;
}

// Runs the GPT-2 regex over chars[b, e); chars[e].off is the byte end of the stretch.
void split_gpt2(const std::vector<Char>& c, size_t b, size_t e, std::vector<PieceRange>& out) {
  size_t i = b;
  auto emit = [&](size_t from, size_t to) {
    out.push_back({c[from].off, c[to].off});
    i = to;
  };
  while (i < e) {
    const Char& ch = c[i];
    // 's|'t|'re|'ve|'m|'ll|'d  (case-sensitive, as in GPT-2's pattern)
    if (ch.cp == '\'' && i + 1 < e) {
      uint32_t n1 = c[i + 1].cp;
      if (n1 == 's' || n1 == 't' || n1 == 'm' || n1 == 'd') {
        emit(i, i + 2);
        continue;
      }
      if (i + 2 < e) {
        uint32_t n2 = c[i + 2].cp;
        if ((n1 == 'r' && n2 == 'e') || (n1 == 'v' && n2 == 'e') || (n1 == 'l' && n2 == 'l')) {
          emit(i, i + 3);
          continue;
        }
      }
    }
    // ' ?X+' for X in letters, numbers, others: an optional ASCII space glued to the run.
    size_t j = i;
    if (ch.cp == ' ' && i + 1 < e && c[i + 1].cls != CharClass::kSpace) j = i + 1;
    const CharClass cls = c[j].cls;
    if (cls != CharClass::kSpace) {
      size_t k = j + 1;
      if (cls == CharClass::kLetter || cls == CharClass::kNumber) {
        while (k < e && c[k].cls == cls) ++k;
      } else {
        while (k < e && regex_class(c[k].cls) == CharClass::kOther) ++k;
      }
      emit(i, k);
      continue;
    }
    // \s+(?!\S) | \s+ : a whitespace run keeps its last space for the next word, unless the
    // run ends the text or is a single space (then the second alternative takes it whole).
    size_t k = i + 1;
    while (k < e && c[k].cls == CharClass::kSpace) ++k;
    if (k < e && k - i >= 2) --k;
    emit(i, k);
  }
}

inline bool is_crlf(uint32_t cp) {
  return cp == '\r' || cp == '\n';
}

inline uint32_t ascii_lower(uint32_t cp) {
  return cp >= 'A' && cp <= 'Z' ? cp + 32 : cp;
}

// Qwen2's and Llama 3's Split regex over chars[b, e):
//   (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,max_digits}
//   | ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+
// (?i) folds ASCII only here: Oniguruma's `'s` does not match U+017F (checked against HF).
void split_qwen(const std::vector<Char>& c, size_t b, size_t e, size_t max_digits,
                std::vector<PieceRange>& out) {
  size_t i = b;
  auto emit = [&](size_t from, size_t to) {
    out.push_back({c[from].off, c[to].off});
    i = to;
  };
  while (i < e) {
    const Char& ch = c[i];
    if (ch.cp == '\'' && i + 1 < e) {
      uint32_t n1 = ascii_lower(c[i + 1].cp);
      if (n1 == 's' || n1 == 't' || n1 == 'm' || n1 == 'd') {
        emit(i, i + 2);
        continue;
      }
      if (i + 2 < e) {
        uint32_t n2 = ascii_lower(c[i + 2].cp);
        if ((n1 == 'r' && n2 == 'e') || (n1 == 'v' && n2 == 'e') || (n1 == 'l' && n2 == 'l')) {
          emit(i, i + 3);
          continue;
        }
      }
    }
    // [^\r\n\p{L}\p{N}]?\p{L}+ : one char that is no letter, number or line break may lead.
    {
      size_t j = i;
      if (ch.cls != CharClass::kLetter && ch.cls != CharClass::kNumber && !is_crlf(ch.cp) &&
          i + 1 < e && c[i + 1].cls == CharClass::kLetter)
        j = i + 1;
      if (c[j].cls == CharClass::kLetter && j < e) {
        size_t k = j + 1;
        while (k < e && c[k].cls == CharClass::kLetter) ++k;
        emit(i, k);
        continue;
      }
    }
    if (ch.cls == CharClass::kNumber) {  // \p{N}{1,max_digits}
      size_t k = i + 1;
      while (k < e && k - i < max_digits && c[k].cls == CharClass::kNumber) ++k;
      emit(i, k);
      continue;
    }
    // ' ?[^\s\p{L}\p{N}]+[\r\n]*'
    {
      size_t j = i;
      if (ch.cp == ' ' && i + 1 < e && regex_class(c[i + 1].cls) == CharClass::kOther) j = i + 1;
      if (regex_class(c[j].cls) == CharClass::kOther) {
        size_t k = j + 1;
        while (k < e && regex_class(c[k].cls) == CharClass::kOther) ++k;
        while (k < e && is_crlf(c[k].cp)) ++k;
        emit(i, k);
        continue;
      }
    }
    // Only whitespace is left here. \s*[\r\n]+ : up to the run's last line break, if any.
    size_t k = i + 1;
    while (k < e && c[k].cls == CharClass::kSpace) ++k;
    size_t q = k;
    while (q > i && !is_crlf(c[q - 1].cp)) --q;
    if (q > i) {
      emit(i, q);
      continue;
    }
    // \s+(?!\S) | \s+ as in GPT-2.
    if (k < e && k - i >= 2) --k;
    emit(i, k);
  }
}

}  // namespace

void pretokenize(std::string_view text, PreTokenizerKind kind, std::vector<PieceRange>& out) {
  if (text.empty()) return;
  thread_local std::vector<Char> chars;
  chars.clear();
  for (size_t pos = 0; pos < text.size();) {
    uint32_t cp;
    int n = unicode::decode_utf8(text, pos, &cp);
    chars.push_back({static_cast<uint32_t>(pos), cp, unicode::char_class(cp)});
    pos += n;
  }
  const size_t n = chars.size();
  chars.push_back({static_cast<uint32_t>(text.size()), 0, CharClass::kOther});  // sentinel

  if (kind == PreTokenizerKind::kGpt2 || kind == PreTokenizerKind::kQwen2 ||
      kind == PreTokenizerKind::kLlama3) {
    if (kind == PreTokenizerKind::kGpt2) split_gpt2(chars, 0, n, out);
    if (kind == PreTokenizerKind::kQwen2) split_qwen(chars, 0, n, 1, out);
    if (kind == PreTokenizerKind::kLlama3) split_qwen(chars, 0, n, 3, out);
    if (chars.capacity() > (size_t{1} << 20)) chars = {};  // keep no huge buffer per thread
    return;
  }
  // Digits(individual_digits=true) isolates every char::is_numeric character (= \p{N}).
  size_t start = 0;
  for (size_t i = 0; i < n; ++i) {
    if (chars[i].cls != CharClass::kNumber) continue;
    if (start < i) split_gpt2(chars, start, i, out);
    out.push_back({chars[i].off, chars[i + 1].off});
    start = i + 1;
  }
  if (start < n) split_gpt2(chars, start, n, out);
  if (chars.capacity() > (size_t{1} << 20)) chars = {};  // keep no huge buffer per thread
}

}  // namespace tsft
