// Tokenizer tests: ids identical to HF `tokenizers` on a hard corpus (from the GGUF and from
// tokenizer.json), round trips, threads, special tokens, and clear errors for bad files.
// Goldens come from tools/make_tokenizer_goldens.py.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "core/error.h"
#include "io/gguf.h"
#include "tokenizer/tokenizer.h"
#include "test_util.h"

namespace tsft {
namespace {

const std::string kData = TSFT_TEST_DATA_DIR;
const std::string kGguf = tsft::testing::default_model_path();

struct GoldenLine {
  std::string text;
  std::vector<int32_t> ids;
};

std::vector<GoldenLine> load_golden(const std::string& path) {
  std::ifstream in(path);
  EXPECT_TRUE(in) << "cannot open " << path;
  std::vector<GoldenLine> out;
  std::string line;
  while (std::getline(in, line)) {
    auto j = nlohmann::json::parse(line);
    out.push_back({j["text"].get<std::string>(), j["ids"].get<std::vector<int32_t>>()});
  }
  return out;
}

const std::vector<GoldenLine>& golden() {
  static const std::vector<GoldenLine> g = load_golden(kData + "/tokenizer_golden.jsonl");
  return g;
}

const Tokenizer& json_tokenizer() {
  static const Tokenizer t = Tokenizer::from_json_file(kData + "/smollm2/tokenizer.json");
  return t;
}

bool have_gguf() {
  return std::filesystem::exists(kGguf);
}

const Tokenizer& gguf_tokenizer() {
  static const Tokenizer t = [] {
    GgufFile f(kGguf);
    return Tokenizer::from_gguf(f);
  }();
  return t;
}

std::string escaped(const std::string& s) {
  return nlohmann::json(s).dump();
}

std::string ids_str(const std::vector<int32_t>& ids) {
  return nlohmann::json(ids).dump();
}

// Compares every golden line; prints the first mismatching lines with the first differing id.
void expect_golden(const Tokenizer& tok, const char* source) {
  const auto& g = golden();
  ASSERT_GE(g.size(), 2000u);
  size_t bad = 0;
  const auto t0 = std::chrono::steady_clock::now();
  std::vector<std::vector<int32_t>> got(g.size());
  for (size_t i = 0; i < g.size(); ++i) got[i] = tok.encode(g[i].text);
  const double ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  for (size_t i = 0; i < g.size(); ++i) {
    if (got[i] == g[i].ids) continue;
    if (++bad <= 5) {
      const auto& want = g[i].ids;
      size_t k = 0;
      while (k < want.size() && k < got[i].size() && want[k] == got[i][k]) ++k;
      ADD_FAILURE() << source << ": golden line " << i + 1 << " differs at id index " << k
                    << "\n  text: " << escaped(g[i].text) << "\n  want: " << ids_str(want)
                    << "\n  got:  " << ids_str(got[i]);
    }
  }
  EXPECT_EQ(bad, 0u) << source << ": " << bad << " of " << g.size() << " lines differ";
  std::printf("[ info ] %s: encoded %zu lines in %.1f ms\n", source, g.size(), ms);
}

TEST(Tokenizer, GoldenFromJson) {
  expect_golden(json_tokenizer(), "tokenizer.json");
}

TEST(Tokenizer, GoldenFromGguf) {
  if (!have_gguf()) GTEST_SKIP() << kGguf << " not present";
  expect_golden(gguf_tokenizer(), "gguf");
}

TEST(Tokenizer, CorpusMatchesGolden) {
  std::ifstream in(kData + "/tokenizer_corpus.txt");
  ASSERT_TRUE(in);
  std::string line;
  size_t i = 0;
  while (std::getline(in, line)) {
    ASSERT_LT(i, golden().size());
    EXPECT_EQ(nlohmann::json::parse(line).get<std::string>(), golden()[i].text) << "line " << i + 1;
    ++i;
  }
  EXPECT_EQ(i, golden().size());
}

TEST(Tokenizer, GgufAndJsonAgree) {
  if (!have_gguf()) GTEST_SKIP() << kGguf << " not present";
  const TokenizerSpec& a = gguf_tokenizer().spec();
  const TokenizerSpec& b = json_tokenizer().spec();
  EXPECT_EQ(a.vocab, b.vocab);
  EXPECT_EQ(a.merges, b.merges);
  EXPECT_EQ(a.pre, b.pre);
  EXPECT_EQ(a.bos_id, b.bos_id);
  EXPECT_EQ(a.eos_id, b.eos_id);
  EXPECT_EQ(a.pad_id, b.pad_id);
  EXPECT_EQ(a.add_bos, b.add_bos);
  EXPECT_EQ(a.chat_template, b.chat_template);
  ASSERT_EQ(a.added.size(), b.added.size());
  for (size_t i = 0; i < a.added.size(); ++i) {
    EXPECT_EQ(a.added[i].id, b.added[i].id);
    EXPECT_EQ(a.added[i].content, b.added[i].content);
    EXPECT_EQ(a.added[i].special, b.added[i].special);
  }
}

// decode(encode(x)) == x, except that bytes with no token of their own vanish (HF's BPE has no
// unk token: SmolLM2 lacks e.g. 0x04 and the bytes that never occur in UTF-8).
TEST(Tokenizer, RoundTrip) {
  const Tokenizer& tok = json_tokenizer();
  bool missing[256];
  for (int b = 0; b < 256; ++b)
    missing[b] = tok.encode(std::string(1, static_cast<char>(b))).empty();
  EXPECT_TRUE(missing[0x04]);
  EXPECT_FALSE(missing['a']);
  size_t bad = 0;
  for (const auto& g : golden()) {
    std::string want;
    for (char c : g.text) {
      if (!missing[static_cast<uint8_t>(c)]) want += c;
    }
    std::string got = tok.decode(tok.encode(g.text));
    if (got != want && ++bad <= 5)
      ADD_FAILURE() << "round trip of " << escaped(g.text) << " gave " << escaped(got);
  }
  EXPECT_EQ(bad, 0u);
}

TEST(Tokenizer, ThreadsGiveSameIds) {
  const Tokenizer& tok = json_tokenizer();
  const auto& g = golden();
  const int n_threads = 8;
  std::vector<size_t> bad(n_threads, 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < n_threads; ++t) {
    threads.emplace_back([&, t] {
      // Each thread walks the corpus from a different start so caches are hit in different orders.
      for (size_t k = 0; k < g.size(); ++k) {
        size_t i = (k + t * g.size() / n_threads) % g.size();
        if (tok.encode(g[i].text) != g[i].ids) ++bad[t];
      }
    });
  }
  for (auto& th : threads) th.join();
  for (int t = 0; t < n_threads; ++t) EXPECT_EQ(bad[t], 0u) << "thread " << t;
}

TEST(Tokenizer, SpecialTokens) {
  const Tokenizer& tok = json_tokenizer();
  EXPECT_EQ(tok.vocab_size(), 49152);
  EXPECT_EQ(tok.bos_id(), 1);
  EXPECT_EQ(tok.eos_id(), 2);
  EXPECT_EQ(tok.pad_id(), 2);
  EXPECT_FALSE(tok.add_bos());
  EXPECT_EQ(tok.token_id("<|im_start|>"), 1);
  EXPECT_EQ(tok.token_id("<|im_end|>"), 2);
  EXPECT_EQ(tok.token_id("no such token"), std::nullopt);
  EXPECT_TRUE(tok.is_special(0));
  EXPECT_TRUE(tok.is_special(16));
  EXPECT_FALSE(tok.is_special(17));
  EXPECT_FALSE(tok.is_special(-1));
  EXPECT_NE(tok.chat_template().find("<|im_start|>"), std::string::npos);

  const std::string text = "<|im_start|>user\nHi there<|im_end|>\n";
  auto ids = tok.encode(text);
  ASSERT_GE(ids.size(), 3u);
  EXPECT_EQ(ids.front(), 1);
  EXPECT_EQ(std::count(ids.begin(), ids.end(), 2), 1);
  EXPECT_EQ(tok.decode(ids), text);
  EXPECT_EQ(tok.decode(ids, /*skip_special=*/true), "user\nHi there\n");

  // parse_special=false: the markers are plain text, so no special id appears.
  auto plain = tok.encode(text, /*parse_special=*/false);
  for (int32_t id : plain) EXPECT_FALSE(tok.is_special(id)) << id;
  EXPECT_EQ(tok.decode(plain), text);

  EXPECT_EQ(tok.token_bytes(216), " ");  // 'Ġ'
  EXPECT_EQ(tok.token_bytes(1), "<|im_start|>");
  EXPECT_THROW(tok.token_bytes(1 << 20), Error);
  EXPECT_EQ(tok.decode({-5, 1 << 20, 81}), "a");  // out-of-range ids are skipped, as in HF
  EXPECT_TRUE(tok.encode("").empty());
}

TEST(Tokenizer, InvalidUtf8KeepsBytes) {
  const Tokenizer& tok = json_tokenizer();
  const std::string text = "ab\xC3(\xE2\x82 x\xF0\x9F\x98";  // truncated sequences
  auto ids = tok.encode(text);
  std::string bytes;
  for (int32_t id : ids) bytes += tok.token_bytes(id);
  EXPECT_EQ(bytes, text);
  EXPECT_EQ(tok.decode(ids),
            "ab\xEF\xBF\xBD(\xEF\xBF\xBD x\xEF\xBF\xBD");  // as Rust's from_utf8_lossy
}

// A small tokenizer whose added tokens use every flag (lstrip, rstrip, single_word, normalized,
// non-ASCII content) and whose merges are in the legacy "a b" form; HF's ids and decodes.
TEST(Tokenizer, AddedTokenRulesMatchHf) {
  const Tokenizer tok = Tokenizer::from_json_file(kData + "/tokenizer_small/tokenizer.json");
  std::ifstream in(kData + "/tokenizer_small_golden.jsonl");
  ASSERT_TRUE(in);
  std::string line;
  size_t n = 0, bad = 0;
  while (std::getline(in, line)) {
    ++n;
    auto j = nlohmann::json::parse(line);
    const std::string text = j["text"].get<std::string>();
    const auto ids = j["ids"].get<std::vector<int32_t>>();
    const auto got = tok.encode(text);
    const auto got_plain = tok.encode(text, /*parse_special=*/false);
    const std::string dec = tok.decode(ids), dec_skip = tok.decode(ids, /*skip_special=*/true);
    const bool ok = got == ids && got_plain == j["ids_no_special"].get<std::vector<int32_t>>() &&
                    dec == j["decoded"].get<std::string>() &&
                    dec_skip == j["decoded_skip"].get<std::string>();
    if (!ok && ++bad <= 5) {
      ADD_FAILURE() << "small golden line " << n << ": " << escaped(text) << "\n  want ids "
                    << ids_str(ids) << " got " << ids_str(got) << "\n  want no-special "
                    << j["ids_no_special"].dump() << " got " << ids_str(got_plain)
                    << "\n  want decoded " << j["decoded"].dump() << " got " << escaped(dec)
                    << "\n  want decoded_skip " << j["decoded_skip"].dump() << " got "
                    << escaped(dec_skip);
    }
  }
  EXPECT_GE(n, 300u);
  EXPECT_EQ(bad, 0u) << bad << " of " << n << " lines differ";
}

// ---------------------------------------------------------------- bad tokenizer.json files

class BadJson : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("tsft_tok_" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // A valid minimal byte-level tokenizer.json with `patch` merged in (RFC 7386).
  std::string write(const nlohmann::json& patch) {
    nlohmann::json vocab = nlohmann::json::object();
    vocab["a"] = 0;
    vocab["b"] = 1;
    vocab["ab"] = 2;
    nlohmann::json j = {
        {"version", "1.0"},
        {"added_tokens", nlohmann::json::array()},
        {"normalizer", nullptr},
        {"pre_tokenizer",
         {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"use_regex", true}}},
        {"post_processor", nullptr},
        {"decoder", {{"type", "ByteLevel"}}},
        {"model", {{"type", "BPE"}, {"vocab", vocab}, {"merges", nlohmann::json::array({"a b"})}}},
    };
    j.merge_patch(patch);
    path_ = (dir_ / "tokenizer.json").string();
    std::ofstream(path_) << j.dump();
    return path_;
  }

