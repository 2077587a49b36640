// Tokenizer::from_gguf: the tokenizer.ggml.* keys as llama.cpp writes them, for byte-level
// vocabularies (model "gpt2") and SentencePiece ones (model "llama"), built as transformers does.
#include <algorithm>
#include <unordered_map>

#include "core/error.h"
#include "io/gguf.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/unicode.h"

namespace tsft {
namespace {

// A token id stored under `key`, or -1 when absent; an id outside the vocabulary is an error.
int32_t token_id_or_none(const GgufFile& gguf, const char* key, size_t vocab_size) {
  const uint64_t v = gguf.get_uint_or(key, UINT64_MAX);
  if (v == UINT64_MAX) return -1;
  if (v >= vocab_size)
    fail(gguf.path(), ": ", key, " = ", v, " is outside the vocabulary (", vocab_size, " tokens)");
  return static_cast<int32_t>(v);
}

}  // namespace

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

  auto id_or_none = [&](const char* key) { return token_id_or_none(gguf, key, spec.vocab.size()); };
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
  auto id_or_none = [&](const char* key) { return token_id_or_none(gguf, key, spec.vocab.size()); };
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
