// Exports that the rest of the ecosystem loads: tokenizer.json round trips, Hugging Face model
// directories, PEFT LoRA adapters (written and read) and merging an adapter into its base.
// PEFT goldens (tests/data/train/peft_*) come from tools/make_peft_goldens.py.
#include <gtest/gtest.h>

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/error.h"
#include "export/tokenizer_export.h"
#include "io/gguf.h"
#include "tokenizer/tokenizer.h"

namespace tsft {
namespace {

namespace fs = std::filesystem;
const std::string kData = TSFT_TEST_DATA_DIR;
const std::string kGguf = std::string(TSFT_MODELS_DIR) + "/SmolLM2-135M-Instruct.Q4_1.gguf";

// A fresh empty directory under the system temp dir, removed at the end of the test; with
// TSFT_EXPORT_KEEP=DIR set it is DIR/name and kept (to check the files with transformers).
class TempDir {
 public:
  explicit TempDir(const std::string& name) {
    const char* keep = std::getenv("TSFT_EXPORT_KEEP");
    keep_ = keep != nullptr && *keep != '\0';
    path_ = keep_ ? std::string(keep) + "/" + name
                  : (fs::temp_directory_path() / ("tsft_export_" + name + "_" +
                                                  std::to_string(::getpid())))
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
  while (std::getline(in, line)) out.push_back(nlohmann::json::parse(line)["text"].get<std::string>());
  return out;
}

TEST(TokenizerExport, SmolLM2FromGguf) {
  if (!fs::exists(kGguf)) GTEST_SKIP() << kGguf << " is missing (scripts/fetch_model.sh fetches it)";
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
  EXPECT_EQ(j["post_processor"]["processors"][1]["special_tokens"]["<|begin_of_text|>"]["ids"][0], 0);
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

}  // namespace
}  // namespace tsft
