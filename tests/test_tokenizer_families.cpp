// Tokenizer families beyond SmolLM2: Qwen2 and Llama 3 byte-level BPE (their Split regexes) and
// SentencePiece-style BPE with byte fallback (Llama 2 / Mistral). Small tokenizers trained with
// HF `tokenizers` by tools/make_tokenizer_family_goldens.py; ids and decodes must match HF's.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>
#include <tuple>

#include "core/error.h"
#include "io/gguf.h"
#include "io/gguf_writer.h"
#include "tokenizer/tokenizer.h"

namespace tsft {
namespace {

const std::string kData = TSFT_TEST_DATA_DIR;

struct GoldenLine {
  int line = -1;  // corpus line index, -1 for a kind's own extra line
  std::string text;
  std::vector<int32_t> ids, ids_plain;
  std::string decoded, decoded_skip;
};

std::vector<GoldenLine> load_golden(const std::string& kind) {
  const std::string path = kData + "/tokenizers/" + kind + "/golden.jsonl";
  std::ifstream in(path);
  EXPECT_TRUE(in) << "cannot open " << path;
  std::vector<GoldenLine> out;
  std::string line;
  while (std::getline(in, line)) {
    auto j = nlohmann::json::parse(line);
    GoldenLine g;
    g.line = j["line"].get<int>();
    g.text = j["text"].get<std::string>();
    g.ids = j["ids"].get<std::vector<int32_t>>();
    g.ids_plain = j.contains("ids_plain") ? j["ids_plain"].get<std::vector<int32_t>>() : g.ids;
    g.decoded = j.contains("decoded") ? j["decoded"].get<std::string>() : g.text;
    g.decoded_skip = j.contains("decoded_skip") ? j["decoded_skip"].get<std::string>() : g.decoded;
    out.push_back(std::move(g));
  }
  return out;
}

std::string show(const std::vector<int32_t>& ids) {
  std::string s = "[";
  for (size_t i = 0; i < ids.size(); ++i) s += (i ? "," : "") + std::to_string(ids[i]);
  return s + "]";
}

class Family : public ::testing::TestWithParam<const char*> {
 protected:
  Tokenizer load() const {
    const std::string dir = kData + "/tokenizers/" + GetParam();
    if (std::filesystem::exists(dir + "/tokenizer.gguf")) {
      GgufFile f(dir + "/tokenizer.gguf");
      return Tokenizer::from_gguf(f);
    }
    return Tokenizer::from_json_file(dir + "/tokenizer.json");
  }
};

TEST_P(Family, IdsMatchHf) {
  const Tokenizer t = load();
  const auto golden = load_golden(GetParam());
  ASSERT_GT(golden.size(), 100u);
  int bad = 0;
  for (const GoldenLine& g : golden) {
    const auto ids = t.encode(g.text);
    if (ids != g.ids && ++bad <= 5) {
      size_t k = 0;
      while (k < ids.size() && k < g.ids.size() && ids[k] == g.ids[k]) ++k;
      ADD_FAILURE() << GetParam() << " line " << g.line << " " << nlohmann::json(g.text).dump()
                    << "\n first difference at " << k << "\n got  " << show(ids)
                    << "\n want " << show(g.ids);
    }
  }
  EXPECT_EQ(bad, 0) << "of " << golden.size() << " lines";
}

TEST_P(Family, SpecialTokensAsTextMatchHf) {
  const Tokenizer t = load();
  int bad = 0;
  for (const GoldenLine& g : load_golden(GetParam())) {
    if (t.encode(g.text, /*parse_special=*/false) != g.ids_plain && ++bad <= 5)
      ADD_FAILURE() << "line " << g.line << " " << nlohmann::json(g.text).dump();
  }
  EXPECT_EQ(bad, 0);
}

TEST_P(Family, DecodeMatchesHf) {
  const Tokenizer t = load();
  int bad = 0;
  for (const GoldenLine& g : load_golden(GetParam())) {
    const std::string d = t.decode(g.ids), ds = t.decode(g.ids, /*skip_special=*/true);
    if ((d != g.decoded || ds != g.decoded_skip) && ++bad <= 5) {
      ADD_FAILURE() << "line " << g.line << "\n got  " << nlohmann::json(d).dump() << " / "
                    << nlohmann::json(ds).dump() << "\n want " << nlohmann::json(g.decoded).dump()
                    << " / " << nlohmann::json(g.decoded_skip).dump();
    }
  }
  EXPECT_EQ(bad, 0);
}

TEST_P(Family, ThreadsGiveSameIds) {
  const Tokenizer t = load();
  const auto golden = load_golden(GetParam());
  std::vector<int> bad(4, 0);
  std::vector<std::thread> threads;
  for (int w = 0; w < 4; ++w) {
    threads.emplace_back([&, w] {
      for (size_t i = 0; i < golden.size(); ++i) {
        const GoldenLine& g = golden[(i + w * golden.size() / 4) % golden.size()];
        if (t.encode(g.text) != g.ids) ++bad[w];
      }
    });
  }
  for (auto& th : threads) th.join();
  for (int w = 0; w < 4; ++w) EXPECT_EQ(bad[w], 0) << "thread " << w;
}

INSTANTIATE_TEST_SUITE_P(Tokenizers, Family,
                         ::testing::Values("qwen2", "qwen2_nfc", "llama3", "spm", "spm_metaspace",
                                           "spm_gguf"));

TEST(Families, KindsAreRecognised) {
  auto load = [](const char* kind) {
    return Tokenizer::from_json_file(kData + "/tokenizers/" + kind + "/tokenizer.json");
  };
  EXPECT_EQ(load("qwen2").spec().pre, PreTokenizerKind::kQwen2);
  EXPECT_EQ(load("llama3").spec().pre, PreTokenizerKind::kLlama3);
  EXPECT_TRUE(load("llama3").spec().ignore_merges);
  EXPECT_TRUE(load("qwen2_nfc").spec().nfc);
  EXPECT_FALSE(load("qwen2").spec().nfc);
  const Tokenizer spm = load("spm");
  EXPECT_EQ(spm.spec().model, ModelKind::kSentencePieceBpe);
  EXPECT_TRUE(spm.spec().byte_fallback);
  EXPECT_TRUE(spm.spec().spm.prepend && spm.spec().spm.replace_spaces);
  const Tokenizer ms = load("spm_metaspace");
  EXPECT_TRUE(ms.spec().spm.metaspace);
  EXPECT_EQ(ms.spec().spm.prepend_scheme, PrependScheme::kFirst);
}

// Corners of the Split regexes, ids from HF (tokenizers 0.23.3) on the trained vocabularies:
// case-insensitive contractions (U+017F does not fold to 's'), digits one by one (Qwen2) or in
// threes (Llama 3), whitespace up to the last line break, [\r\n]* after punctuation, a space
// before a combining mark.
TEST(Families, RegexCornerCases) {
  const Tokenizer q = Tokenizer::from_json_file(kData + "/tokenizers/qwen2/tokenizer.json");
  const Tokenizer l = Tokenizer::from_json_file(kData + "/tokenizers/llama3/tokenizer.json");
  using V = std::vector<int32_t>;
  const std::vector<std::tuple<std::string, V, V>> cases = {
      {"X'S '\u017f", {58, 1072, 659, 132, 126}, {62, 1157, 705, 136, 130}},
      {"12345", {19, 20, 21, 22, 23}, {631, 25, 810}},
      {"a  \n\n b", {67, 2940, 1202}, {71, 333, 354, 1291}},
      {"!!\r\n\r\nx", {409, 412, 412, 90}, {418, 421, 421, 94}},
      {" \u0301a", {223, 556, 67}, {227, 579, 71}},
      {"\t1234567", {200, 19, 20, 21, 22, 23, 24, 25}, {204, 631, 25, 810, 28, 29}},
  };
  for (const auto& [text, want_q, want_l] : cases) {
    EXPECT_EQ(q.encode(text), want_q) << nlohmann::json(text).dump();
    EXPECT_EQ(l.encode(text), want_l) << nlohmann::json(text).dump();
  }
}

// HF's Oniguruma (tokenizers 0.23.3) and Rust's char::is_numeric know Unicode 16.0: CJK
// Extension H (U+31350), Kirat Rai (U+16D43) and Extension I (U+2EBF0) are letters, Garay
// (U+10D40) and outlined (U+1CCF5) digits are numbers, so "'s" after them is a contraction;
// U+323B0 (assigned only in Unicode 17) is "other" and takes the apostrophe. Ids from HF; the
// first five fail with Unicode 14 tables.
TEST(Families, UnicodeVersionMatchesHf) {
  const std::vector<std::string> texts = {"\U00031350's",   "x\U00016D43's", "\U0002EBF0's",
                                          " \U00010D40's", "\U0001CCF5's",  "\U000323B0's"};
  using V = std::vector<int32_t>;
  const std::vector<std::pair<std::string, std::vector<V>>> want = {
      {"tokenizers/qwen2",
       {{175, 112, 238, 241, 269},
        {90, 994, 116, 228, 269},
        {175, 109, 110, 111, 269},
        {223, 432, 116, 225, 269},
        {1968, 114, 116, 269},
        {175, 113, 239, 111, 9, 85}}},
      {"tokenizers/llama3",
       {{179, 116, 242, 245, 273},
        {94, 1072, 120, 232, 273},
        {179, 113, 114, 115, 273},
        {227, 444, 120, 229, 273},
        {2102, 118, 120, 273},
        {179, 117, 243, 115, 13, 89}}},
      {"smollm2",
       {{187, 126, 231, 234, 506},
        {104, 187, 240, 130, 221, 506},
        {187, 123, 124, 125, 506},
        {216, 187, 234, 130, 218, 506},
        {187, 246, 128, 130, 506},
        {187, 127, 232, 125, 23, 99}}},
  };
  for (const auto& [dir, ids] : want) {
    const Tokenizer t = Tokenizer::from_json_file(kData + "/" + dir + "/tokenizer.json");
    for (size_t i = 0; i < texts.size(); ++i)
      EXPECT_EQ(t.encode(texts[i]), ids[i]) << dir << " text " << i;
  }
}

// NFC as HF applies it (ids from HF): U+11935 U+11930 stays apart (HF's tables predate
// U+11938); marks are reordered by class before composing; Hangul jamo compose arithmetically.
TEST(Families, NfcCorners) {
  const Tokenizer t = Tokenizer::from_json_file(kData + "/tokenizers/qwen2_nfc/tokenizer.json");
  using V = std::vector<int32_t>;
  EXPECT_EQ(t.encode("a\U00011935\U00011930b"), (V{67, 638, 100, 116, 638, 100, 111, 68}));
  EXPECT_EQ(t.encode("e\u0301\u0327"), (V{135, 105, 556}));
  EXPECT_EQ(t.encode("\u1100\u1161\u11a8"), (V{2831, 226}));
  // Added tokens are matched before normalizing, and the text beside them is normalized alone.
  EXPECT_EQ(t.encode("\u0301<|im_start|>e\u0301"), (V{556, 1, 428}));
}

// SentencePiece byte fallback: a character with no token becomes its UTF-8 bytes' <0xNN>
// tokens, and decode puts the bytes back together.
TEST(Families, ByteFallbackRoundTrip) {
  const Tokenizer t = Tokenizer::from_json_file(kData + "/tokenizers/spm/tokenizer.json");
  const std::string s = "\xF0\x9F\xA6\x99 \xE2\x82\xAC";  // U+1F999, U+20AC
  const auto ids = t.encode(s);
  // token_bytes gives a byte token's byte, and '▁' as a space.
  std::string joined;
  for (int32_t id : ids) joined += t.token_bytes(id);
  EXPECT_EQ(joined, " " + s);
  auto b = t.token_id("<0xF0>");
  ASSERT_TRUE(b.has_value());
  EXPECT_EQ(t.token_bytes(*b), "\xF0");
  EXPECT_EQ(std::count(ids.begin(), ids.end(), *b), 1);
  EXPECT_EQ(t.decode(ids), s);
  // A lone continuation byte's token decodes to U+FFFD (one per byte), as HF's ByteFallback.
  auto id = t.token_id("<0x80>");
  ASSERT_TRUE(id.has_value());
  EXPECT_EQ(t.decode({*id, *id}), "\xEF\xBF\xBD\xEF\xBF\xBD");
}

// A tokenizer.json from one of the family files with `patch` merged in; loading must fail
// naming the file and `field`.
class FamilyErrors : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("tsft_tokf_" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) +
            "_" + ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  void expect_error(const char* kind, const nlohmann::json& patch, const std::string& field) {
    std::ifstream in(kData + "/tokenizers/" + kind + "/tokenizer.json");
    nlohmann::json j = nlohmann::json::parse(in);
    j.merge_patch(patch);
    const std::string path = (dir_ / "tokenizer.json").string();
    std::ofstream(path) << j.dump();
    try {
      Tokenizer::from_json_file(path);
      ADD_FAILURE() << kind << ": no error; expected one naming " << field;
    } catch (const Error& e) {
      const std::string msg = e.what();
      EXPECT_NE(msg.find(path), std::string::npos) << msg;
      EXPECT_NE(msg.find(field), std::string::npos) << msg;
    }
  }

