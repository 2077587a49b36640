// Exports that the rest of the ecosystem loads: tokenizer.json round trips, Hugging Face model
// directories, PEFT LoRA adapters (written and read) and merging an adapter into its base.
// PEFT goldens (tests/data/train/peft_*) come from tools/make_peft_goldens.py.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "core/error.h"
#include "export/hf_export.h"
#include "export/merge.h"
#include "io/peft_adapter.h"
#include "export/tokenizer_export.h"
#include "io/gguf.h"
#include "io/hf_config.h"
#include "io/model_loader.h"
#include "io/safetensors.h"
#include "io/safetensors_writer.h"
#include "tokenizer/tokenizer.h"

#include "test_util.h"

namespace tsft {
namespace {

namespace fs = std::filesystem;
const std::string kData = TSFT_TEST_DATA_DIR;
const std::string kGguf = tsft::testing::default_model_path();

// A fresh empty directory under the system temp dir, removed at the end of the test; with
// TSFT_EXPORT_KEEP=DIR set it is DIR/name and kept (to check the files with transformers).
class TempDir {
 public:
  explicit TempDir(const std::string& name) {
    const char* keep = std::getenv("TSFT_EXPORT_KEEP");
    keep_ = keep != nullptr && *keep != '\0';
    path_ = keep_ ? std::string(keep) + "/" + name
                  : (fs::temp_directory_path() /
                     ("tsft_export_" + name + "_" + std::to_string(::getpid())))
                        .string();
    fs::remove_all(path_);
    fs::create_directories(path_);
  }
  ~TempDir() {
    if (!keep_) fs::remove_all(path_);
  }
  const std::string& path() const { return path_; }
  std::string operator/(const std::string& f) const { return path_ + "/" + f; }

 private:
  std::string path_;
  bool keep_ = false;
};

nlohmann::json read_json(const std::string& path) {
  std::ifstream in(path);
  EXPECT_TRUE(in) << "cannot open " << path;
  return nlohmann::json::parse(in);
}

std::vector<std::string> tricky_texts(const Tokenizer& tok) {
  std::vector<std::string> texts = {
      "Hello, world!",
      "1234567890 and 3.14159, 2026-11-21",
      "  leading and trailing spaces  ",
      "tabs\tand\nnewlines\n\n\r\n  indented\n",
      "Zürich straße façade naïve coöperate",
      "Cafe\xCC\x81 (decomposed) vs Caf\xC3\xA9",
      "Привет, как дела? 你好，世界！ 안녕하세요 🤖🚀",
      "I'm here; you're there. It's fine, isn't it? WE'LL SEE",
      "def f(x):\n    return x**2  # comment\n",
      "{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\"}}",
      "",
      " ",
  };
  // Every added token, alone and inside text.
  for (const AddedToken& t : tok.spec().added) {
    texts.push_back(t.content);
    texts.push_back("a " + t.content + " b" + t.content + "\n" + t.content + "1");
  }
  return texts;
}

// Exports `tok`, reloads it with from_json_file and checks ids, specials and template agree.
void expect_round_trip(const Tokenizer& tok, const std::string& name,
                       const std::vector<std::string>& extra_texts = {}) {
  TempDir dir("tok_" + name);
  write_tokenizer_files(dir.path(), tok, 2048);
  const Tokenizer back = Tokenizer::from_json_file(dir / "tokenizer.json");
  EXPECT_EQ(back.vocab_size(), tok.vocab_size()) << name;
  EXPECT_EQ(back.bos_id(), tok.bos_id()) << name;
  EXPECT_EQ(back.eos_id(), tok.eos_id()) << name;
  EXPECT_EQ(back.pad_id(), tok.pad_id()) << name;
  EXPECT_EQ(back.add_bos(), tok.add_bos()) << name;
  EXPECT_EQ(back.chat_template(), tok.chat_template()) << name;
  EXPECT_EQ(back.spec().pre, tok.spec().pre) << name;
  EXPECT_EQ(back.spec().model, tok.spec().model) << name;
  EXPECT_EQ(back.spec().ignore_merges, tok.spec().ignore_merges) << name;
  EXPECT_EQ(back.spec().nfc, tok.spec().nfc) << name;
  std::vector<std::string> texts = tricky_texts(tok);
  texts.insert(texts.end(), extra_texts.begin(), extra_texts.end());
  int bad = 0;
  for (const std::string& t : texts) {
    for (bool parse_special : {true, false}) {
      const auto a = tok.encode(t, parse_special), b = back.encode(t, parse_special);
      if (a != b && ++bad <= 5)
        ADD_FAILURE() << name << ": ids differ for '" << t << "' parse_special=" << parse_special;
    }
    const auto ids = tok.encode(t);
    EXPECT_EQ(back.decode(ids), tok.decode(ids)) << name << ": " << t;
  }
  EXPECT_EQ(bad, 0) << name << " of " << texts.size() << " texts";
  const auto cfg = read_json(dir / "tokenizer_config.json");
  EXPECT_EQ(cfg["model_max_length"], 2048);
  EXPECT_EQ(cfg["added_tokens_decoder"].size(), tok.spec().added.size());
  EXPECT_TRUE(fs::exists(dir / "special_tokens_map.json"));
}

std::vector<std::string> golden_texts(const std::string& path) {
  std::vector<std::string> out;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line))
    out.push_back(nlohmann::json::parse(line)["text"].get<std::string>());
  return out;
}

