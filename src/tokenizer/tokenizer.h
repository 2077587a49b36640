// BPE tokenizer (byte-level: GPT-2 / SmolLM2 / Qwen2 / Llama 3; SentencePiece-style with byte
// fallback: Llama 2 / Mistral) with added and special tokens, loaded from a GGUF file's metadata
// or a Hugging Face tokenizer.json. encode() gives the same ids as the
// Hugging Face `tokenizers` library for the same pipeline.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tsft {

class GgufFile;

struct AddedToken {
  int32_t id = -1;
  std::string content;
  bool special = true;
  bool lstrip = false, rstrip = false, single_word = false, normalized = false;
};

// How text is split before byte-level BPE. kSmolLM2 = Digits(individual) then the GPT-2 regex;
// kQwen2 / kLlama3 = their Split regexes (see pretokenizer.h). SentencePiece-style BPE ignores it.
enum class PreTokenizerKind { kGpt2, kSmolLM2, kQwen2, kLlama3 };

// kByteLevelBpe: tokens are written in GPT-2's byte alphabet and every byte has a token.
// kSentencePieceBpe: tokens are text with U+2581 '▁' for a space; a character with no token
// becomes its <0xNN> byte tokens (byte_fallback) or unk (Llama 2 / Mistral / TinyLlama).
enum class ModelKind { kByteLevelBpe, kSentencePieceBpe };

enum class PrependScheme { kNever, kFirst, kAlways };

// The text side of a SentencePiece-style pipeline, as HF tokenizer.json writes it.
struct SentencePieceOptions {
  // Legacy normalizer Sequence[Prepend("▁"), Replace(" ", "▁")]: every stretch of text between
  // added tokens gets a leading '▁' and its spaces become '▁'.
  bool prepend = false;
  bool replace_spaces = false;
  // Non-legacy pre_tokenizer Metaspace(replacement "▁", prepend_scheme, split).
  bool metaspace = false;
  PrependScheme prepend_scheme = PrependScheme::kFirst;
  bool split = false;  // pieces start at each '▁'
  // Decoder Sequence[Replace("▁", " "), ByteFallback, Fuse, Strip(" ", strip_start, 0)].
  int strip_start = 1;
};

struct TokenizerSpec {
  std::vector<std::string> vocab;                           // id -> token (byte-level alphabet)
  std::vector<std::pair<std::string, std::string>> merges;  // in rank order
  std::vector<AddedToken> added;
  PreTokenizerKind pre = PreTokenizerKind::kGpt2;
  int32_t bos_id = -1, eos_id = -1, pad_id = -1, unk_id = -1;
  bool add_bos = false;
  std::string chat_template;  // may be empty
  // Rarer BPE options from tokenizer.json (GGUF files never set them).
  bool ignore_merges = false;  // a piece that is itself a vocab token skips merging
  bool fuse_unk = false;       // consecutive unknown bytes become one unk
  bool nfc = false;  // normalizer NFC (Qwen2's files), byte-level only
  ModelKind model = ModelKind::kByteLevelBpe;
  bool byte_fallback = false;  // kSentencePieceBpe only
  SentencePieceOptions spm;    // kSentencePieceBpe only
  std::string source;          // file the spec came from, for error messages
};

class Tokenizer {
 public:
  explicit Tokenizer(TokenizerSpec spec);
  ~Tokenizer();
  Tokenizer(Tokenizer&&) noexcept;
  Tokenizer& operator=(Tokenizer&&) noexcept;

  static Tokenizer from_gguf(const GgufFile& gguf);          // tokenizer.ggml.* keys (gpt2,
                                                             // llama)
  static Tokenizer from_json_file(const std::string& path);  // tokenizer.json (+ sibling
                                                             // tokenizer_config.json if any)

  // parse_special: added/special tokens in the text become their ids (as HF does by default).
  // Never adds BOS/EOS (callers check add_bos()); the same ids as HF's
  // encode(text, add_special_tokens=False). Thread-safe. Invalid UTF-8 is kept byte for byte.
  std::vector<int32_t> encode(std::string_view text, bool parse_special = true) const;
  // HF's byte-level decode: ids out of range are skipped (as HF does), invalid UTF-8 becomes
  // U+FFFD.
  std::string decode(const std::vector<int32_t>& ids, bool skip_special = false) const;
  // The raw bytes one token stands for (SentencePiece-style: '▁' as a space, a <0xNN> token as
  // its byte; the decoder's strip of the first space is not applied).
  std::string token_bytes(int32_t id) const;

  int32_t vocab_size() const;
  int32_t bos_id() const;
  int32_t eos_id() const;
  int32_t pad_id() const;
  bool add_bos() const;
  bool is_special(int32_t id) const;
  std::optional<int32_t> token_id(std::string_view token) const;  // exact vocab/added lookup
  const std::string& chat_template() const;
  const TokenizerSpec& spec() const;

  // A copy with new special tokens (e.g. a "<my_tool_selection>" sentinel) appended at the next
  // free ids, as HF's add_special_tokens does; texts that are already tokens keep their ids.
  // The model's vocabulary must grow to vocab_size() too (Transformer::grow_vocab).
  Tokenizer with_special_tokens(const std::vector<std::string>& contents) const;

 private:
  static Tokenizer from_gguf_sentencepiece(const GgufFile& gguf);  // tokenizer.ggml.model llama

  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace tsft