  // Expects loading `path` to fail with a message that names `file` (default: path) and `field`.
  void expect_error(const std::string& path, const std::string& field, std::string file = "") {
    if (file.empty()) file = path;
    try {
      Tokenizer::from_json_file(path);
      ADD_FAILURE() << "no error; expected one naming " << field;
    } catch (const Error& e) {
      std::string msg = e.what();
      EXPECT_NE(msg.find(file), std::string::npos) << msg;
      EXPECT_NE(msg.find(field), std::string::npos) << msg;
    }
  }

  std::filesystem::path dir_;
  std::string path_;
};

TEST_F(BadJson, MinimalIsFine) {
  Tokenizer t = Tokenizer::from_json_file(write(nlohmann::json::object()));
  EXPECT_EQ(t.encode("abab"), (std::vector<int32_t>{2, 2}));
  EXPECT_EQ(t.encode("ab ba"), (std::vector<int32_t>{2, 1, 0}));  // ' ' has no token: dropped
}

TEST_F(BadJson, PairMerges) {
  using nlohmann::json;
  Tokenizer t = Tokenizer::from_json_file(
      write({{"model", {{"merges", json::array({json::array({"a", "b"})})}}}}));
  EXPECT_EQ(t.encode("ab"), (std::vector<int32_t>{2}));
}

TEST_F(BadJson, Errors) {
  expect_error(write({{"model", {{"type", "WordPiece"}}}}), "model.type");
  expect_error(write({{"pre_tokenizer", {{"type", "Whitespace"}}}}), "pre_tokenizer.type");
  expect_error(write({{"pre_tokenizer", {{"add_prefix_space", true}}}}),
               "pre_tokenizer.add_prefix_space");
  expect_error(write({{"normalizer", {{"type", "NFKC"}}}}), "normalizer.type");
  expect_error(write({{"decoder", nullptr}}), "decoder");
  expect_error(write({{"decoder", {{"type", "Metaspace"}}}}), "decoder.type");
  expect_error(write({{"model", {{"merges", {1, 2}}}}}), "model.merges[0]");
  expect_error(write({{"model", {{"merges", {"a c"}}}}}), "merge 0");
  expect_error(write({{"model", {{"merges", {"b a"}}}}}), "not in the vocabulary");
  expect_error(write({{"model", {{"vocab", {{"a", 7}}}}}}), "model.vocab");
  expect_error(write({{"model", {{"byte_fallback", true}}}}), "model.byte_fallback");
  expect_error(write({{"model", {{"dropout", 0.1}}}}), "model.dropout");
  expect_error(write({{"added_tokens", {{{"content", "x"}}}}}), "added_tokens[0].id");
  expect_error(
      write({{"pre_tokenizer", {{"type", "Sequence"}, {"pretokenizers", {{{"type", "Digits"}}}}}}}),
      "pre_tokenizer.pretokenizers");

  write(nlohmann::json::object());
  std::ofstream(path_) << "{ not json";
  expect_error(path_, "not valid JSON");
  expect_error((dir_ / "missing.json").string(), "cannot open");

  write(nlohmann::json::object());
  std::ofstream(dir_ / "tokenizer_config.json") << R"({"eos_token": "<nope>"})";
  expect_error(path_, "eos_token", (dir_ / "tokenizer_config.json").string());
}

// ---------------------------------------------------------------- GGUF metadata errors

// Writes a GGUF v3 file with no tensors and the given tokenizer metadata.
class TinyGguf : public ::testing::Test {
 protected:
  void TearDown() override {
    if (!path_.empty()) std::filesystem::remove(path_);
  }