TEST(TokenizerExport, SmolLM2FromGguf) {
  if (!fs::exists(kGguf))
    GTEST_SKIP() << kGguf << " is missing (scripts/fetch_model.sh fetches it)";
  GgufFile g(kGguf);
  const Tokenizer tok = Tokenizer::from_gguf(g);
  ASSERT_FALSE(tok.chat_template().empty());
  expect_round_trip(tok, "smollm2_gguf", golden_texts(kData + "/tokenizer_golden.jsonl"));
}

TEST(TokenizerExport, SmolLM2FromJson) {
  const Tokenizer tok = Tokenizer::from_json_file(kData + "/smollm2/tokenizer.json");
  expect_round_trip(tok, "smollm2_json", golden_texts(kData + "/tokenizer_golden.jsonl"));
}

TEST(TokenizerExport, SmallGpt2WithStrippedAddedTokens) {
  const Tokenizer tok = Tokenizer::from_json_file(kData + "/tokenizer_small/tokenizer.json");
  expect_round_trip(tok, "small", golden_texts(kData + "/tokenizer_small_golden.jsonl"));
}

// Every family in tests/data/tokenizers: the exported file must give HF's golden ids.
TEST(TokenizerExport, Families) {
  for (const char* kind : {"qwen2", "qwen2_nfc", "llama3", "spm", "spm_metaspace", "spm_gguf"}) {
    SCOPED_TRACE(kind);
    const std::string dir = kData + "/tokenizers/" + kind;
    Tokenizer tok = [&] {
      if (fs::exists(dir + "/tokenizer.gguf")) {
        GgufFile f(dir + "/tokenizer.gguf");
        return Tokenizer::from_gguf(f);
      }
      return Tokenizer::from_json_file(dir + "/tokenizer.json");
    }();
    expect_round_trip(tok, kind, golden_texts(dir + "/golden.jsonl"));
  }
}

TEST(TokenizerExport, AddBosWritesTemplateProcessing) {
  TokenizerSpec s = Tokenizer::from_json_file(kData + "/tokenizers/llama3/tokenizer.json").spec();
  s.add_bos = true;
  s.bos_id = 0;
  const Tokenizer tok(std::move(s));
  TempDir dir("tok_bos");
  write_tokenizer_files(dir.path(), tok, 128);
  const auto j = read_json(dir / "tokenizer.json");
  ASSERT_EQ(j["post_processor"]["type"], "Sequence");
  EXPECT_EQ(j["post_processor"]["processors"][1]["type"], "TemplateProcessing");
  EXPECT_EQ(j["post_processor"]["processors"][1]["special_tokens"]["<|begin_of_text|>"]["ids"][0],
            0);
  EXPECT_TRUE(Tokenizer::from_json_file(dir / "tokenizer.json").add_bos());
}

