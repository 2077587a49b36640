// Tokenizer: added-token split -> pre-tokenizer (byte-level) or normalizer/Metaspace (SPM) ->
// BPE, and the byte-level or SentencePiece decoder. Loaders: tokenizer_json.cpp,
// tokenizer_gguf.cpp.
#include "tokenizer/tokenizer.h"

#include <algorithm>
#include <unordered_map>

#include "core/error.h"
#include "tokenizer/added_tokens.h"
#include "tokenizer/bpe.h"
#include "tokenizer/byte_level.h"
#include "tokenizer/nfc.h"
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
  // kSentencePieceBpe decoding: each token's text with '▁' made ' ', and the byte a
  // <0xNN> token stands for (-1 for other tokens), as HF's Replace and ByteFallback decoders.
  std::vector<int16_t> fallback_byte;

  void encode_spm(std::string_view seg, bool at_start, std::vector<int32_t>& ids) const;
  std::string decode_spm(const std::vector<int32_t>& ids, bool skip_special) const;
};

namespace {

constexpr std::string_view kSpmSpace = "\xE2\x96\x81";  // U+2581 '▁'

std::string replace_all(std::string_view s, std::string_view from, std::string_view to) {
  std::string out;
  out.reserve(s.size() + s.size() / 4);
  for (size_t i = 0; i < s.size();) {
    if (s.compare(i, from.size(), from) == 0) {
      out += to;
      i += from.size();
    } else {
      out += s[i++];
    }
  }
  return out;
}

// Rust's u8::from_str_radix(&token[3..5], 16) on "<0xNN>" (6 bytes), as HF's ByteFallback.
int fallback_byte_of(std::string_view t) {
  if (t.size() != 6 || t.substr(0, 3) != "<0x" || t[5] != '>') return -1;
  auto hex = [](char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  int hi = t[3] == '+' ? 0 : hex(t[3]), lo = hex(t[4]);
  return hi < 0 || lo < 0 ? -1 : hi * 16 + lo;
}

}  // namespace

// One stretch of text between added tokens: the normalizer and Metaspace steps, then BPE.
void Tokenizer::Impl::encode_spm(std::string_view seg, bool at_start,
                                 std::vector<int32_t>& ids) const {
  const SentencePieceOptions& o = spec.spm;
  if (seg.empty()) return;
  std::string text;
  if (o.prepend) text = kSpmSpace;
  text += o.replace_spaces || o.metaspace ? replace_all(seg, " ", kSpmSpace) : std::string(seg);
  if (o.metaspace) {
    const bool starts = text.compare(0, kSpmSpace.size(), kSpmSpace) == 0;
    if (!starts && (o.prepend_scheme == PrependScheme::kAlways ||
                    (o.prepend_scheme == PrependScheme::kFirst && at_start)))
      text.insert(0, kSpmSpace);
  }
  if (!o.metaspace || !o.split) {
    bpe->encode(text, ids);
    return;
  }
  // split: every '▁' starts a piece (HF's MergedWithNext).
  std::string_view t = text;
  size_t start = 0;
  for (size_t i = kSpmSpace.size(); i < t.size();) {
    if (t.compare(i, kSpmSpace.size(), kSpmSpace) == 0) {
      if (i > start) bpe->encode(t.substr(start, i - start), ids);
      start = i;
      i += kSpmSpace.size();
    } else {
      ++i;
    }
  }
  bpe->encode(t.substr(start), ids);
}

// HF's decoders Replace("▁", " "), ByteFallback, Fuse, Strip(" ", strip_start, 0).
std::string Tokenizer::Impl::decode_spm(const std::vector<int32_t>& ids, bool skip_special) const {
  std::string out, bytes;
  auto flush = [&] {
    if (bytes.empty()) return;
    if (unicode::utf8_lossy(bytes) == bytes) {
      out += bytes;
    } else {
      for (size_t i = 0; i < bytes.size(); ++i) out += "\xEF\xBF\xBD";  // one U+FFFD per byte
    }
    bytes.clear();
  };
  for (int32_t id : ids) {
    if (id < 0 || id >= static_cast<int32_t>(id_bytes.size())) continue;
    if (skip_special && special[id]) continue;
    if (fallback_byte[id] >= 0) {
      bytes += static_cast<char>(fallback_byte[id]);
      continue;
    }
    flush();
    out += id_bytes[id];
  }
  flush();
  size_t cut = 0;
  while (cut < out.size() && cut < static_cast<size_t>(spec.spm.strip_start) && out[cut] == ' ')
    ++cut;
  return out.substr(cut);
}

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

  const bool spm = spec.model == ModelKind::kSentencePieceBpe;
  m.bpe = std::make_unique<BpeModel>(spec.vocab, spec.merges, spec.unk_id, spec.fuse_unk,
                                     spec.ignore_merges, where, spm, spec.byte_fallback);
  m.matcher = std::make_unique<AddedTokenMatcher>(spec.added);

  m.id_bytes.resize(size);
  m.special.assign(size, 0);
  // What a token decodes to: its raw bytes (byte-level), or its text with '▁' as ' ' (SPM).
  auto token_text = [&](const std::string& tok) {
    if (spm) return replace_all(tok, kSpmSpace, " ");
    auto raw = byte_level::decode_token(tok);
    return raw ? *raw : tok;
  };
  for (int32_t i = 0; i < n_vocab; ++i) m.id_bytes[i] = token_text(spec.vocab[i]);
  m.token_to_id = std::move(vocab_ids);
  for (const AddedToken& t : spec.added) {
    m.id_bytes[t.id] = token_text(t.content);
    m.special[t.id] = t.special ? 1 : 0;
    m.token_to_id[t.content] = t.id;
  }
  m.fallback_byte.assign(size, -1);
  for (int32_t i = 0; spm && i < size; ++i) {
    m.fallback_byte[i] = static_cast<int16_t>(fallback_byte_of(m.id_bytes[i]));
    // token_bytes() gives the byte itself (decode_spm reads fallback_byte, not this).
    if (m.fallback_byte[i] >= 0) m.id_bytes[i] = std::string(1, static_cast<char>(m.fallback_byte[i]));
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
    if (m.spec.model == ModelKind::kSentencePieceBpe) {
      m.encode_spm(seg, s.begin == 0, ids);
      continue;
    }
    thread_local std::string normalized;
    if (m.spec.nfc && !unicode::nfc_trivial(seg)) {
      normalized = unicode::nfc(seg);
      seg = normalized;
    }
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
  if (m.spec.model == ModelKind::kSentencePieceBpe) return m.decode_spm(ids, skip_special);
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
Tokenizer Tokenizer::with_special_tokens(const std::vector<std::string>& contents) const {
  TokenizerSpec spec = impl_->spec;
  int32_t next = vocab_size();
  for (const std::string& c : contents) {
    if (c.empty()) fail("a new special token must not be empty");
    if (token_id(c)) continue;
    AddedToken t;
    t.id = next++;
    t.content = c;
    t.special = true;
    spec.added.push_back(std::move(t));
  }
  return Tokenizer(std::move(spec));
}

const TokenizerSpec& Tokenizer::spec() const {
  return impl_->spec;
}

}  // namespace tsft