  // One metadata entry: a string, a string array or an i32 array.
  struct Kv {
    std::string key;
    std::string str;
    std::vector<std::string> strs;
    std::vector<int32_t> ints;
    int kind = 0;  // 0 string, 1 string array, 2 i32 array
  };
  static Kv kv_str(std::string key, std::string v) {
    return {std::move(key), std::move(v), {}, {}, 0};
  }
  static Kv kv_strs(std::string key, std::vector<std::string> v) {
    return {std::move(key), "", std::move(v), {}, 1};
  }
  static Kv kv_ints(std::string key, std::vector<int32_t> v) {
    return {std::move(key), "", {}, std::move(v), 2};
  }

  std::string write(const std::vector<Kv>& kvs) {
    std::string b;
    auto u32 = [&](uint32_t v) { b.append(reinterpret_cast<const char*>(&v), 4); };
    auto u64 = [&](uint64_t v) { b.append(reinterpret_cast<const char*>(&v), 8); };
    auto str = [&](const std::string& s) {
      u64(s.size());
      b += s;
    };
    u32(0x46554747);  // "GGUF"
    u32(3);
    u64(0);
    u64(kvs.size());
    for (const Kv& kv : kvs) {
      str(kv.key);
      if (kv.kind == 0) {
        u32(8);
        str(kv.str);
      } else if (kv.kind == 1) {
        u32(9), u32(8), u64(kv.strs.size());
        for (const auto& x : kv.strs) str(x);
      } else {
        u32(9), u32(5), u64(kv.ints.size());
        for (int32_t x : kv.ints) u32(static_cast<uint32_t>(x));
      }
    }
    b.resize((b.size() + 31) / 32 * 32, '\0');
    path_ =
        (std::filesystem::temp_directory_path() /
         ("tsft_tok_" +
          std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()) + ".gguf"))
            .string();
    std::ofstream(path_, std::ios::binary) << b;
    return path_;
  }