TEST(TokenizerExport, NewSpecialTokensBeyondTheVocabulary) {
  const Tokenizer base = Tokenizer::from_json_file(kData + "/smollm2/tokenizer.json");
  const Tokenizer tok = base.with_special_tokens({"<my_tool_selection>", "<|im_end|>"});
  ASSERT_EQ(tok.vocab_size(), base.vocab_size() + 1);
  expect_round_trip(tok, "grown", {"call <my_tool_selection>get_weather<|im_end|>"});
}

TEST(TokenizerExport, DuplicateVocabularyEntryIsAnError) {
  TokenizerSpec s = Tokenizer::from_json_file(kData + "/tokenizer_small/tokenizer.json").spec();
  s.vocab.push_back(s.vocab[5]);
  const Tokenizer tok(std::move(s));
  try {
    tokenizer_json_text(tok);
    ADD_FAILURE() << "expected a tsft::Error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("appears twice"), std::string::npos) << e.what();
  }
}

// ---- Hugging Face model directories ----

std::vector<float> all_logits(Transformer& m, const std::vector<int32_t>& ids) {
  const int64_t T = static_cast<int64_t>(ids.size());
  std::vector<float> out(static_cast<size_t>(T * m.config().vocab));
  KvCache cache = m.make_cache(T);
  m.forward(ids.data(), T, cache, out.data(), T);
  return out;
}

float max_abs_diff(const std::vector<float>& a, const float* b) {
  float d = 0.0f;
  for (size_t i = 0; i < a.size(); ++i) d = std::max(d, std::fabs(a[i] - b[i]));
  return d;
}

void expect_same_config(const ModelConfig& a, const ModelConfig& b, const std::string& name) {
  EXPECT_EQ(a.arch, b.arch) << name;
  EXPECT_EQ(a.hidden, b.hidden) << name;
  EXPECT_EQ(a.n_layers, b.n_layers) << name;
  EXPECT_EQ(a.n_heads, b.n_heads) << name;
  EXPECT_EQ(a.n_kv_heads, b.n_kv_heads) << name;
  EXPECT_EQ(a.head_dim, b.head_dim) << name;
  EXPECT_EQ(a.intermediate, b.intermediate) << name;
  EXPECT_EQ(a.vocab, b.vocab) << name;
  EXPECT_EQ(a.max_positions, b.max_positions) << name;
  EXPECT_EQ(a.rms_eps, b.rms_eps) << name;
  EXPECT_EQ(a.rope_theta, b.rope_theta) << name;
  EXPECT_EQ(a.rope_scaling.type, b.rope_scaling.type) << name;
  EXPECT_EQ(a.rope_scaling.factor, b.rope_scaling.factor) << name;
  EXPECT_EQ(a.rope_scaling.low_freq_factor, b.rope_scaling.low_freq_factor) << name;
  EXPECT_EQ(a.rope_scaling.high_freq_factor, b.rope_scaling.high_freq_factor) << name;
  EXPECT_EQ(a.rope_scaling.original_max_position, b.rope_scaling.original_max_position) << name;
  EXPECT_EQ(a.tie_embeddings, b.tie_embeddings) << name;
  EXPECT_EQ(a.qkv_bias, b.qkv_bias) << name;
  EXPECT_EQ(a.qk_norm, b.qk_norm) << name;
  EXPECT_EQ(a.bos_id, b.bos_id) << name;
  EXPECT_EQ(a.eos_ids, b.eos_ids) << name;
}

