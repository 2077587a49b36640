// Unicode NFC (canonical decomposition, canonical ordering, canonical composition), as HF's
// NFC normalizer applies it to each stretch of text between added tokens (Qwen2's files).
#pragma once

#include <string>
#include <string_view>

namespace tsft::unicode {

// NFC of `text`. Bytes that are not valid UTF-8 are kept as they are and never compose.
// Text with no code point at or above U+0300 is returned unchanged without decoding it.
std::string nfc(std::string_view text);

// True when nfc(text) == text is certain without running it (no byte >= 0xCC).
bool nfc_trivial(std::string_view text);

}  // namespace tsft::unicode
