#include "export/tokenizer_export.h"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <unordered_set>

#include "core/error.h"
#include "io/file_write.h"

namespace tsft {
namespace {

using ojson = nlohmann::ordered_json;

const char* kSpmSpace = "\xE2\x96\x81";  // U+2581

// The Split regexes tokenizer_json.cpp recognises, byte for byte as the models' files have them.
constexpr const char* kQwen2Regex =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
constexpr const char* kLlama3Regex =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";

std::string dump(const ojson& j, const std::string& what, const std::string& source) {
  try {
    return j.dump(2) + "\n";
  } catch (const ojson::type_error& e) {
    fail(source.empty() ? std::string("tokenizer") : source, ": cannot write ", what,
         ": a token is not valid UTF-8 (", e.what(), ")");
  }
}

ojson byte_level(bool trim_offsets, bool use_regex, bool add_prefix_space = false) {
  return {{"type", "ByteLevel"},
          {"add_prefix_space", add_prefix_space},
          {"trim_offsets", trim_offsets},
          {"use_regex", use_regex}};
}

ojson split(const char* regex) {
  return {{"type", "Split"},
          {"pattern", {{"Regex", regex}}},
          {"behavior", "Isolated"},
          {"invert", false}};
}

ojson pre_tokenizer(const TokenizerSpec& s) {
  if (s.model == ModelKind::kSentencePieceBpe) {
    if (!s.spm.metaspace) return nullptr;
    const char* scheme = s.spm.prepend_scheme == PrependScheme::kFirst    ? "first"
                         : s.spm.prepend_scheme == PrependScheme::kAlways ? "always"
                                                                          : "never";
    return {{"type", "Metaspace"},
            {"replacement", kSpmSpace},
            {"prepend_scheme", scheme},
            {"split", s.spm.split}};
  }
  switch (s.pre) {
    case PreTokenizerKind::kGpt2:
      return byte_level(true, true);
    case PreTokenizerKind::kSmolLM2:
      return {{"type", "Sequence"},
              {"pretokenizers", ojson::array({{{"type", "Digits"}, {"individual_digits", true}},
                                              byte_level(true, true)})}};
    case PreTokenizerKind::kQwen2:
    case PreTokenizerKind::kLlama3:
      return {{"type", "Sequence"},
              {"pretokenizers",
               ojson::array({split(s.pre == PreTokenizerKind::kQwen2 ? kQwen2Regex : kLlama3Regex),
                             byte_level(false, false)})}};
  }
  TSFT_CHECK(false, "bad pre-tokenizer kind");
  return nullptr;
}

ojson normalizer(const TokenizerSpec& s) {
  if (s.model == ModelKind::kByteLevelBpe) return s.nfc ? ojson{{"type", "NFC"}} : ojson(nullptr);
  ojson steps = ojson::array();
  if (s.spm.prepend) steps.push_back({{"type", "Prepend"}, {"prepend", kSpmSpace}});
  if (s.spm.replace_spaces)
    steps.push_back({{"type", "Replace"}, {"pattern", {{"String", " "}}}, {"content", kSpmSpace}});
  if (steps.empty()) return nullptr;
  return {{"type", "Sequence"}, {"normalizers", steps}};
}

ojson decoder(const TokenizerSpec& s) {
  if (s.model == ModelKind::kByteLevelBpe) return byte_level(true, true, true);
  ojson steps =
      ojson::array({{{"type", "Replace"}, {"pattern", {{"String", kSpmSpace}}}, {"content", " "}},
                    {{"type", "ByteFallback"}},
                    {{"type", "Fuse"}}});
  if (s.spm.strip_start > 0)
    steps.push_back(
        {{"type", "Strip"}, {"content", " "}, {"start", s.spm.strip_start}, {"stop", 0}});
  return {{"type", "Sequence"}, {"decoders", steps}};
}

// The text of token `id`: an added token's content, else its vocabulary entry.
std::string token_text(const TokenizerSpec& s, int32_t id) {
  for (const AddedToken& t : s.added)
    if (t.id == id) return t.content;
  TSFT_CHECK(id >= 0 && id < static_cast<int32_t>(s.vocab.size()), "token id ", id,
             " out of range");
  return s.vocab[static_cast<size_t>(id)];
}

ojson post_processor(const TokenizerSpec& s) {
  ojson tpl = nullptr;
  if (s.add_bos && s.bos_id >= 0) {
    const std::string bos = token_text(s, s.bos_id);
    auto special = [&](int type_id) {
      return ojson{{"SpecialToken", {{"id", bos}, {"type_id", type_id}}}};
    };
    auto seq = [](const char* id, int type_id) {
      return ojson{{"Sequence", {{"id", id}, {"type_id", type_id}}}};
    };
    tpl = {{"type", "TemplateProcessing"},
           {"single", ojson::array({special(0), seq("A", 0)})},
           {"pair", ojson::array({special(0), seq("A", 0), special(1), seq("B", 1)})},
           {"special_tokens",
            {{bos,
              {{"id", bos}, {"ids", ojson::array({s.bos_id})}, {"tokens", ojson::array({bos})}}}}}};
  }
  if (s.model == ModelKind::kSentencePieceBpe) return tpl;
  ojson bl = byte_level(false, true, true);
  if (tpl.is_null()) return bl;
  return {{"type", "Sequence"}, {"processors", ojson::array({bl, tpl})}};
}

ojson model(const TokenizerSpec& s) {
  // An ordered_json object built in one go: inserting 10^5 keys one by one is quadratic there.
  std::unordered_set<std::string_view> seen;
  ojson vocab = ojson::object();
  auto& entries = static_cast<ojson::object_t::Container&>(vocab.get_ref<ojson::object_t&>());
  entries.reserve(s.vocab.size());
  for (size_t id = 0; id < s.vocab.size(); ++id) {
    if (!seen.insert(s.vocab[id]).second)
      fail(s.source.empty() ? std::string("tokenizer") : s.source, ": token '", s.vocab[id],
           "' (id ", id, ") appears twice in the vocabulary; tokenizer.json cannot express that");
    entries.emplace_back(s.vocab[id], ojson(static_cast<int64_t>(id)));
  }
  ojson merges = ojson::array();
  merges.get_ref<ojson::array_t&>().reserve(s.merges.size());
  for (const auto& [a, b] : s.merges) merges.push_back(ojson::array({a, b}));
  ojson unk = nullptr;
  if (s.unk_id >= 0) unk = token_text(s, s.unk_id);
  return {{"type", "BPE"},
          {"dropout", nullptr},
          {"unk_token", unk},
          {"continuing_subword_prefix", nullptr},
          {"end_of_word_suffix", nullptr},
          {"fuse_unk", s.fuse_unk},
          {"byte_fallback", s.model == ModelKind::kSentencePieceBpe && s.byte_fallback},
          {"ignore_merges", s.ignore_merges},
          {"vocab", std::move(vocab)},
          {"merges", std::move(merges)}};
}

ojson added_token(const AddedToken& t) {
  return {{"id", t.id},          {"content", t.content}, {"single_word", t.single_word},
          {"lstrip", t.lstrip},  {"rstrip", t.rstrip},   {"normalized", t.normalized},
          {"special", t.special}};
}

ojson token_or_null(const TokenizerSpec& s, int32_t id) {
  return id >= 0 ? ojson(token_text(s, id)) : ojson(nullptr);
}

}  // namespace

std::string tokenizer_json_text(const Tokenizer& tok) {
  const TokenizerSpec& s = tok.spec();
  ojson added = ojson::array();
  for (const AddedToken& t : s.added) added.push_back(added_token(t));
  ojson root = {{"version", "1.0"},
                {"truncation", nullptr},
                {"padding", nullptr},
                {"added_tokens", std::move(added)},
                {"normalizer", normalizer(s)},
                {"pre_tokenizer", pre_tokenizer(s)},
                {"post_processor", post_processor(s)},
                {"decoder", decoder(s)},
                {"model", model(s)}};
  return dump(root, "tokenizer.json", s.source);
}

std::string tokenizer_config_text(const Tokenizer& tok, int64_t model_max_length) {
  const TokenizerSpec& s = tok.spec();
  // transformers keys added_tokens_decoder by the id as a string, in id order.
  std::vector<const AddedToken*> sorted;
  for (const AddedToken& t : s.added) sorted.push_back(&t);
  std::sort(sorted.begin(), sorted.end(), [](auto* a, auto* b) { return a->id < b->id; });
  ojson decoder_map = ojson::object();
  for (const AddedToken* t : sorted) {
    decoder_map[std::to_string(t->id)] = {{"content", t->content},         {"lstrip", t->lstrip},
                                          {"normalized", t->normalized},   {"rstrip", t->rstrip},
                                          {"single_word", t->single_word}, {"special", t->special}};
  }
  ojson cfg = {{"add_bos_token", s.add_bos},
               {"add_eos_token", false},
               {"added_tokens_decoder", std::move(decoder_map)},
               {"bos_token", token_or_null(s, s.bos_id)},
               {"eos_token", token_or_null(s, s.eos_id)},
               {"pad_token", token_or_null(s, s.pad_id)},
               {"unk_token", token_or_null(s, s.unk_id)}};
  if (!s.chat_template.empty()) cfg["chat_template"] = s.chat_template;
  cfg["clean_up_tokenization_spaces"] = false;
  cfg["model_max_length"] = model_max_length;
  cfg["tokenizer_class"] = "PreTrainedTokenizerFast";
  return dump(cfg, "tokenizer_config.json", s.source);
}

std::string special_tokens_map_text(const Tokenizer& tok) {
  const TokenizerSpec& s = tok.spec();
  ojson m = ojson::object();
  auto put = [&](const char* key, int32_t id) {
    if (id >= 0)
      m[key] = {{"content", token_text(s, id)},
                {"lstrip", false},
                {"normalized", false},
                {"rstrip", false},
                {"single_word", false}};
  };
  put("bos_token", s.bos_id);
  put("eos_token", s.eos_id);
  put("pad_token", s.pad_id);
  put("unk_token", s.unk_id);
  return dump(m, "special_tokens_map.json", s.source);
}

void write_tokenizer_files(const std::string& dir, const Tokenizer& tok, int64_t model_max_length) {
  write_text_file(dir + "/tokenizer.json", tokenizer_json_text(tok));
  write_text_file(dir + "/tokenizer_config.json", tokenizer_config_text(tok, model_max_length));
  write_text_file(dir + "/special_tokens_map.json", special_tokens_map_text(tok));
}

}  // namespace tsft