// Every tiny architecture: write, reload with our loader, same config and bitwise-same logits.
TEST(HfExport, TinyModelsRoundTrip) {
  for (const char* arch : {"llama", "llama_untied", "llama3_rope", "qwen2", "qwen3"}) {
    SCOPED_TRACE(arch);
    LoadedModel base = load_model(kData + "/tiny/" + arch, false);
    const ModelConfig& cfg = base.model->config();
    TempDir dir(std::string("hf_") + arch);
    const std::string out = dir / "model";
    write_hf_model(out, cfg, base.model->weights(), nullptr, &base.gen_defaults);
    EXPECT_FALSE(fs::exists(out + ".tmp-" + std::to_string(::getpid())));
    LoadedModel back = load_model(out, false);
    expect_same_config(cfg, back.model->config(), arch);
    SafetensorsFile st(out + "/model.safetensors");
    EXPECT_EQ(st.find("lm_head.weight") == nullptr, cfg.tie_embeddings);
    for (const auto& t : st.tensors()) EXPECT_EQ(t.dtype, DType::kF32) << t.name;
    const auto j = read_json(out + "/config.json");
    EXPECT_EQ(j["torch_dtype"], "float32");
    EXPECT_EQ(j["hidden_act"], "silu");
    const std::vector<int32_t> ids = {1, 5, 77, 3, 200, 42, 9, 255};
    EXPECT_EQ(all_logits(*back.model, ids), all_logits(*base.model, ids));
  }
}

// The default model (quantized GGUF) exported with its tokenizer: same logits from the float32
// weights, same token ids, chat template kept.
TEST(HfExport, SmolLM2FromGguf) {
  if (!fs::exists(kGguf))
    GTEST_SKIP() << kGguf << " is missing (scripts/fetch_model.sh fetches it)";
  LoadedModel base = load_model(kGguf);
  TempDir dir("hf_smollm2");
  const std::string out = dir / "model";
  write_hf_model(out, base.model->config(), base.model->weights(), base.tokenizer.get(),
                 &base.gen_defaults);
  for (const char* f : {"config.json", "model.safetensors", "generation_config.json",
                        "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"})
    EXPECT_TRUE(fs::exists(out + "/" + f)) << f;
  LoadedModel back = load_model(out);
  ASSERT_TRUE(back.tokenizer);
  expect_same_config(base.model->config(), back.model->config(), "smollm2");
  const std::string text = "<|im_start|>user\nWhat is 12*7?<|im_end|>\n";
  const auto ids = base.tokenizer->encode(text);
  EXPECT_EQ(back.tokenizer->encode(text), ids);
  EXPECT_EQ(back.tokenizer->chat_template(), base.tokenizer->chat_template());
  EXPECT_EQ(back.gen_defaults.eos_ids, base.gen_defaults.eos_ids);
  // The weights are the same numbers, but a prompt this short runs on the GGUF model's blocks
  // (matmul_quant) and on the export's float32 copy (sgemm): float32 summation order only.
  const auto a = all_logits(*back.model, ids), b = all_logits(*base.model, ids);
  ASSERT_EQ(a.size(), b.size());
  float d = 0.0f;
  for (size_t i = 0; i < a.size(); ++i) d = std::max(d, std::fabs(a[i] - b[i]));
  EXPECT_LE(d, 1e-3f);
  const auto cfg = read_json(out + "/tokenizer_config.json");
  EXPECT_EQ(cfg["eos_token"], "<|im_end|>");
  EXPECT_EQ(cfg["model_max_length"], base.model->config().max_positions);
}

TEST(HfExport, ReplacesAnExistingDirectoryAndRejectsAFile) {
  LoadedModel base = load_model(kData + "/tiny/llama", false);
  const ModelConfig& cfg = base.model->config();
  TempDir dir("hf_replace");
  const std::string out = dir / "model";
  fs::create_directories(out);
  std::ofstream(out + "/stale.txt") << "old";
  write_hf_model(out, cfg, base.model->weights(), nullptr, nullptr);
  EXPECT_FALSE(fs::exists(out + "/stale.txt"));
  EXPECT_TRUE(fs::exists(out + "/model.safetensors"));
  for (const auto& e : fs::directory_iterator(dir.path()))
    EXPECT_EQ(e.path().filename(), "model") << "left behind: " << e.path();
  std::ofstream(dir / "file") << "x";
  EXPECT_THROW(write_hf_model(dir / "file", cfg, base.model->weights(), nullptr, nullptr), Error);
  ModelConfig factors = cfg;
  factors.rope_scaling.type = RopeScaling::Type::kFactors;
  EXPECT_THROW(hf_config_text(factors), Error);
}

