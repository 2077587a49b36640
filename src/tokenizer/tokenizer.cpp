// Tokenizer: added-token split -> pre-tokenizer (byte-level) or normalizer/Metaspace (SPM) ->
// BPE, and the byte-level or SentencePiece decoder;
// plus the GGUF loader (tokenizer.ggml.* keys as llama.cpp writes them).
#include "tokenizer/tokenizer.h"

#include <algorithm>
#include <unordered_map>

#include "core/error.h"
#include "io/gguf.h"
#include "tokenizer/added_tokens.h"
#include "tokenizer/bpe.h"
#include "tokenizer/nfc.h"
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
  for (int32_t i = 0; spm && i < size; ++i)
    m.fallback_byte[i] = static_cast<int16_t>(fallback_byte_of(m.id_bytes[i]));
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
const TokenizerSpec& Tokenizer::spec() const {
  return impl_->spec;
}

Tokenizer Tokenizer::from_gguf(const GgufFile& gguf) {
  const std::string& path = gguf.path();
  TokenizerSpec spec;
  spec.source = path;
  const std::string model = gguf.get_string_or("tokenizer.ggml.model", "");
  if (model == "llama") return from_gguf_sentencepiece(gguf);
  if (model != "gpt2") {
    fail(path, ": tokenizer.ggml.model is '", model,
         "'; supported: 'gpt2' (byte-level BPE), 'llama' (SentencePiece-style BPE)");
  }
  const std::string pre = gguf.get_string_or("tokenizer.ggml.pre", "default");
  if (pre == "smollm") {
    spec.pre = PreTokenizerKind::kSmolLM2;
  } else if (pre == "gpt2" || pre == "default") {
    spec.pre = PreTokenizerKind::kGpt2;
  } else if (pre == "qwen2") {
    spec.pre = PreTokenizerKind::kQwen2;
  } else if (pre == "llama-bpe" || pre == "llama3") {
    spec.pre = PreTokenizerKind::kLlama3;
    spec.ignore_merges = true;  // as Llama 3's tokenizer.json (and llama.cpp for this pre type)
  } else {
    fail(path, ": tokenizer.ggml.pre '", pre,
         "' is not supported (known: smollm, gpt2, default, qwen2, llama-bpe, llama3)");
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

namespace tsft {

namespace {

// transformers' generate_merges: every split of a token into two vocab tokens is a merge, ranked
// by the token's score (best first), then by longer left part, then longer right part; ties keep
// token order, and within one token the splits are ordered by (left id, right id).
std::vector<std::pair<std::string, std::string>> merges_from_scores(
    const std::vector<std::string>& tokens, const std::vector<double>& scores) {
  std::unordered_map<std::string_view, int32_t> ids;
  for (size_t i = 0; i < tokens.size(); ++i) ids[tokens[i]] = static_cast<int32_t>(i);
  struct M {
    int32_t l, r;
    double score;
    size_t len_l, len_r;  // in code points
  };
  std::vector<M> all, local;
  for (size_t i = 0; i < tokens.size(); ++i) {
    const std::string_view t = tokens[i];
    local.clear();
    size_t chars_left = 0;
    size_t total_chars = 0;
    for (size_t p = 0; p < t.size(); ++total_chars) {
      uint32_t cp;
      p += unicode::decode_utf8(t, p, &cp);
    }
    for (size_t p = 0; p < t.size();) {
      uint32_t cp;
      p += unicode::decode_utf8(t, p, &cp);
      ++chars_left;
      if (p >= t.size()) break;
      auto l = ids.find(t.substr(0, p)), r = ids.find(t.substr(p));
      if (l != ids.end() && r != ids.end())
        local.push_back({l->second, r->second, scores[i], chars_left, total_chars - chars_left});
    }
    std::stable_sort(local.begin(), local.end(), [](const M& a, const M& b) {
      return a.l != b.l ? a.l < b.l : a.r < b.r;
    });
    all.insert(all.end(), local.begin(), local.end());
  }
  std::stable_sort(all.begin(), all.end(), [](const M& a, const M& b) {
    if (a.score != b.score) return a.score > b.score;
    if (a.len_l != b.len_l) return a.len_l > b.len_l;
    return a.len_r > b.len_r;
  });
  std::vector<std::pair<std::string, std::string>> out;
  out.reserve(all.size());
  for (const M& m : all) out.emplace_back(tokens[m.l], tokens[m.r]);
  return out;
}

}  // namespace

// tokenizer.ggml.model "llama": the pipeline transformers builds for it (LlamaTokenizer):
// Metaspace(prepend_scheme first, split false) (never, with no Strip, when add_space_prefix is
// false), BPE with byte fallback, fuse_unk and no unk token, merges from the file or else
// from the scores; control tokens and the unknown token are special added tokens.
Tokenizer Tokenizer::from_gguf_sentencepiece(const GgufFile& gguf) {
  const std::string& path = gguf.path();
  TokenizerSpec spec;
  spec.source = path;
  // transformers builds these differently (Gemma: respelled space tokens and merges in file
  // order; Phi-3: a Prepend normalizer), so refuse rather than give other ids.
  const std::string arch = gguf.get_string_or("general.architecture", "");
  if (arch == "gemma" || arch == "gemma2" || arch == "gemma3" || arch == "phi3")
    fail(path, ": general.architecture '", arch,
         "' with tokenizer.ggml.model 'llama' is not supported (only the Llama pipeline is)");
  spec.model = ModelKind::kSentencePieceBpe;
  spec.byte_fallback = true;
  spec.fuse_unk = true;
  spec.vocab = gguf.get_string_array("tokenizer.ggml.tokens");
  if (gguf.has("tokenizer.ggml.merges")) {
    const std::vector<std::string> merges = gguf.get_string_array("tokenizer.ggml.merges");
    for (size_t i = 0; i < merges.size(); ++i) {
      size_t sp = merges[i].find(' ');
      if (sp == std::string::npos)
        fail(path, ": tokenizer.ggml.merges[", i, "] '", merges[i], "' is not 'a b'");
      spec.merges.emplace_back(merges[i].substr(0, sp), merges[i].substr(sp + 1));
    }
  } else {
    if (!gguf.has("tokenizer.ggml.scores"))
      fail(path,
           ": tokenizer.ggml.model is 'llama' (SentencePiece) but tokenizer.ggml.scores is "
           "missing and there are no tokenizer.ggml.merges to build the BPE from");
    const std::vector<double> scores = gguf.get_float_array("tokenizer.ggml.scores");
    if (scores.size() != spec.vocab.size())
      fail(path, ": tokenizer.ggml.scores has ", scores.size(), " entries but there are ",
           spec.vocab.size(), " tokens");
    spec.merges = merges_from_scores(spec.vocab, scores);
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
  const int32_t unk = id_or_none("tokenizer.ggml.unknown_token_id");
  std::vector<int64_t> types;
  if (gguf.has("tokenizer.ggml.token_type")) {
    types = gguf.get_int_array("tokenizer.ggml.token_type");
    if (types.size() != spec.vocab.size()) {
      fail(path, ": tokenizer.ggml.token_type has ", types.size(), " entries but there are ",
           spec.vocab.size(), " tokens");
    }
  }
  for (size_t i = 0; i < spec.vocab.size(); ++i) {
    const int64_t type = i < types.size() ? types[i] : 1;
    const bool special = type == 3 || static_cast<int32_t>(i) == unk;
    if (!special && type != 4) continue;
    AddedToken t;
    t.id = static_cast<int32_t>(i);
    t.content = spec.vocab[i];
    t.special = special;
    t.normalized = false;
    spec.added.push_back(std::move(t));
  }
  const bool prefix = gguf.get_bool_or("tokenizer.ggml.add_space_prefix", true);
  spec.spm.metaspace = true;
  spec.spm.split = false;
  spec.spm.prepend_scheme = prefix ? PrependScheme::kFirst : PrependScheme::kNever;
  spec.spm.strip_start = prefix ? 1 : 0;
  spec.add_bos = gguf.get_bool_or("tokenizer.ggml.add_bos_token", true);
  spec.chat_template = gguf.get_string_or("tokenizer.chat_template", "");
  return Tokenizer(std::move(spec));
}

}  // namespace tsft
