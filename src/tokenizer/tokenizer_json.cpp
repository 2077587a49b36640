// Loads a Hugging Face tokenizer.json (byte-level BPE only) and the bos/eos/pad tokens and chat
// template of a sibling tokenizer_config.json. Anything we would tokenize differently from HF
// is rejected with the file and the JSON field named, never silently approximated.
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

void check_byte_level(const Reader& r, const json& bl, const std::string& field) {
  if (r.flag(bl, "add_prefix_space", false, field)) {
    r.bad(field + ".add_prefix_space", "is true; only add_prefix_space=false is supported");
  }
  if (!r.flag(bl, "use_regex", true, field)) {
    r.bad(field + ".use_regex", "is false; only use_regex=true (the GPT-2 split) is supported");
  }
}

PreTokenizerKind parse_pre_tokenizer(const Reader& r, const json& pt) {
  const std::string field = "pre_tokenizer";
  if (pt.is_null()) r.bad(field, "is null; a byte-level BPE needs the ByteLevel pre-tokenizer");
  const std::string type = r.type_of(pt, field);
  if (type == "ByteLevel") {
    check_byte_level(r, pt, field);
    return PreTokenizerKind::kGpt2;
  }
  if (type != "Sequence") {
    r.bad(field + ".type", "is '" + type + "'; supported: ByteLevel, Sequence[Digits, ByteLevel]");
  }
  const json& list = r.member(pt, "pretokenizers", field);
  if (!list.is_array()) r.bad(field + ".pretokenizers", "must be an array");
  std::vector<std::string> types;
  for (size_t i = 0; i < list.size(); ++i) {
    const std::string f = field + ".pretokenizers[" + std::to_string(i) + "]";
    types.push_back(r.type_of(list[i], f));
    if (types.back() == "ByteLevel") check_byte_level(r, list[i], f);
    if (types.back() == "Digits" && !r.flag(list[i], "individual_digits", false, f)) {
      r.bad(f + ".individual_digits", "is false; only individual_digits=true is supported");
    }
  }
  if (types == std::vector<std::string>{"ByteLevel"}) return PreTokenizerKind::kGpt2;
  if (types == std::vector<std::string>{"Digits", "ByteLevel"}) return PreTokenizerKind::kSmolLM2;
  std::string got;
  for (const auto& t : types) got += (got.empty() ? "" : ", ") + t;
  r.bad(field + ".pretokenizers", "is [" + got + "]; supported: [ByteLevel], [Digits, ByteLevel]");
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

  if (auto it = root.find("normalizer"); it != root.end() && !it->is_null()) {
    const std::string type = r.type_of(*it, "normalizer");
    bool empty_sequence = type == "Sequence" && it->contains("normalizers") &&
                          (*it)["normalizers"].is_array() && (*it)["normalizers"].empty();
    if (!empty_sequence)
      r.bad("normalizer.type", "is '" + type + "'; only no normalizer is supported");
  }
  spec.pre =
      parse_pre_tokenizer(r, root.contains("pre_tokenizer") ? root["pre_tokenizer"] : json());

  if (auto it = root.find("decoder"); it == root.end() || it->is_null()) {
    r.bad("decoder", "is missing; a byte-level BPE needs the ByteLevel decoder");
  } else if (std::string type = r.type_of(*it, "decoder"); type != "ByteLevel") {
    r.bad("decoder.type", "is '" + type + "'; only ByteLevel is supported");
  }
  if (auto it = root.find("post_processor"); it != root.end() && !it->is_null()) {
    // encode() never adds special tokens, so processors that only add them are harmless.
    const std::string type = r.type_of(*it, "post_processor");
    if (type != "ByteLevel" && type != "TemplateProcessing") {
      r.bad("post_processor.type", "is '" + type + "'; supported: ByteLevel, TemplateProcessing");
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
  if (r.flag(model, "byte_fallback", false, "model")) {
    r.bad("model.byte_fallback",
          "is true; byte fallback (SentencePiece-style BPE) is not supported");
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

  const std::filesystem::path cfg =
      std::filesystem::path(path).parent_path() / "tokenizer_config.json";
  if (std::filesystem::exists(cfg)) read_config(cfg.string(), spec);
  return Tokenizer(std::move(spec));
}

}  // namespace tsft