TEST(HfExport, ConfigTextReadsBack) {
  ModelConfig c = load_model(kData + "/tiny/llama3_rope", false).model->config();
  ASSERT_EQ(c.rope_scaling.type, RopeScaling::Type::kLlama3);
  expect_same_config(c, parse_hf_config_text(hf_config_text(c), "llama3"), "llama3");
  c.rope_scaling = RopeScaling{};
  c.rope_scaling.type = RopeScaling::Type::kLinear;
  c.rope_scaling.factor = 2.5f;
  c.eos_ids = {2, 7};
  expect_same_config(c, parse_hf_config_text(hf_config_text(c), "linear"), "linear");
  // Shortest decimal, as Python wrote it, not the float's binary expansion.
  EXPECT_NE(hf_config_text(c).find("\"rms_norm_eps\": 1e-05,"), std::string::npos)
      << hf_config_text(c);
}

// ---- PEFT adapters and merging ----

struct PeftGolden {
  std::string dir;
  std::string base;
};

// Goldens from tools/make_peft_goldens.py (real PEFT save_pretrained + logits).
std::optional<PeftGolden> peft_golden(const std::string& arch) {
  PeftGolden g{kData + "/train/peft_" + arch, kData + "/tiny/" + arch};
  for (const char* f : {"adapter_config.json", "adapter_model.safetensors", "logits.safetensors"})
    if (!fs::exists(g.dir + "/" + f)) return std::nullopt;
  return g;
}

void expect_same_lora(const LoraWeights& a, const LoraWeights& b) {
  ASSERT_EQ(a.layers.size(), b.layers.size());
  for (size_t l = 0; l < a.layers.size(); ++l)
    for (int t = 0; t < kNumLoraTargets; ++t) {
      const LoraPair &x = a.layers[l][t], &y = b.layers[l][t];
      ASSERT_EQ(x.enabled, y.enabled);
      if (!x.enabled) continue;
      ASSERT_TRUE(x.a.shape == y.a.shape && x.b.shape == y.b.shape);
      EXPECT_EQ(std::memcmp(x.a.data, y.a.data, x.a.nbytes()), 0) << l << " " << t;
      EXPECT_EQ(std::memcmp(x.b.data, y.b.data, x.b.nbytes()), 0) << l << " " << t;
    }
}

class PeftArch : public ::testing::TestWithParam<const char*> {};

// Reading PEFT's adapter and merging it gives PEFT's logits (PeftModel and merge_and_unload).
TEST_P(PeftArch, ReadMergeMatchesPeftLogits) {
  const auto g = peft_golden(GetParam());
  if (!g)
    GTEST_SKIP() << "tests/data/train/peft_" << GetParam()
                 << " not generated yet (tools/make_peft_goldens.py)";
  LoadedModel base = load_model(g->base, false);
  const ModelConfig cfg = base.model->config();
  const LoraWeights lora = read_peft_adapter(g->dir, cfg);
  EXPECT_EQ(lora.config.rank, 4);
  EXPECT_EQ(lora.config.alpha, 8.0f);
  ModelWeights w = copy_weights_f32(cfg, base.model->weights());
  merge_lora(w, cfg, lora);
  Transformer merged(cfg, std::move(w));
  SafetensorsFile golden(g->dir + "/logits.safetensors");
  const SafetensorsTensor* ids_t = golden.find("input_ids");
  ASSERT_NE(ids_t, nullptr);
  const int32_t* p = static_cast<const int32_t*>(ids_t->view().data);
  const std::vector<int32_t> ids(p, p + ids_t->shape.back());
  const auto logits = all_logits(merged, ids);
  for (const char* name : {"logits", "merged_logits"}) {
    const SafetensorsTensor* t = golden.find(name);
    ASSERT_NE(t, nullptr) << name;
    ASSERT_EQ(t->view().numel(), static_cast<int64_t>(logits.size())) << name;
    const float d = max_abs_diff(logits, t->view().f32());
    std::printf("%s %s: max |diff| %.3g\n", GetParam(), name, d);
    EXPECT_LT(d, 1e-4f) << name;
  }
  // Without the adapter the logits differ: the test would notice a merge that did nothing.
  const SafetensorsTensor* plain = golden.find("base_logits");
  if (plain) {
    EXPECT_GT(max_abs_diff(logits, plain->view().f32()), 1e-3f);
  }
}

