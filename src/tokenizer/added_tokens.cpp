// A port of AddedVocabulary::find_matches from HF tokenizers. Matching is by first-byte buckets
// rather than Aho-Corasick: vocabularies have at most a few hundred added tokens, and
// scanning position by position while taking the longest token at each is exactly
// leftmost-longest semantics.
#include "tokenizer/added_tokens.h"

#include <algorithm>
#include <cstring>

#include "tokenizer/unicode.h"

namespace tsft {
namespace {

// First/last code point of s (kInvalid if s is empty).
uint32_t first_cp(std::string_view s) {
  if (s.empty()) return unicode::kInvalid;
  uint32_t cp;
  unicode::decode_utf8(s, 0, &cp);
  return cp;
}

// Last code point of s and its byte length (kInvalid, 1 for a stray byte or empty s).
uint32_t last_cp(std::string_view s, size_t* len = nullptr) {
  if (len) *len = 1;
  if (s.empty()) return unicode::kInvalid;
  size_t pos = s.size() - 1;
  while (pos > 0 && (static_cast<uint8_t>(s[pos]) & 0xC0) == 0x80 && s.size() - pos < 4) --pos;
  uint32_t cp;
  int n = unicode::decode_utf8(s, pos, &cp);
  if (pos + n != s.size()) return unicode::kInvalid;
  if (len) *len = static_cast<size_t>(n);
  return cp;
}

bool is_space(uint32_t cp) {
  return unicode::char_class(cp) == unicode::CharClass::kSpace;
}

// Byte length of the whitespace run that starts at s[0].
size_t space_prefix(std::string_view s) {
  size_t pos = 0;
  while (pos < s.size()) {
    uint32_t cp;
    int n = unicode::decode_utf8(s, pos, &cp);
    if (!is_space(cp)) break;
    pos += n;
  }
  return pos;
}

// Byte offset where the whitespace run that ends s begins.
size_t space_suffix_start(std::string_view s) {
  size_t end = s.size();
  while (end > 0) {
    size_t len;
    uint32_t cp = last_cp(s.substr(0, end), &len);
    if (cp == unicode::kInvalid || !is_space(cp)) break;
    end -= len;
  }
  return end;
}

}  // namespace

AddedTokenMatcher::AddedTokenMatcher(const std::vector<AddedToken>& tokens) : tokens_(tokens) {
  for (size_t i = 0; i < tokens_.size(); ++i) {
    const std::string& c = tokens_[i].content;
    if (c.empty()) continue;  // HF never matches an empty token
    Set& set = tokens_[i].normalized ? normalized_ : raw_;
    set.by_first_byte[static_cast<uint8_t>(c[0])].push_back(static_cast<int32_t>(i));
    set.empty = false;
  }
  for (Set* set : {&raw_, &normalized_}) {
    for (auto& bucket : set->by_first_byte) {
      // Longest first; equal contents keep the later token (HF's map of content -> token).
      std::stable_sort(bucket.begin(), bucket.end(), [&](int32_t a, int32_t b) {
        const std::string &ca = tokens_[a].content, &cb = tokens_[b].content;
        return ca.size() != cb.size() ? ca.size() > cb.size() : ca < cb;
      });
      for (size_t k = 0; k + 1 < bucket.size();) {
        if (tokens_[bucket[k]].content == tokens_[bucket[k + 1]].content) {
          bucket.erase(bucket.begin() + k);
        } else {
          ++k;
        }
      }
    }
  }
}

void AddedTokenMatcher::split(std::string_view text, bool parse_special,
                              std::vector<Segment>& out) const {
  out.clear();
  if (text.empty()) return;
  if (raw_.empty) {
    out.push_back({0, static_cast<uint32_t>(text.size()), -1});
  } else {
    find_matches(text, 0, raw_, parse_special, out);
  }
  if (normalized_.empty) return;
  std::vector<Segment> first;
  first.swap(out);
  for (const Segment& s : first) {
    if (s.id >= 0) {
      out.push_back(s);
    } else {
      find_matches(text.substr(s.begin, s.end - s.begin), s.begin, normalized_, parse_special, out);
    }
  }
}

void AddedTokenMatcher::find_matches(std::string_view text, uint32_t base, const Set& set,
                                     bool parse_special, std::vector<Segment>& out) const {
  size_t start_offset = 0;
  size_t pos = 0;
  while (pos < text.size()) {
    const auto& bucket = set.by_first_byte[static_cast<uint8_t>(text[pos])];
    int32_t hit = -1;
    for (int32_t t : bucket) {
      const std::string& c = tokens_[t].content;
      if (c.size() <= text.size() - pos &&
          std::memcmp(text.data() + pos, c.data(), c.size()) == 0) {
        hit = t;
        break;
      }
    }
    if (hit < 0) {
      ++pos;
      continue;
    }
    const AddedToken& tok = tokens_[hit];
    size_t start = pos, stop = pos + tok.content.size();
    pos = stop;  // matching resumes after the match even when the rules below discard it
    if (!parse_special && tok.special) continue;
    if (tok.single_word) {
      bool start_space = start == 0 || !unicode::is_word_char(last_cp(text.substr(0, start)));
      bool stop_space = stop == text.size() || !unicode::is_word_char(first_cp(text.substr(stop)));
      if (!start_space || !stop_space) continue;
    }
    if (tok.lstrip) start = std::max(space_suffix_start(text.substr(0, start)), start_offset);
    if (tok.rstrip) stop += space_prefix(text.substr(stop));
    if (start_offset < start)
      out.push_back(
          {base + static_cast<uint32_t>(start_offset), base + static_cast<uint32_t>(start), -1});
    out.push_back(
        {base + static_cast<uint32_t>(start), base + static_cast<uint32_t>(stop), tok.id});
    start_offset = stop;
  }
  if (start_offset < text.size()) {
    out.push_back({base + static_cast<uint32_t>(start_offset),
                   base + static_cast<uint32_t>(text.size()), -1});
  }
}

}  // namespace tsft
