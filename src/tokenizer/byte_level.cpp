// The table is GPT-2's bytes_to_unicode(): bytes that are printable Latin-1 keep their code
// point; the other 68 take 256, 257, ... in byte order.
#include "tokenizer/byte_level.h"

#include <array>

#include "tokenizer/unicode.h"

namespace tsft::byte_level {
namespace {

struct Tables {
  std::array<uint32_t, 256> to_cp{};
  std::array<int16_t, 324> to_byte{};  // every alphabet code point is < 256 + 68
};

const Tables& tables() {
  static const Tables t = [] {
    Tables r;
    r.to_byte.fill(-1);
    uint32_t next = 256;
    for (int b = 0; b < 256; ++b) {
      bool printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE);
      r.to_cp[b] = printable ? static_cast<uint32_t>(b) : next++;
      r.to_byte[r.to_cp[b]] = static_cast<int16_t>(b);
    }
    return r;
  }();
  return t;
}

}  // namespace

uint32_t byte_to_cp(uint8_t b) {
  return tables().to_cp[b];
}

std::optional<uint8_t> cp_to_byte(uint32_t cp) {
  const Tables& t = tables();
  if (cp >= t.to_byte.size() || t.to_byte[cp] < 0) return std::nullopt;
  return static_cast<uint8_t>(t.to_byte[cp]);
}

std::string encode(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size() * 2);
  for (char c : bytes) unicode::append_utf8(out, byte_to_cp(static_cast<uint8_t>(c)));
  return out;
}

std::optional<std::string> decode_token(std::string_view token) {
  std::string out;
  out.reserve(token.size());
  for (size_t pos = 0; pos < token.size();) {
    uint32_t cp;
    pos += unicode::decode_utf8(token, pos, &cp);
    auto b = cp_to_byte(cp);
    if (!b) return std::nullopt;
    out += static_cast<char>(*b);
  }
  return out;
}

}  // namespace tsft::byte_level
