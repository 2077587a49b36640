// Writes a Tokenizer (from GGUF metadata or tokenizer.json) as the Hugging Face files
// tokenizer.json, tokenizer_config.json and special_tokens_map.json, so that both HF `tokenizers`
// and Tokenizer::from_json_file load it and encode every text to the same ids.
#pragma once

#include <cstdint>
#include <string>

#include "tokenizer/tokenizer.h"

namespace tsft {

// The tokenizer.json text (model, normalizer, pre_tokenizer, post_processor, decoder,
// added_tokens). Throws tsft::Error when the tokenizer cannot be written faithfully (duplicate
// vocabulary entries, tokens that are not valid UTF-8).
std::string tokenizer_json_text(const Tokenizer& tok);

// tokenizer_config.json: bos/eos/pad/unk tokens, add_bos_token, chat_template,
// model_max_length, added_tokens_decoder.
std::string tokenizer_config_text(const Tokenizer& tok, int64_t model_max_length);
std::string special_tokens_map_text(const Tokenizer& tok);

// Writes the three files into dir (which must exist).
void write_tokenizer_files(const std::string& dir, const Tokenizer& tok, int64_t model_max_length);

}  // namespace tsft