// Writing what was read gives PEFT's key set and config fields, and reads back bitwise.
TEST_P(PeftArch, WriteMatchesPeftFormat) {
  const auto g = peft_golden(GetParam());
  if (!g)
    GTEST_SKIP() << "tests/data/train/peft_" << GetParam()
                 << " not generated yet (tools/make_peft_goldens.py)";
  const ModelConfig cfg = config_from_hf_dir(g->base);
  const LoraWeights lora = read_peft_adapter(g->dir, cfg);
  TempDir dir(std::string("peft_") + GetParam());
  const std::string out = dir / "adapter";
  const auto peft_cfg = read_json(g->dir + "/adapter_config.json");
  write_peft_adapter(out, lora, cfg, peft_cfg["base_model_name_or_path"].get<std::string>());

  std::set<std::string> peft_keys, our_keys;
  SafetensorsFile theirs(g->dir + "/adapter_model.safetensors");
  for (const auto& t : theirs.tensors()) peft_keys.insert(t.name);
  SafetensorsFile ours(out + "/adapter_model.safetensors");
  for (const auto& t : ours.tensors()) {
    our_keys.insert(t.name);
    EXPECT_EQ(t.dtype, DType::kF32) << t.name;
  }
  EXPECT_EQ(our_keys, peft_keys);

  const auto our_cfg = read_json(out + "/adapter_config.json");
  std::set<std::string> peft_fields, our_fields;
  for (auto it = peft_cfg.begin(); it != peft_cfg.end(); ++it)
    if (it.key() != "peft_version") peft_fields.insert(it.key());
  for (auto it = our_cfg.begin(); it != our_cfg.end(); ++it) our_fields.insert(it.key());
  EXPECT_EQ(our_fields, peft_fields);
  for (const std::string& f : peft_fields) EXPECT_EQ(our_cfg[f], peft_cfg[f]) << "field " << f;

  expect_same_lora(read_peft_adapter(out, cfg), lora);
}

INSTANTIATE_TEST_SUITE_P(Peft, PeftArch, ::testing::Values("llama", "qwen2"));

// A small adapter of our own for the error cases (no goldens needed).
LoraWeights small_adapter(const ModelConfig& cfg) {
  LoraConfig lc;
  lc.rank = 2;
  lc.alpha = 3.0f;
  lc.target_modules = {"q_proj", "down_proj"};
  Rng rng(7);
  LoraWeights w = LoraWeights::create(cfg, lc, rng);
  w.for_each([&](const std::string&, Tensor& t) {
    float* d = t.f32();
    for (int64_t i = 0; i < t.numel(); ++i) d[i] = static_cast<float>(rng.uniform() - 0.5);
  });
  return w;
}

void expect_error(const std::function<void()>& f, const std::string& needle) {
  try {
    f();
    ADD_FAILURE() << "expected a tsft::Error containing '" << needle << "'";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
  }
}

