// Code point classes from generated ranges, with a flat table for the BMP so the hot path of
// the pre-tokenizer is one load.
#include "tokenizer/unicode.h"

#include <algorithm>
#include <array>
#include <memory>

namespace tsft::unicode {
namespace {

struct CpRange {
  uint32_t lo, hi;
};

struct ClassRange {
  uint32_t lo, hi;
  uint8_t cls;
};

#include "tokenizer/unicode_tables.inc"

CharClass lookup_ranges(uint32_t cp) {
  const ClassRange* end = kClassRanges + std::size(kClassRanges);
  const ClassRange* it = std::upper_bound(kClassRanges, end, cp,
                                          [](uint32_t v, const ClassRange& r) { return v < r.lo; });
  if (it == kClassRanges) return CharClass::kOther;
  --it;
  return cp <= it->hi ? static_cast<CharClass>(it->cls) : CharClass::kOther;
}

const uint8_t* bmp_table() {
  static const std::unique_ptr<uint8_t[]> table = [] {
    auto t = std::make_unique<uint8_t[]>(0x10000);
    for (uint32_t cp = 0; cp < 0x10000; ++cp) t[cp] = static_cast<uint8_t>(lookup_ranges(cp));
    return t;
  }();
  return table.get();
}

}  // namespace

bool is_word_char(uint32_t cp) {
  const CpRange* end = kWordRanges + std::size(kWordRanges);
  const CpRange* it =
      std::upper_bound(kWordRanges, end, cp, [](uint32_t v, const CpRange& r) { return v < r.lo; });
  return it != kWordRanges && cp <= (it - 1)->hi;
}

CharClass char_class(uint32_t cp) {
  if (cp < 0x10000) return static_cast<CharClass>(bmp_table()[cp]);
  if (cp == kInvalid) return CharClass::kOther;
  return lookup_ranges(cp);
}

int decode_utf8(std::string_view s, size_t pos, uint32_t* cp) {
  const auto b0 = static_cast<uint8_t>(s[pos]);
  if (b0 < 0x80) {
    *cp = b0;
    return 1;
  }
  int len;
  uint32_t v;
  uint8_t lo = 0x80, hi = 0xBF;  // allowed range of the second byte (excludes overlongs etc.)
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    len = 2, v = b0 & 0x1F;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    len = 3, v = b0 & 0x0F;
    if (b0 == 0xE0) lo = 0xA0;
    if (b0 == 0xED) hi = 0x9F;  // no surrogates
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    len = 4, v = b0 & 0x07;
    if (b0 == 0xF0) lo = 0x90;
    if (b0 == 0xF4) hi = 0x8F;
  } else {
    *cp = kInvalid;
    return 1;
  }
  if (pos + len > s.size()) {
    *cp = kInvalid;
    return 1;
  }
  for (int i = 1; i < len; ++i) {
    const auto b = static_cast<uint8_t>(s[pos + i]);
    if (i == 1 ? (b < lo || b > hi) : (b < 0x80 || b > 0xBF)) {
      *cp = kInvalid;
      return 1;
    }
    v = (v << 6) | (b & 0x3F);
  }
  *cp = v;
  return len;
}

void append_utf8(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

std::string utf8_lossy(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  size_t i = 0;
  while (i < s.size()) {
    uint32_t cp;
    int n = decode_utf8(s, i, &cp);
    if (cp != kInvalid) {
      out.append(s.substr(i, n));
      i += n;
      continue;
    }
    // Skip the maximal prefix of a well-formed sequence (what Rust and WHATWG replace by one
    // U+FFFD): a valid lead byte followed by as many valid continuation bytes as fit.
    const auto b0 = static_cast<uint8_t>(s[i]);
    int need = b0 >= 0xC2 && b0 <= 0xDF   ? 2
               : b0 >= 0xE0 && b0 <= 0xEF ? 3
               : b0 >= 0xF0 && b0 <= 0xF4 ? 4
                                          : 1;
    size_t j = i + 1;
    for (int k = 1; k < need && j < s.size(); ++k, ++j) {
      const auto b = static_cast<uint8_t>(s[j]);
      uint8_t lo = 0x80, hi = 0xBF;
      if (k == 1) {
        if (b0 == 0xE0) lo = 0xA0;
        if (b0 == 0xED) hi = 0x9F;
        if (b0 == 0xF0) lo = 0x90;
        if (b0 == 0xF4) hi = 0x8F;
      }
      if (b < lo || b > hi) break;
    }
    out += "\xEF\xBF\xBD";
    i = j;
  }
  return out;
}

}  // namespace tsft::unicode
