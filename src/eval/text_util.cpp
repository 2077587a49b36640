#include "eval/text_util.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>

namespace tsft {

const char kDash[] = "\xE2\x80\x94";

std::string format_fixed(std::optional<double> v, int decimals) {
  // A NaN that slipped past the readers still never reaches the page.
  if (!v || !std::isfinite(*v)) return kDash;
  std::string s(static_cast<size_t>(std::snprintf(nullptr, 0, "%.*f", decimals, *v)), '\0');
  std::snprintf(s.data(), s.size() + 1, "%.*f", decimals, *v);
  // "-0.0" reads as a sign error in a table.
  if (s[0] == '-' && s.find_first_not_of("-0.") == std::string::npos) s.erase(0, 1);
  return s;
}

std::string format_percent(std::optional<double> v, int decimals) {
  if (!v || !std::isfinite(*v)) return kDash;
  return format_fixed(*v * 100.0, decimals) + "%";
}

std::string format_count(std::optional<double> v) {
  return format_fixed(v, 0);
}

namespace {

const char kReplacement[] = "\xEF\xBF\xBD";  // U+FFFD

// Length of the valid UTF-8 sequence at s[i], or 0 if the bytes there are not one (overlong
// forms, surrogates and code points past U+10FFFF count as invalid).
size_t utf8_sequence_length(std::string_view s, size_t i) {
  const auto b = [&](size_t k) { return static_cast<uint8_t>(s[i + k]); };
  const uint8_t c = b(0);
  if (c < 0x80) return 1;
  size_t len;
  uint32_t cp;
  if ((c & 0xE0) == 0xC0) {
    len = 2, cp = c & 0x1F;
  } else if ((c & 0xF0) == 0xE0) {
    len = 3, cp = c & 0x0F;
  } else if ((c & 0xF8) == 0xF0) {
    len = 4, cp = c & 0x07;
  } else {
    return 0;
  }
  if (i + len > s.size()) return 0;
  for (size_t k = 1; k < len; ++k) {
    if ((b(k) & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (b(k) & 0x3F);
  }
  static const uint32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
  if (cp < kMin[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  // U+FFFE and U+FFFF are not XML characters either.
  if (cp == 0xFFFE || cp == 0xFFFF) return 0;
  return len;
}

// The code point of the (valid, or 1-byte invalid) sequence of `len` bytes at s[i].
uint32_t decode(std::string_view s, size_t i, size_t len) {
  const auto b = [&](size_t k) { return static_cast<uint8_t>(s[i + k]); };
  if (len == 1) return b(0);
  uint32_t cp = b(0) & (0xFF >> (len + 1));
  for (size_t k = 1; k < len; ++k) cp = (cp << 6) | (b(k) & 0x3F);
  return cp;
}

// Terminal columns of a code point: 0 for combining marks and variation selectors, 2 for East
// Asian wide characters and emoji, 1 otherwise (a short table, not full wcwidth: enough to keep
// prompts in CJK or with emoji from pushing a table's columns out of line).
size_t code_point_width(uint32_t cp) {
  static const uint32_t kZero[][2] = {
      {0x0300, 0x036F}, {0x200B, 0x200F}, {0x20D0, 0x20FF}, {0xFE00, 0xFE0F}, {0xE0100, 0xE01EF}};
  static const uint32_t kWide[][2] = {
      {0x1100, 0x115F}, {0x2E80, 0x303E},   {0x3041, 0x33FF},   {0x3400, 0x4DBF},  {0x4E00, 0x9FFF},
      {0xA000, 0xA4CF}, {0xAC00, 0xD7A3},   {0xF900, 0xFAFF},   {0xFE30, 0xFE4F},  {0xFF00, 0xFF60},
      {0xFFE0, 0xFFE6}, {0x1F300, 0x1F64F}, {0x1F900, 0x1F9FF}, {0x20000, 0x3FFFD}};
  for (const auto& r : kZero) {
    if (cp >= r[0] && cp <= r[1]) return 0;
  }
  for (const auto& r : kWide) {
    if (cp >= r[0] && cp <= r[1]) return 2;
  }
  return 1;
}

}  // namespace

std::string clean_utf8(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    const size_t len = utf8_sequence_length(s, i);
    if (len == 0) {
      out += kReplacement;
      ++i;
      continue;
    }
    const char c = s[i];
    if (len == 1 && static_cast<uint8_t>(c) < 0x20 && c != '\t' && c != '\n' && c != '\r') {
      out += kReplacement;
    } else {
      out.append(s, i, len);
    }
    i += len;
  }
  return out;
}

std::string html_escape(std::string_view s) {
  const std::string clean = clean_utf8(s);
  std::string out;
  out.reserve(clean.size() + clean.size() / 8);
  for (char c : clean) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

size_t display_width(std::string_view s) {
  size_t n = 0;
  for (size_t i = 0; i < s.size();) {
    const size_t len = std::max<size_t>(1, utf8_sequence_length(s, i));
    n += code_point_width(decode(s, i, len));
    i += len;
  }
  return n;
}

std::string truncate_display(std::string_view s, size_t max_width) {
  if (display_width(s) <= max_width) return std::string(s);
  if (max_width == 0) return "";
  // Keep what fits in max_width - 1 columns, then the ellipsis.
  size_t used = 0, i = 0;
  while (i < s.size()) {
    const size_t len = std::max<size_t>(1, utf8_sequence_length(s, i));
    const size_t w = code_point_width(decode(s, i, len));
    if (used + w > max_width - 1) break;
    used += w;
    i += len;
  }
  return std::string(s.substr(0, i)) + "\xE2\x80\xA6";
}

}  // namespace tsft