TEST(PeftAdapter, RoundTripAndErrors) {
  const ModelConfig cfg = config_from_hf_dir(kData + "/tiny/llama");
  const LoraWeights lora = small_adapter(cfg);
  TempDir dir("peft_errors");
  const std::string ok = dir / "ok";
  write_peft_adapter(ok, lora, cfg, "base");
  expect_same_lora(read_peft_adapter(ok, cfg), lora);
  const auto good_cfg = read_json(ok + "/adapter_config.json");
  EXPECT_EQ(good_cfg["lora_alpha"], 3);
  EXPECT_EQ(good_cfg["target_modules"], nlohmann::json::array({"down_proj", "q_proj"}));

  // A variant of the good adapter with one config field changed.
  auto with_field = [&](const std::string& name, const char* key, nlohmann::json value) {
    const std::string d = dir / name;
    fs::create_directories(d);
    fs::copy_file(ok + "/adapter_model.safetensors", d + "/adapter_model.safetensors",
                  fs::copy_options::overwrite_existing);
    auto c = good_cfg;
    c[key] = std::move(value);
    std::ofstream(d + "/adapter_config.json") << c.dump();
    return d;
  };
  const std::pair<const char*, nlohmann::json> bad_fields[] = {
      {"rank_pattern", {{"q_proj", 8}}},
      {"alpha_pattern", {{"q_proj", 8}}},
      {"fan_in_fan_out", true},
      {"use_dora", true},
      {"use_rslora", true},
      {"peft_type", "IA3"},
      {"bias", "all"},
      {"modules_to_save", {"lm_head"}},
      {"target_modules", "q_proj|k_proj"},
      {"target_modules", {"q_proj", "embed_tokens"}},
  };
  for (const auto& [key, value] : bad_fields)
    expect_error([&] { read_peft_adapter(with_field(std::string("bad_") + key, key, value), cfg); },
                 key);
  // A target that the file has no tensors for.
  expect_error(
      [&] {
        read_peft_adapter(
            with_field("more_targets", "target_modules", {"q_proj", "down_proj", "up_proj"}), cfg);
      },
      "up_proj.lora_A.weight' is missing");

  // Keys: PEFT's ".default" adapter name is accepted; unknown and missing keys are errors.
  SafetensorsFile st(ok + "/adapter_model.safetensors");
  auto with_tensors = [&](const std::string& name, auto&& edit) {
    std::vector<std::pair<std::string, Tensor>> ts;
    for (const auto& t : st.tensors()) ts.emplace_back(t.name, t.view());
    edit(ts);
    const std::string d = dir / name;
    fs::create_directories(d);
    fs::copy_file(ok + "/adapter_config.json", d + "/adapter_config.json",
                  fs::copy_options::overwrite_existing);
    write_safetensors(d + "/adapter_model.safetensors", ts, {});
    return d;
  };
  const std::string named = with_tensors("named", [](auto& ts) {
    for (auto& [n, t] : ts) n.replace(n.rfind(".weight"), 7, ".default.weight");
  });
  expect_same_lora(read_peft_adapter(named, cfg), lora);
  expect_error(
      [&] { read_peft_adapter(with_tensors("missing", [](auto& ts) { ts.pop_back(); }), cfg); },
      "is missing");
  expect_error(
      [&] {
        read_peft_adapter(with_tensors("unknown",
                                       [](auto& ts) {
                                         ts.emplace_back("base_model.model.lm_head.lora_A.weight",
                                                         ts[0].second);
                                       }),
                          cfg);
      },
      "unexpected tensor 'base_model.model.lm_head.lora_A.weight'");
  // A base with another shape: the error names the key and both shapes.
  ModelConfig other = cfg;
  other.intermediate = 96;
  expect_error(
      [&] { read_peft_adapter(ok, other); },
      "mlp.down_proj.lora_A.weight' has shape (2, 128) but the base model (r=2) needs (2, 96)");
  expect_error([&] { read_peft_adapter(dir / "nope", cfg); }, "no such adapter directory");
}