  std::filesystem::path dir_;
};

TEST_F(FamilyErrors, ByteLevel) {
  using nlohmann::json;
  json split = {{"type", "Split"},
                {"pattern", {{"Regex", "\\s+|\\S+"}}},
                {"behavior", "Isolated"},
                {"invert", false}};
  json bl = {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"use_regex", false}};
  expect_error("qwen2", {{"pre_tokenizer", {{"pretokenizers", {split, bl}}}}},
               "pre_tokenizer.pretokenizers[0].pattern.Regex");
  split["pattern"] = {{"Regex", R"(\p{N}{1,3})"}};
  split["behavior"] = "Removed";
  expect_error("qwen2", {{"pre_tokenizer", {{"pretokenizers", {split, bl}}}}},
               "pre_tokenizer.pretokenizers[0].behavior");
  // The Qwen2 regex with use_regex=true would split twice.
  std::ifstream in(kData + "/tokenizers/qwen2/tokenizer.json");
  json q = json::parse(in);
  json seq = q["pre_tokenizer"];
  seq["pretokenizers"][1]["use_regex"] = true;
  expect_error("qwen2", {{"pre_tokenizer", seq}}, "pre_tokenizer.pretokenizers[1].use_regex");
  seq["pretokenizers"][0]["invert"] = true;
  expect_error("qwen2", {{"pre_tokenizer", seq}}, "pre_tokenizer.pretokenizers[0].invert");
  expect_error("qwen2", {{"normalizer", {{"type", "NFKC"}}}}, "normalizer.type");
  expect_error("llama3", {{"post_processor", {{"processors", {{{"type", "RobertaProcessing"}}}}}}},
               "post_processor.processors[0].type");
}

