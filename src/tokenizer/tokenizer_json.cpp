// Loads a Hugging Face tokenizer.json (byte-level or SentencePiece-style BPE) and the bos/eos/pad tokens and chat
// template of a sibling tokenizer_config.json. Anything we would tokenize differently from HF
// is rejected with the file and the JSON field named, never silently approximated.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/error.h"
#include "tokenizer/tokenizer.h"

namespace tsft {
namespace {

using nlohmann::json;

json read_json(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(path, ": cannot open file");
  std::stringstream ss;
  ss << in.rdbuf();
  try {
    return json::parse(ss.str());
  } catch (const json::parse_error& e) {
    fail(path, ": not valid JSON: ", e.what());
  }
}

// Helpers that name the file and the field in every complaint.
struct Reader {
  std::string path;

  [[noreturn]] void bad(const std::string& field, const std::string& why) const {
    fail(path, ": field '", field, "' ", why);
  }
  const json& object(const json& j, const std::string& field) const {
    if (!j.is_object()) bad(field, "must be an object");
    return j;
  }
  const json& member(const json& obj, const char* key, const std::string& field) const {
    auto it = obj.find(key);
    if (it == obj.end()) bad(field + "." + key, "is missing");
    return *it;
  }
  std::string string(const json& j, const std::string& field) const {
    if (!j.is_string()) bad(field, "must be a string");
    return j.get<std::string>();
  }
  bool flag(const json& obj, const char* key, bool def, const std::string& field) const {
    auto it = obj.find(key);
    if (it == obj.end() || it->is_null()) return def;
    if (!it->is_boolean()) bad(field + "." + key, "must be true or false");
    return it->get<bool>();
  }
  std::string type_of(const json& obj, const std::string& field) const {
    return string(member(object(obj, field), "type", field), field + ".type");
  }
};

void check_byte_level(const Reader& r, const json& bl, const std::string& field,
                      bool use_regex) {
  if (r.flag(bl, "add_prefix_space", false, field)) {
    r.bad(field + ".add_prefix_space", "is true; only add_prefix_space=false is supported");
  }
  if (r.flag(bl, "use_regex", true, field) != use_regex) {
    r.bad(field + ".use_regex", use_regex ? "is false; only use_regex=true (the GPT-2 split) is "
                                            "supported here"
                                          : "is true; after a Split it must be false");
  }
}

// The Split regexes we have scanners for, exactly as the models' tokenizer.json files have them.
constexpr const char* kQwen2Regex =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
constexpr const char* kLlama3Regex =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";

PreTokenizerKind parse_split(const Reader& r, const json& sp, const std::string& field) {
  const json& pattern = r.object(r.member(sp, "pattern", field), field + ".pattern");
  auto it = pattern.find("Regex");
  if (it == pattern.end()) r.bad(field + ".pattern", "must be a Regex (a String split is not supported)");
  const std::string re = r.string(*it, field + ".pattern.Regex");
  const std::string behavior = r.string(r.member(sp, "behavior", field), field + ".behavior");
  if (behavior != "Isolated") r.bad(field + ".behavior", "is '" + behavior + "'; only Isolated is supported");
  if (r.flag(sp, "invert", false, field)) r.bad(field + ".invert", "is true; only false is supported");
  if (re == kQwen2Regex) return PreTokenizerKind::kQwen2;
  if (re == kLlama3Regex) return PreTokenizerKind::kLlama3;
  r.bad(field + ".pattern.Regex",
        "is an unknown regex; supported: the Qwen2 and Llama 3 split regexes (got '" + re + "')");
}

PreTokenizerKind parse_pre_tokenizer(const Reader& r, const json& pt) {
  const std::string field = "pre_tokenizer";
  if (pt.is_null()) r.bad(field, "is null; a byte-level BPE needs the ByteLevel pre-tokenizer");
  const std::string type = r.type_of(pt, field);
  if (type == "ByteLevel") {
    check_byte_level(r, pt, field, true);
    return PreTokenizerKind::kGpt2;
  }
  if (type != "Sequence") {
    r.bad(field + ".type", "is '" + type +
                               "'; supported: ByteLevel, Sequence[Digits, ByteLevel], "
                               "Sequence[Split, ByteLevel]");
  }
  const json& list = r.member(pt, "pretokenizers", field);
  if (!list.is_array()) r.bad(field + ".pretokenizers", "must be an array");
  std::vector<std::string> types;
  for (size_t i = 0; i < list.size(); ++i) types.push_back(r.type_of(list[i], field + ".pretokenizers[" + std::to_string(i) + "]"));
  auto f = [&](size_t i) { return field + ".pretokenizers[" + std::to_string(i) + "]"; };
  if (types == std::vector<std::string>{"ByteLevel"}) {
    check_byte_level(r, list[0], f(0), true);
    return PreTokenizerKind::kGpt2;
  }
  if (types == std::vector<std::string>{"Digits", "ByteLevel"}) {
    if (!r.flag(list[0], "individual_digits", false, f(0)))
      r.bad(f(0) + ".individual_digits", "is false; only individual_digits=true is supported");
    check_byte_level(r, list[1], f(1), true);
    return PreTokenizerKind::kSmolLM2;
  }
  if (types == std::vector<std::string>{"Split", "ByteLevel"}) {
    PreTokenizerKind kind = parse_split(r, list[0], f(0));
    check_byte_level(r, list[1], f(1), false);
    return kind;
  }
  std::string got;
  for (const auto& t : types) got += (got.empty() ? "" : ", ") + t;
  r.bad(field + ".pretokenizers",
        "is [" + got + "]; supported: [ByteLevel], [Digits, ByteLevel], [Split, ByteLevel]");
}

const std::string kSpmSpace = "\xE2\x96\x81";  // U+2581 '▁'

// A Replace normalizer/decoder must be exactly Replace(String from, to).
void check_replace(const Reader& r, const json& j, const std::string& field,
                   const std::string& from, const std::string& to) {
  const json& pattern = r.object(r.member(j, "pattern", field), field + ".pattern");
  auto it = pattern.find("String");
  const bool ok = it != pattern.end() && it->is_string() && it->get<std::string>() == from &&
                  r.string(r.member(j, "content", field), field + ".content") == to;
  if (!ok) r.bad(field, "must be Replace(\"" + from + "\", \"" + to + "\")");
}

// SentencePiece-style pipeline: normalizer Prepend/Replace, pre_tokenizer null or Metaspace,
// decoder Sequence[Replace("▁", " "), ByteFallback, Fuse, Strip(" ", n, 0)].
void parse_spm_pipeline(const Reader& r, const json& root, SentencePieceOptions& o) {
  if (auto it = root.find("normalizer"); it != root.end() && !it->is_null()) {
    std::vector<std::pair<const json*, std::string>> steps;
    if (r.type_of(*it, "normalizer") == "Sequence") {
      const json& list = r.member(*it, "normalizers", "normalizer");
      if (!list.is_array()) r.bad("normalizer.normalizers", "must be an array");
      for (size_t i = 0; i < list.size(); ++i)
        steps.emplace_back(&list[i], "normalizer.normalizers[" + std::to_string(i) + "]");
    } else {
      steps.emplace_back(&*it, "normalizer");
    }
    // Prepend then Replace, or Replace then Prepend: the same text either way.
    for (const auto& [step, f] : steps) {
      const std::string type = r.type_of(*step, f);
      if (type == "Prepend" && !o.prepend) {
        if (r.string(r.member(*step, "prepend", f), f + ".prepend") != kSpmSpace)
          r.bad(f + ".prepend", "must be \"\u2581\"");
        o.prepend = true;
      } else if (type == "Replace" && !o.replace_spaces) {
        check_replace(r, *step, f, " ", kSpmSpace);
        o.replace_spaces = true;
      } else {
        r.bad(f + ".type", "is '" + type +
                               "'; a SentencePiece-style tokenizer supports only Prepend(\"\u2581\") "
                               "and Replace(\" \", \"\u2581\") normalizers");
      }
    }
  }
  if (auto it = root.find("pre_tokenizer"); it != root.end() && !it->is_null()) {
    const std::string f = "pre_tokenizer";
    const std::string type = r.type_of(*it, f);
    if (type != "Metaspace")
      r.bad(f + ".type", "is '" + type + "'; a SentencePiece-style tokenizer supports only "
                                         "Metaspace or none");
    if (r.string(r.member(*it, "replacement", f), f + ".replacement") != kSpmSpace)
      r.bad(f + ".replacement", "must be \"\u2581\"");
    o.metaspace = true;
    if (auto ps = it->find("prepend_scheme"); ps != it->end() && !ps->is_null()) {
      const std::string scheme = r.string(*ps, f + ".prepend_scheme");
      if (scheme == "first") o.prepend_scheme = PrependScheme::kFirst;
      else if (scheme == "always") o.prepend_scheme = PrependScheme::kAlways;
      else if (scheme == "never") o.prepend_scheme = PrependScheme::kNever;
      else r.bad(f + ".prepend_scheme", "is '" + scheme + "'; expected first, always or never");
    } else {
      // Files from before prepend_scheme: add_prefix_space true means "always".
      o.prepend_scheme = r.flag(*it, "add_prefix_space", true, f) ? PrependScheme::kAlways
                                                                   : PrependScheme::kNever;
    }
    o.split = r.flag(*it, "split", true, f);
  }
  const std::string f = "decoder";
  auto it = root.find("decoder");
  if (it == root.end() || it->is_null()) r.bad(f, "is missing");
  if (r.type_of(*it, f) != "Sequence")
    r.bad(f + ".type", "is '" + r.type_of(*it, f) +
                           "'; a SentencePiece-style tokenizer needs Sequence[Replace(\"\u2581\", "
                           "\" \"), ByteFallback, Fuse, Strip]");
  const json& list = r.member(*it, "decoders", f);
  if (!list.is_array()) r.bad(f + ".decoders", "must be an array");
  std::vector<std::string> types;
  for (size_t i = 0; i < list.size(); ++i)
    types.push_back(r.type_of(list[i], f + ".decoders[" + std::to_string(i) + "]"));
  const std::vector<std::string> want = {"Replace", "ByteFallback", "Fuse"};
  if (types.size() < 3 || types.size() > 4 || !std::equal(want.begin(), want.end(), types.begin()) ||
      (types.size() == 4 && types[3] != "Strip")) {
    std::string got;
    for (const auto& t : types) got += (got.empty() ? "" : ", ") + t;
    r.bad(f + ".decoders", "is [" + got + "]; supported: [Replace, ByteFallback, Fuse, Strip]");
  }
  check_replace(r, list[0], f + ".decoders[0]", kSpmSpace, " ");
  o.strip_start = 0;
  if (types.size() == 4) {
    const json& st = list[3];
    const std::string sf = f + ".decoders[3]";
    const json& start = r.member(st, "start", sf);
    const json& stop = r.member(st, "stop", sf);
    if (r.string(r.member(st, "content", sf), sf + ".content") != " " ||
        !start.is_number_unsigned() || !stop.is_number_unsigned() || stop.get<int64_t>() != 0 ||
        start.get<int64_t>() > 1000)
      r.bad(sf, "must be Strip(content \" \", start n, stop 0)");
    o.strip_start = start.get<int>();
  }
}

// A token named in tokenizer_config.json: a string, an AddedToken object, or null.
std::optional<std::string> config_token(const Reader& r, const json& cfg, const char* key) {
  auto it = cfg.find(key);
  if (it == cfg.end() || it->is_null()) return std::nullopt;
  if (it->is_string()) return it->get<std::string>();
  if (it->is_object())
    return r.string(r.member(*it, "content", key), std::string(key) + ".content");
  r.bad(key, "must be a string, an object with 'content', or null");
}

void read_config(const std::string& path, TokenizerSpec& spec) {
  Reader r{path};
  const json cfg = read_json(path);
  r.object(cfg, "(root)");
  auto find_id = [&](const char* key) -> int32_t {
    auto tok = config_token(r, cfg, key);
    if (!tok) return -1;
    for (const AddedToken& t : spec.added) {
      if (t.content == *tok) return t.id;
    }
    for (size_t i = 0; i < spec.vocab.size(); ++i) {
      if (spec.vocab[i] == *tok) return static_cast<int32_t>(i);
    }
    r.bad(key, "names '" + *tok + "', which is not a token of the tokenizer");
  };
  spec.bos_id = find_id("bos_token");
  spec.eos_id = find_id("eos_token");
  spec.pad_id = find_id("pad_token");
  spec.add_bos = r.flag(cfg, "add_bos_token", false, "(root)");
  if (auto it = cfg.find("chat_template"); it != cfg.end() && !it->is_null()) {
    if (it->is_string()) {
      spec.chat_template = it->get<std::string>();
    } else if (it->is_array()) {
      // Several named templates: take "default", as transformers does.
      for (const json& t : *it) {
        if (t.is_object() && t.value("name", "") == "default")
          spec.chat_template = t.value("template", "");
      }
      if (spec.chat_template.empty()) r.bad("chat_template", "is a list without a 'default' entry");
    } else {
      r.bad("chat_template", "must be a string or a list of {name, template}");
    }
  }
}

}  // namespace

Tokenizer Tokenizer::from_json_file(const std::string& path) {
  Reader r{path};
  const json root = read_json(path);
  r.object(root, "(root)");
  TokenizerSpec spec;
  spec.source = path;

  // A Sequence decoder means a SentencePiece-style pipeline (byte-level ones use ByteLevel).
  const auto dec = root.find("decoder");
  const bool spm = dec != root.end() && dec->is_object() && dec->contains("type") &&
                   (*dec)["type"] == "Sequence";
  if (spm) {
    spec.model = ModelKind::kSentencePieceBpe;
    parse_spm_pipeline(r, root, spec.spm);
  } else {
    if (auto it = root.find("normalizer"); it != root.end() && !it->is_null()) {
      const std::string type = r.type_of(*it, "normalizer");
      const json* one = &*it;
      std::string f = "normalizer";
      if (type == "Sequence" && it->contains("normalizers") && (*it)["normalizers"].is_array() &&
          (*it)["normalizers"].size() <= 1) {
        one = (*it)["normalizers"].empty() ? nullptr : &(*it)["normalizers"][0];
        f = "normalizer.normalizers[0]";
      }
      if (one) {
        const std::string t = r.type_of(*one, f);
        if (t != "NFC")
          r.bad(f + ".type", "is '" + t + "'; a byte-level tokenizer supports only NFC or none");
        spec.nfc = true;
      }
    }
    spec.pre =
        parse_pre_tokenizer(r, root.contains("pre_tokenizer") ? root["pre_tokenizer"] : json());
    if (dec == root.end() || dec->is_null()) {
      r.bad("decoder", "is missing; a byte-level BPE needs the ByteLevel decoder");
    } else if (std::string type = r.type_of(*dec, "decoder"); type != "ByteLevel") {
      r.bad("decoder.type", "is '" + type + "'; only ByteLevel is supported");
    }
  }
  if (auto it = root.find("post_processor"); it != root.end() && !it->is_null()) {
    // encode() never adds special tokens, so processors that only add them are harmless.
    auto check = [&](const json& p, const std::string& f) {
      const std::string type = r.type_of(p, f);
      if (type != "ByteLevel" && type != "TemplateProcessing")
        r.bad(f + ".type", "is '" + type + "'; supported: ByteLevel, TemplateProcessing");
    };
    if (r.type_of(*it, "post_processor") == "Sequence") {
      const json& list = r.member(*it, "processors", "post_processor");
      if (!list.is_array()) r.bad("post_processor.processors", "must be an array");
      for (size_t i = 0; i < list.size(); ++i)
        check(list[i], "post_processor.processors[" + std::to_string(i) + "]");
    } else {
      check(*it, "post_processor");
    }
  }

  const json& model = r.object(r.member(root, "model", "(root)"), "model");
  if (auto it = model.find("type"); it != model.end() && r.string(*it, "model.type") != "BPE") {
    r.bad("model.type", "is '" + it->get<std::string>() + "'; only BPE is supported");
  }
  if (auto it = model.find("dropout");
      it != model.end() && !it->is_null() && !(it->is_number() && it->get<double>() == 0.0)) {
    r.bad("model.dropout", "is set; BPE dropout is not supported");
  }
  for (const char* key : {"continuing_subword_prefix", "end_of_word_suffix"}) {
    if (auto it = model.find(key);
        it != model.end() && !it->is_null() && r.string(*it, std::string("model.") + key) != "") {
      r.bad(std::string("model.") + key,
            "is set; only byte-level BPE without affixes is supported");
    }
  }
  spec.byte_fallback = r.flag(model, "byte_fallback", false, "model");
  if (spec.byte_fallback && !spm) {
    r.bad("model.byte_fallback",
          "is true with a ByteLevel decoder; byte fallback needs the SentencePiece-style "
          "decoder Sequence[Replace, ByteFallback, Fuse, Strip]");
  }
  spec.fuse_unk = r.flag(model, "fuse_unk", false, "model");
  spec.ignore_merges = r.flag(model, "ignore_merges", false, "model");

  const json& vocab = r.member(model, "vocab", "model");
  if (!vocab.is_object()) r.bad("model.vocab", "must be an object of token -> id");
  spec.vocab.resize(vocab.size());
  std::vector<uint8_t> seen(vocab.size(), 0);
  for (auto it = vocab.begin(); it != vocab.end(); ++it) {
    if (!it.value().is_number_integer())
      r.bad("model.vocab[\"" + it.key() + "\"]", "must be an integer id");
    const int64_t id = it.value().get<int64_t>();
    if (id < 0 || id >= static_cast<int64_t>(vocab.size()) || seen[id]) {
      r.bad("model.vocab[\"" + it.key() + "\"]",
            "has id " + std::to_string(id) + "; ids must be 0..size-1, each used once");
    }
    seen[id] = 1;
    spec.vocab[id] = it.key();
  }

  const json& merges = r.member(model, "merges", "model");
  if (!merges.is_array()) r.bad("model.merges", "must be an array");
  spec.merges.reserve(merges.size());
  for (size_t i = 0; i < merges.size(); ++i) {
    const json& m = merges[i];
    const std::string f = "model.merges[" + std::to_string(i) + "]";
    if (m.is_string()) {  // legacy "a b" form: split at the first space, as HF does
      const std::string s = m.get<std::string>();
      size_t sp = s.find(' ');
      if (sp == std::string::npos) r.bad(f, "is '" + s + "', not 'a b'");
      spec.merges.emplace_back(s.substr(0, sp), s.substr(sp + 1));
    } else if (m.is_array() && m.size() == 2 && m[0].is_string() && m[1].is_string()) {
      spec.merges.emplace_back(m[0].get<std::string>(), m[1].get<std::string>());
    } else {
      r.bad(f, "must be a string 'a b' or a pair [a, b]");
    }
  }

  if (auto it = model.find("unk_token"); it != model.end() && !it->is_null()) {
    const std::string unk = r.string(*it, "model.unk_token");
    auto v = vocab.find(unk);
    if (v == vocab.end())
      r.bad("model.unk_token", "names '" + unk + "', which is not in model.vocab");
    spec.unk_id = v->get<int32_t>();
  }

  if (auto it = root.find("added_tokens"); it != root.end() && !it->is_null()) {
    if (!it->is_array()) r.bad("added_tokens", "must be an array");
    for (size_t i = 0; i < it->size(); ++i) {
      const std::string f = "added_tokens[" + std::to_string(i) + "]";
      const json& t = r.object((*it)[i], f);
      AddedToken a;
      const json& id = r.member(t, "id", f);
      if (!id.is_number_integer() || id.get<int64_t>() < 0 || id.get<int64_t>() > INT32_MAX) {
        r.bad(f + ".id", "must be a non-negative integer");
      }
      a.id = id.get<int32_t>();
      a.content = r.string(r.member(t, "content", f), f + ".content");
      a.special = r.flag(t, "special", false, f);
      a.lstrip = r.flag(t, "lstrip", false, f);
      a.rstrip = r.flag(t, "rstrip", false, f);
      a.single_word = r.flag(t, "single_word", false, f);
      a.normalized = r.flag(t, "normalized", !a.special, f);
      spec.added.push_back(std::move(a));
    }
  }

  if ((spm && (spec.spm.prepend || spec.spm.replace_spaces)) || spec.nfc) {
    // HF matches normalized=true added tokens on the normalized text, after Prepend: we match
    // them on the raw text, which differs, so refuse rather than guess.
    for (size_t i = 0; i < spec.added.size(); ++i) {
      if (spec.added[i].normalized)
        r.bad("added_tokens[" + std::to_string(i) + "].normalized",
              "is true; with a normalizer only normalized=false added tokens are supported");
    }
  }

  const std::filesystem::path cfg =
      std::filesystem::path(path).parent_path() / "tokenizer_config.json";
  if (std::filesystem::exists(cfg)) read_config(cfg.string(), spec);
  return Tokenizer(std::move(spec));
}

}  // namespace tsft