TEST(Merge, AddsScaledProductAndDropsQuantizedCopies) {
  LoadedModel base = load_model(kData + "/tiny/llama", false);
  const ModelConfig cfg = base.model->config();
  const LoraWeights lora = small_adapter(cfg);
  ModelWeights w = copy_weights_f32(cfg, base.model->weights());
  // Pretend matrices have quantized copies: the merged ones must lose theirs.
  uint8_t fake[16] = {};
  w.layers[0].wq_q = Tensor{DType::kQ8_0, Shape{1}, fake};
  w.layers[0].wk_q = Tensor{DType::kQ8_0, Shape{1}, fake};
  merge_lora(w, cfg, lora);
  EXPECT_EQ(w.layers[0].wq_q.data, nullptr);
  EXPECT_EQ(w.layers[0].wk_q.data, fake);
  // W'[o][i] = W[o][i] + alpha/r * sum_k B[o][k] A[k][i], checked at a few entries in double.
  const Tensor& w0 = base.model->weights().layers[1].w_down;
  const LoraPair& p = lora.layers[1][static_cast<int>(LoraTarget::kDown)];
  for (auto [o, i] : {std::pair<int64_t, int64_t>{0, 0}, {5, 100}, {63, 127}}) {
    double want = w0.f32()[o * w0.shape[1] + i];
    double s = 0;
    for (int64_t k = 0; k < 2; ++k)
      s += double(p.b.f32()[o * 2 + k]) * p.a.f32()[k * w0.shape[1] + i];
    want += 1.5 * s;
    EXPECT_NEAR(w.layers[1].w_down.f32()[o * w0.shape[1] + i], want, 1e-5);
  }
  EXPECT_EQ(std::memcmp(w.layers[1].wk.data, base.model->weights().layers[1].wk.data,
                        w.layers[1].wk.nbytes()),
            0);
  ModelConfig other = cfg;
  other.n_layers = 1;
  LoraWeights one = small_adapter(other);
  expect_error([&] { merge_lora(w, cfg, one); }, "the adapter has 1 layers but the model has 2");
}

// ---- toolsft merge ----

using testing::CliResult;

CliResult run_cli(const std::string& args) { return testing::run_binary(TSFT_BINARY, args); }

TEST(MergeCli, WritesAMergedModelWithPeftLogits) {
  const auto g = peft_golden("llama");
  if (!g)
    GTEST_SKIP() << "tests/data/train/peft_llama not generated yet (tools/make_peft_goldens.py)";
  TempDir dir("merge_cli");
  const std::string out = dir / "merged";
  const CliResult r =
      run_cli("merge --model " + g->base + " --adapter " + g->dir + " --output " + out);
  ASSERT_EQ(r.exit_code, 0) << r.out;
  LoadedModel m = load_model(out, false);
  SafetensorsFile golden(g->dir + "/logits.safetensors");
  const SafetensorsTensor* ids_t = golden.find("input_ids");
  const int32_t* p = static_cast<const int32_t*>(ids_t->view().data);
  const std::vector<int32_t> ids(p, p + ids_t->shape.back());
  EXPECT_LT(max_abs_diff(all_logits(*m.model, ids), golden.find("merged_logits")->view().f32()),
            1e-4f);

  const CliResult missing = run_cli("merge --model " + g->base + " --adapter " + (dir / "nope") +
                                    " --output " + (dir / "x"));
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_NE(missing.out.find("no such adapter directory"), std::string::npos) << missing.out;
  // An adapter for another base: the error names the tensor and both shapes.
  if (fs::exists(kGguf)) {
    const CliResult other =
        run_cli("merge --model " + kGguf + " --adapter " + g->dir + " --output " + (dir / "y"));
    EXPECT_EQ(other.exit_code, 1);
    EXPECT_NE(other.out.find("lora_A.weight' has shape (4, 128) but the base model (r=4) needs"),
              std::string::npos)
        << other.out;
    EXPECT_FALSE(fs::exists(dir / "y"));
  }
  EXPECT_FALSE(fs::exists(dir / "x"));
}

}  // namespace
}  // namespace tsft
