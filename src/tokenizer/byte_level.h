// GPT-2's byte-to-unicode alphabet: every byte is shown as one printable character, so that
// byte-level BPE vocabularies are valid text. Maps in both directions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace tsft::byte_level {

// The code point that stands for byte b (printable Latin-1 bytes stand for themselves).
uint32_t byte_to_cp(uint8_t b);

// Inverse of byte_to_cp; nullopt for code points outside the alphabet.
std::optional<uint8_t> cp_to_byte(uint32_t cp);

// The alphabet form of raw bytes ("hi there" -> "hiĠthere").
std::string encode(std::string_view bytes);

// Raw bytes of one vocabulary token written in the alphabet. nullopt when some character is
// not in the alphabet (HF's decoder then keeps the token's own UTF-8 bytes).
std::optional<std::string> decode_token(std::string_view token);

}  // namespace tsft::byte_level