TEST_F(FamilyErrors, SentencePiece) {
  using nlohmann::json;
  expect_error("spm", {{"normalizer", {{"type", "NFKC"}}}}, "normalizer.type");
  expect_error("spm", {{"normalizer", {{"normalizers", {{{"type", "Prepend"}, {"prepend", "_"}}}}}}},
               "normalizer.normalizers[0].prepend");
  expect_error("spm", {{"pre_tokenizer", {{"type", "Whitespace"}}}}, "pre_tokenizer.type");
  expect_error("spm_metaspace", {{"pre_tokenizer", {{"prepend_scheme", "sometimes"}}}},
               "pre_tokenizer.prepend_scheme");
  expect_error("spm", {{"decoder", {{"decoders", {{{"type", "Fuse"}}}}}}}, "decoder.decoders");
  json dec = {{"type", "Sequence"},
              {"decoders",
               {{{"type", "Replace"}, {"pattern", {{"String", "_"}}}, {"content", " "}},
                {{"type", "ByteFallback"}},
                {{"type", "Fuse"}}}}};
  expect_error("spm", {{"decoder", dec}}, "decoder.decoders[0]");
  expect_error("spm", {{"model", {{"dropout", 0.5}}}}, "model.dropout");
  // byte_fallback with a byte-level pipeline is refused.
  expect_error("qwen2", {{"model", {{"byte_fallback", true}}}}, "model.byte_fallback");
  std::ifstream in(kData + "/tokenizers/spm/tokenizer.json");
  json j = json::parse(in);
  json added = j["added_tokens"];
  added[0]["normalized"] = true;
  expect_error("spm", {{"added_tokens", added}}, "added_tokens[0].normalized");
  std::ifstream qin(kData + "/tokenizers/qwen2_nfc/tokenizer.json");
  json qadded = json::parse(qin)["added_tokens"];
  qadded[1]["normalized"] = true;
  expect_error("qwen2_nfc", {{"added_tokens", qadded}}, "added_tokens[1].normalized");
  expect_error("qwen2", {{"normalizer", {{"type", "Sequence"}, {"normalizers", {{{"type", "NFC"}}, {{"type", "NFD"}}}}}}},
               "normalizer.type");
}