  std::vector<Kv> base(const std::string& pre) {
    return {kv_str("tokenizer.ggml.model", "gpt2"), kv_str("tokenizer.ggml.pre", pre),
            kv_strs("tokenizer.ggml.tokens", {"a", "b", "ab", "<s>"}),
            kv_strs("tokenizer.ggml.merges", {"a b"}),
            kv_ints("tokenizer.ggml.token_type", {1, 1, 1, 3})};
  }

  void expect_error(const std::vector<Kv>& kvs, const std::string& field) {
    const std::string path = write(kvs);
    try {
      GgufFile f(path);
      Tokenizer::from_gguf(f);
      ADD_FAILURE() << "no error; expected one naming " << field;
    } catch (const Error& e) {
      const std::string msg = e.what();
      EXPECT_NE(msg.find(path), std::string::npos) << msg;
      EXPECT_NE(msg.find(field), std::string::npos) << msg;
    }
  }

  std::string path_;
};

TEST_F(TinyGguf, Loads) {
  GgufFile f(write(base("gpt2")));
  Tokenizer t = Tokenizer::from_gguf(f);
  EXPECT_EQ(t.encode("ab<s>ba"), (std::vector<int32_t>{2, 3, 1, 0}));
  EXPECT_TRUE(t.is_special(3));
  EXPECT_EQ(t.bos_id(), -1);
  EXPECT_EQ(t.spec().pre, PreTokenizerKind::kGpt2);
}

TEST_F(TinyGguf, Errors) {
  expect_error(base("deepseek-llm"), "tokenizer.ggml.pre");
  auto kvs = base("smollm");
  kvs[0].str = "t5";
  expect_error(kvs, "tokenizer.ggml.model");
  kvs = base("smollm");
  kvs[3].strs = {"ab"};
  expect_error(kvs, "tokenizer.ggml.merges[0]");
  kvs = base("smollm");
  kvs[4].ints = {1, 1};
  expect_error(kvs, "tokenizer.ggml.token_type");
  kvs = base("smollm");
  kvs[3].strs = {"b a"};
  expect_error(kvs, "merge 0");
}

}  // namespace
}  // namespace tsft
