// Tokenizer: added-token split -> pre-tokenizer -> byte-level BPE, and the byte-level decoder;
// plus the GGUF loader (tokenizer.ggml.* keys as llama.cpp writes them).
#include "tokenizer/tokenizer.h"

#include <unordered_map>

#include "core/error.h"
#include "io/gguf.h"
#include "tokenizer/added_tokens.h"
#include "tokenizer/bpe.h"
#include "tokenizer/byte_level.h"
#include "tokenizer/pretokenizer.h"
#include "tokenizer/unicode.h"

namespace tsft {

struct Tokenizer::Impl {
  TokenizerSpec spec;
  std::unique_ptr<BpeModel> bpe;
  std::unique_ptr<AddedTokenMatcher> matcher;
  std::unordered_map<std::string, int32_t> token_to_id;  // added tokens shadow the vocab
  std::vector<std::string> id_bytes;                     // what each id decodes to
  std::vector<uint8_t> special;                          // 1 for special added tokens
};

Tokenizer::Tokenizer(TokenizerSpec spec) : impl_(std::make_unique<Impl>()) {
  Impl& m = *impl_;
  const std::string where = spec.source.empty() ? std::string("tokenizer") : spec.source;
  if (spec.vocab.empty()) fail(where, ": the vocabulary is empty");
  const auto n_vocab = static_cast<int32_t>(spec.vocab.size());

  std::unordered_map<std::string, int32_t> vocab_ids;
  vocab_ids.reserve(spec.vocab.size() * 2);
  for (int32_t i = 0; i < n_vocab; ++i) vocab_ids[spec.vocab[i]] = i;

  // An added token whose text is already a vocab token takes the vocab's id, as HF's
  // AddedVocabulary::add_tokens does.
  int32_t size = n_vocab;
  for (AddedToken& t : spec.added) {
    auto it = vocab_ids.find(t.content);
    if (it != vocab_ids.end()) t.id = it->second;
    if (t.id < 0) fail(where, ": added token '", t.content, "' has no valid id (", t.id, ")");
    size = std::max(size, t.id + 1);
  }
  for (int32_t* id : {&spec.bos_id, &spec.eos_id, &spec.pad_id, &spec.unk_id}) {
    if (*id >= size)
      fail(where, ": special token id ", *id, " is outside the vocabulary (size ", size, ")");
  }

  m.bpe = std::make_unique<BpeModel>(spec.vocab, spec.merges, spec.unk_id, spec.fuse_unk,
                                     spec.ignore_merges, where);
  m.matcher = std::make_unique<AddedTokenMatcher>(spec.added);

  m.id_bytes.resize(size);
  m.special.assign(size, 0);
  for (int32_t i = 0; i < n_vocab; ++i) {
    auto raw = byte_level::decode_token(spec.vocab[i]);
    m.id_bytes[i] = raw ? *raw : spec.vocab[i];
  }
  m.token_to_id = std::move(vocab_ids);
  for (const AddedToken& t : spec.added) {
    auto raw = byte_level::decode_token(t.content);
    m.id_bytes[t.id] = raw ? *raw : t.content;
    m.special[t.id] = t.special ? 1 : 0;
    m.token_to_id[t.content] = t.id;
  }
  m.spec = std::move(spec);
}

Tokenizer::~Tokenizer() = default;
Tokenizer::Tokenizer(Tokenizer&&) noexcept = default;
Tokenizer& Tokenizer::operator=(Tokenizer&&) noexcept = default;

std::vector<int32_t> Tokenizer::encode(std::string_view text, bool parse_special) const {
  const Impl& m = *impl_;
  if (text.size() >= (size_t{1} << 32)) {
    fail("text of ", text.size(), " bytes is too long to encode at once (the limit is 4 GiB)");
  }
  std::vector<int32_t> ids;
  ids.reserve(text.size() / 3 + 4);
  thread_local std::vector<Segment> segments;
  thread_local std::vector<PieceRange> pieces;
  m.matcher->split(text, parse_special, segments);
  for (const Segment& s : segments) {
    if (s.id >= 0) {
      ids.push_back(s.id);
      continue;
    }
    std::string_view seg = text.substr(s.begin, s.end - s.begin);
    pieces.clear();
    pretokenize(seg, m.spec.pre, pieces);
    for (const PieceRange& p : pieces) m.bpe->encode(seg.substr(p.begin, p.end - p.begin), ids);
  }
  // Keep no huge buffers per thread after one very long text.
  if (pieces.capacity() > (size_t{1} << 20)) pieces = {};
  if (segments.capacity() > (size_t{1} << 16)) segments = {};
  return ids;
}

std::string Tokenizer::decode(const std::vector<int32_t>& ids, bool skip_special) const {
  const Impl& m = *impl_;
  std::string bytes;
  for (int32_t id : ids) {
    if (id < 0 || id >= static_cast<int32_t>(m.id_bytes.size())) continue;
    if (skip_special && m.special[id]) continue;
    bytes += m.id_bytes[id];
  }
  return unicode::utf8_lossy(bytes);
}

std::string Tokenizer::token_bytes(int32_t id) const {
  if (id < 0 || id >= vocab_size())
    fail("token id ", id, " is outside the vocabulary (size ", vocab_size(), ")");
  return impl_->id_bytes[id];
}

int32_t Tokenizer::vocab_size() const {
  return static_cast<int32_t>(impl_->id_bytes.size());
}
int32_t Tokenizer::bos_id() const {
  return impl_->spec.bos_id;
}
int32_t Tokenizer::eos_id() const {
  return impl_->spec.eos_id;
}
int32_t Tokenizer::pad_id() const {
  return impl_->spec.pad_id;
}
bool Tokenizer::add_bos() const {
  return impl_->spec.add_bos;
}

bool Tokenizer::is_special(int32_t id) const {
  return id >= 0 && id < vocab_size() && impl_->special[id] != 0;
}

std::optional<int32_t> Tokenizer::token_id(std::string_view token) const {
  auto it = impl_->token_to_id.find(std::string(token));
  if (it == impl_->token_to_id.end()) return std::nullopt;
  return it->second;
}

const std::string& Tokenizer::chat_template() const {
  return impl_->spec.chat_template;
}
const TokenizerSpec& Tokenizer::spec() const {
  return impl_->spec;
}

Tokenizer Tokenizer::from_gguf(const GgufFile& gguf) {
  const std::string& path = gguf.path();
  TokenizerSpec spec;
  spec.source = path;
  const std::string model = gguf.get_string_or("tokenizer.ggml.model", "");
  if (model != "gpt2") {
    fail(path, ": tokenizer.ggml.model is '", model,
         "'; only 'gpt2' (byte-level BPE) is supported");
  }
  const std::string pre = gguf.get_string_or("tokenizer.ggml.pre", "default");
  if (pre == "smollm") {
    spec.pre = PreTokenizerKind::kSmolLM2;
  } else if (pre == "gpt2" || pre == "default") {
    spec.pre = PreTokenizerKind::kGpt2;
  } else {
    fail(path, ": tokenizer.ggml.pre '", pre, "' is not supported (known: smollm, gpt2, default)");
  }

  spec.vocab = gguf.get_string_array("tokenizer.ggml.tokens");
  const std::vector<std::string> merges = gguf.get_string_array("tokenizer.ggml.merges");
  spec.merges.reserve(merges.size());
  for (size_t i = 0; i < merges.size(); ++i) {
    // Search from 1: byte-level tokens never contain a space, but be safe with a leading one.
    size_t sp = merges[i].find(' ', 1);
    if (sp == std::string::npos)
      fail(path, ": tokenizer.ggml.merges[", i, "] '", merges[i], "' is not 'a b'");
    spec.merges.emplace_back(merges[i].substr(0, sp), merges[i].substr(sp + 1));
  }

  if (gguf.has("tokenizer.ggml.token_type")) {
    const std::vector<int64_t> types = gguf.get_int_array("tokenizer.ggml.token_type");
    if (types.size() != spec.vocab.size()) {
      fail(path, ": tokenizer.ggml.token_type has ", types.size(), " entries but there are ",
           spec.vocab.size(), " tokens");
    }
    for (size_t i = 0; i < types.size(); ++i) {
      // 3 = control (special), 4 = user defined: both are matched whole in the text.
      if (types[i] != 3 && types[i] != 4) continue;
      AddedToken t;
      t.id = static_cast<int32_t>(i);
      t.content = spec.vocab[i];
      t.special = types[i] == 3;
      t.normalized = false;
      spec.added.push_back(std::move(t));
    }
  }

  auto id_or_none = [&](const char* key) -> int32_t {
    uint64_t v = gguf.get_uint_or(key, UINT64_MAX);
    if (v == UINT64_MAX) return -1;
    if (v >= spec.vocab.size())
      fail(path, ": ", key, " = ", v, " is outside the vocabulary (", spec.vocab.size(),
           " tokens)");
    return static_cast<int32_t>(v);
  };
  spec.bos_id = id_or_none("tokenizer.ggml.bos_token_id");
  spec.eos_id = id_or_none("tokenizer.ggml.eos_token_id");
  spec.pad_id = id_or_none("tokenizer.ggml.padding_token_id");
  // unknown_token_id is not used: HF's byte-level BPE for these models has no unk token (every
  // byte is in the vocabulary), and llama.cpp's value is only a placeholder (SmolLM2: 0 =
  // <|endoftext|>). It is still range-checked so a broken file is reported.
  (void)id_or_none("tokenizer.ggml.unknown_token_id");
  spec.add_bos = gguf.get_bool_or("tokenizer.ggml.add_bos_token", false);
  spec.chat_template = gguf.get_string_or("tokenizer.chat_template", "");
  return Tokenizer(std::move(spec));
}

}  // namespace tsft