// Metaspace with split=true and prepend_scheme=always: pieces start at each '▁', and every
// stretch of text gets a '▁' in front. Checked against HF (tokenizers 0.23.3) by hand:
//   "a b" -> ["▁a", "▁b"];  "x<s>y" -> ["▁x", "<s>", "▁y"].
TEST(Families, MetaspaceAlwaysSplit) {
  std::ifstream in(kData + "/tokenizers/spm_metaspace/tokenizer.json");
  nlohmann::json j = nlohmann::json::parse(in);
  j["pre_tokenizer"]["prepend_scheme"] = "always";
  j["pre_tokenizer"]["split"] = true;
  const auto dir = std::filesystem::temp_directory_path() / "tsft_tokf_metaspace";
  std::filesystem::create_directories(dir);
  const std::string path = (dir / "tokenizer.json").string();
  std::ofstream(path) << j.dump();
  const Tokenizer t = Tokenizer::from_json_file(path);
  std::filesystem::remove_all(dir);
  auto tokens = [&](const std::string& s) {
    std::vector<std::string> out;
    for (int32_t id : t.encode(s)) out.push_back(t.token_bytes(id));
    return out;
  };
  EXPECT_EQ(tokens("x<s>y"), (std::vector<std::string>{" x", "<s>", " y"}));
  EXPECT_EQ(tokens("  a  b "), (std::vector<std::string>{" ", " a", " ", " b", " "}));
}

// A SentencePiece GGUF (tokenizer.ggml.model "llama") needs scores or merges to build the BPE.
TEST(Families, SentencePieceGgufErrors) {
  const std::string path =
      (std::filesystem::temp_directory_path() / "tsft_tokf_spm_bad.gguf").string();
  auto expect_error = [&](const GgufWriter& w, const std::string& field) {
    w.write(path);
    try {
      GgufFile f(path);
      Tokenizer::from_gguf(f);
      ADD_FAILURE() << "no error; expected one naming " << field;
    } catch (const Error& e) {
      const std::string msg = e.what();
      EXPECT_NE(msg.find(path), std::string::npos) << msg;
      EXPECT_NE(msg.find(field), std::string::npos) << msg;
    }
  };
  GgufWriter w;
  w.set_string("tokenizer.ggml.model", "llama");
  w.set_string_array("tokenizer.ggml.tokens", {"<unk>", "a", "b", "ab"});
  expect_error(w, "tokenizer.ggml.scores");
  w.set_i32_array("tokenizer.ggml.token_type", {2, 1, 1});
  w.set_string_array("tokenizer.ggml.merges", {"a b"});
  expect_error(w, "tokenizer.ggml.token_type");
  GgufWriter w2;
  w2.set_string("tokenizer.ggml.model", "llama");
  w2.set_string_array("tokenizer.ggml.tokens", {"<unk>", "a", "b", "ab"});
  w2.set_string_array("tokenizer.ggml.merges", {"ab"});
  expect_error(w2, "tokenizer.ggml.merges[0]");
  GgufWriter w3;
  w3.set_string("tokenizer.ggml.model", "t5");
  expect_error(w3, "tokenizer.ggml.model");
  GgufWriter w4;
  w4.set_string("general.architecture", "gemma2");
  w4.set_string("tokenizer.ggml.model", "llama");
  expect_error(w4, "general.architecture");
  std::filesystem::remove(path);
}

// A GGUF written from a byte-level family's tokenizer.json (as llama.cpp's converter does:
// tokens, "a b" merges, token_type 3 for special added tokens, tokenizer.ggml.pre) gives the
// golden ids too.
TEST(Families, FromGguf) {
  for (auto [kind, pre] : {std::pair{"qwen2", "qwen2"}, std::pair{"llama3", "llama-bpe"}}) {
    const Tokenizer j =
        Tokenizer::from_json_file(kData + "/tokenizers/" + kind + "/tokenizer.json");
    const TokenizerSpec& s = j.spec();
    GgufWriter w;
    w.set_string("tokenizer.ggml.model", "gpt2");
    w.set_string("tokenizer.ggml.pre", pre);
    w.set_string_array("tokenizer.ggml.tokens", s.vocab);
    std::vector<std::string> merges;
    for (const auto& [a, b] : s.merges) merges.push_back(a + " " + b);
    w.set_string_array("tokenizer.ggml.merges", merges);
    std::vector<int32_t> types(s.vocab.size(), 1);
    for (const AddedToken& t : s.added) types[t.id] = t.special ? 3 : 4;
    w.set_i32_array("tokenizer.ggml.token_type", types);
    const std::string path =
        (std::filesystem::temp_directory_path() / (std::string("tsft_tokf_") + kind + ".gguf"))
            .string();
    w.write(path);
    GgufFile f(path);
    const Tokenizer g = Tokenizer::from_gguf(f);
    std::filesystem::remove(path);
    EXPECT_EQ(g.spec().pre, s.pre) << kind;
    EXPECT_EQ(g.spec().ignore_merges, s.ignore_merges) << kind;
    int bad = 0;
    for (const GoldenLine& line : load_golden(kind)) bad += g.encode(line.text) != line.ids;
    EXPECT_EQ(bad, 0) << kind;
  }
}

}  // namespace
}  // namespace tsft
