// toolsft export gguf: the file reads back (with our GGUF loader) as the same config, tokenizer
// and weights, its logits match the source's, and bad requests fail cleanly. The Q8_0 quantizer
// is checked here too. tests/export/check_gguf.py checks the file with gguf-py (ctest).
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "backend/cpu/dequant.h"
#include "backend/cpu/quantize.h"
#include "core/error.h"
#include "core/half.h"
#include "export/gguf_export.h"
#include "export/merge.h"
#include "io/gguf.h"
#include "io/model_loader.h"
#include "io/peft_adapter.h"
#include "model/transformer.h"
#include "test_util.h"
#include "tokenizer/tokenizer.h"

namespace tsft {
namespace {

namespace fs = std::filesystem;
using testing::error_of;
using testing::max_abs_diff;
using testing::run_binary;

const std::string kData = TSFT_TEST_DATA_DIR;
const std::string kSmol = tsft::testing::default_model_path();

std::string temp_path(const std::string& name) {
  return (fs::temp_directory_path() /
          ("tsft_gguf_export_" + std::to_string(::getpid()) + "_" + name))
      .string();
}

// Logits (T, V) for every position of `ids`.
std::vector<float> all_logits(Transformer& m, const std::vector<int32_t>& ids) {
  const int64_t T = static_cast<int64_t>(ids.size());
  KvCache cache = m.make_cache(T);
  std::vector<float> out(static_cast<size_t>(T * m.config().vocab));
  m.forward(ids.data(), T, cache, out.data(), T);
  return out;
}

// (name, values) of every parameter, in for_each order.
std::vector<std::pair<std::string, std::vector<float>>> params(const ModelConfig& cfg,
                                                               const ModelWeights& w) {
  std::vector<std::pair<std::string, std::vector<float>>> out;
  const_cast<ModelWeights&>(w).for_each(cfg, [&](const std::string& n, Tensor& t, Tensor*) {
    out.emplace_back(n, std::vector<float>(t.f32(), t.f32() + t.numel()));
  });
  return out;
}

// What storing `x` (one tensor, rows of `cols`) as `type` gives back: the exact expectation for
// the reloaded weights. 1-D tensors stay F32.
std::vector<float> stored(const std::vector<float>& x, int64_t cols, bool matrix, GgufType type) {
  if (!matrix || type == GgufType::kF32) return x;
  std::vector<float> out(x.size());
  if (type == GgufType::kF16 || (type == GgufType::kQ8_0 && cols % 32 != 0)) {
    for (size_t i = 0; i < x.size(); ++i) out[i] = f16_to_f32(f32_to_f16(x[i]));
  } else if (type == GgufType::kBF16) {
    for (size_t i = 0; i < x.size(); ++i) out[i] = bf16_to_f32(f32_to_bf16(x[i]));
  } else {
    std::vector<uint8_t> q(dtype_bytes(DType::kQ8_0, static_cast<int64_t>(x.size())));
    quantize_row_q8_0(x.data(), q.data(), static_cast<int64_t>(x.size()));
    dequantize_row(DType::kQ8_0, q.data(), out.data(), static_cast<int64_t>(x.size()));
  }
  return out;
}

void expect_same_config(const ModelConfig& a, const ModelConfig& b) {
  EXPECT_EQ(a.arch, b.arch);
  EXPECT_EQ(a.hidden, b.hidden);
  EXPECT_EQ(a.n_layers, b.n_layers);
  EXPECT_EQ(a.n_heads, b.n_heads);
  EXPECT_EQ(a.n_kv_heads, b.n_kv_heads);
  EXPECT_EQ(a.head_dim, b.head_dim);
  EXPECT_EQ(a.intermediate, b.intermediate);
  EXPECT_EQ(a.vocab, b.vocab);
  EXPECT_EQ(a.max_positions, b.max_positions);
  EXPECT_EQ(a.rms_eps, b.rms_eps);
  EXPECT_EQ(a.rope_theta, b.rope_theta);
  EXPECT_EQ(a.tie_embeddings, b.tie_embeddings);
  EXPECT_EQ(a.qkv_bias, b.qkv_bias);
  EXPECT_EQ(a.qk_norm, b.qk_norm);
  EXPECT_EQ(a.bos_id, b.bos_id);
  EXPECT_EQ(a.eos_ids, b.eos_ids);
}

// ---- Q8_0 quantizer ----

TEST(QuantizeQ8_0, HandComputedBlock) {
  // amax 127 -> d = 1 exactly (fp16 0x3C00), so q = round-half-away(x).
  std::vector<float> x(32, 0.0f);
  x[0] = 127.0f;
  x[1] = 0.5f;
  x[2] = -0.5f;
  x[3] = 2.5f;
  x[4] = -126.4f;
  x[5] = 3.49f;
  std::vector<uint8_t> q(34);
  quantize_row_q8_0(x.data(), q.data(), 32);
  uint16_t d;
  std::memcpy(&d, q.data(), 2);
  EXPECT_EQ(d, 0x3C00);
  const int8_t* qs = reinterpret_cast<const int8_t*>(q.data() + 2);
  EXPECT_EQ(qs[0], 127);
  EXPECT_EQ(qs[1], 1);
  EXPECT_EQ(qs[2], -1);
  EXPECT_EQ(qs[3], 3);
  EXPECT_EQ(qs[4], -126);
  EXPECT_EQ(qs[5], 3);
  EXPECT_EQ(qs[31], 0);
  // An all-zero block: scale 0 and zeros (no division by zero).
  std::vector<float> z(32, 0.0f);
  quantize_row_q8_0(z.data(), q.data(), 32);
  for (uint8_t b : q) EXPECT_EQ(b, 0);
}

TEST(QuantizeQ8_0, RoundTripWithinBlockScale) {
  std::vector<float> x = testing::randn(32 * 64, 7, 0.05f);
  x[40] = 3.0f;  // one block with an outlier
  for (int i = 64; i < 96; ++i) x[i] = 0.0f;
  std::vector<uint8_t> q(dtype_bytes(DType::kQ8_0, static_cast<int64_t>(x.size())));
  quantize_row_q8_0(x.data(), q.data(), static_cast<int64_t>(x.size()));
  std::vector<float> back(x.size());
  dequantize_row_ref(DType::kQ8_0, q.data(), back.data(), static_cast<int64_t>(x.size()));
  for (size_t b = 0; b < x.size() / 32; ++b) {
    float amax = 0.0f;
    for (size_t i = 0; i < 32; ++i) amax = std::max(amax, std::fabs(x[b * 32 + i]));
    for (size_t i = 0; i < 32; ++i)
      EXPECT_LE(std::fabs(back[b * 32 + i] - x[b * 32 + i]), amax / 127.0f) << b << " " << i;
  }
  EXPECT_EQ(back[70], 0.0f);
}

// ---- tiny models: config, exact stored weights, logits ----

class TinyArch : public ::testing::TestWithParam<const char*> {};

TEST_P(TinyArch, ReloadsAsTheSameModel) {
  const LoadedModel src = load_model(kData + "/tiny/" + GetParam(), false);
  const ModelConfig& cfg = src.model->config();
  const std::vector<int32_t> ids = {1, 17, 200, 3, 99, 45, 7, 250};
  Transformer& sm = *src.model;
  const auto ref = all_logits(sm, ids);
  const auto src_params = params(cfg, src.model->weights());
  for (GgufType type : {GgufType::kF32, GgufType::kF16, GgufType::kBF16, GgufType::kQ8_0}) {
    SCOPED_TRACE(std::string(GetParam()) + " " + gguf_type_name(type));
    const std::string path =
        temp_path(std::string(GetParam()) + "_" + gguf_type_name(type) + ".gguf");
    write_gguf_model(path, cfg, src.model->weights(), nullptr, &src.gen_defaults, type);
    LoadedModel back = load_model(path, false);
    fs::remove(path);
    ModelConfig want = cfg;
    // llama3's schedule is stored as llama.cpp's per-frequency divisors.
    if (cfg.rope_scaling.type == RopeScaling::Type::kLlama3) {
      EXPECT_EQ(back.model->config().rope_scaling.type, RopeScaling::Type::kFactors);
    }
    expect_same_config(back.model->config(), want);
    // Every weight is exactly what storing it as `type` gives (q/k permutation undone).
    const auto got = params(cfg, back.model->weights());
    ASSERT_EQ(got.size(), src_params.size());
    for (size_t i = 0; i < got.size(); ++i) {
      const auto& [name, x] = src_params[i];
      const bool matrix =
          name.find("norm") == std::string::npos && name.find("bias") == std::string::npos;
      const int64_t cols = name.find("down_proj") != std::string::npos ? cfg.intermediate
                           : name.find("o_proj") != std::string::npos  ? cfg.q_dim()
                                                                       : cfg.hidden;
      EXPECT_EQ(max_abs_diff(got[i].second, stored(x, cols, matrix, type)), 0.0f) << name;
    }
    const auto logits = all_logits(*back.model, ids);
    const float d = max_abs_diff(logits, ref);
    float scale = 0.0f;
    for (float v : ref) scale = std::max(scale, std::fabs(v));
    std::printf("%s %s: max |logit diff| %.3g (max |logit| %.3g)\n", GetParam(),
                gguf_type_name(type), d, scale);
    // f32 stores the weights exactly (only llama3's rope factors are recomputed). For the
    // narrower types the bound is the weights' relative rounding (f16 2^-11, bf16 2^-8) times a
    // growth factor of 4 through 2 layers, times max |logit|; q8_0's error is up to d/2 =
    // amax/254 of the block's largest value, about 3x a typical |w| in a Gaussian block of 32,
    // hence 12/254 (measured: up to 6.4/254).
    const float rel = type == GgufType::kF32    ? 0.0f
                      : type == GgufType::kF16  ? 4.0f / 2048.0f
                      : type == GgufType::kBF16 ? 4.0f / 256.0f
                                                : 12.0f / 254.0f;
    EXPECT_LE(d, 1e-5f + rel * scale);
  }
}

INSTANTIATE_TEST_SUITE_P(GgufExport, TinyArch,
                         ::testing::Values("llama", "llama_untied", "qwen2", "qwen3",
                                           "llama3_rope"));

TEST(GgufExport, LoraMergedEqualsMergedWeights) {
  const std::string base = kData + "/tiny/llama", adapter = kData + "/train/peft_llama";
  const std::string out = temp_path("lora.gguf");
  const auto r = run_binary(TSFT_BINARY, "export gguf --model " + base + " --lora " + adapter +
                                             " --type f32 --out " + out);
  ASSERT_EQ(r.exit_code, 0) << r.out;
  LoadedModel src = load_model(base, false);
  const ModelConfig cfg = src.model->config();
  Transformer merged(cfg,
                     merged_weights(cfg, src.model->weights(), read_peft_adapter(adapter, cfg)));
  LoadedModel back = load_model(out, false);
  fs::remove(out);
  const std::vector<int32_t> ids = {1, 5, 60, 200, 13, 2};
  const auto want = all_logits(merged, ids), got = all_logits(*back.model, ids);
  EXPECT_LE(max_abs_diff(got, want), 1e-5f);
  // The adapter changes the logits, so a merge that did nothing would be caught.
  EXPECT_GT(max_abs_diff(got, all_logits(*src.model, ids)), 1e-3f);
}

// q8_0 with rows that are not whole blocks: those matrices are F16 (as the converter falls back),
// the others Q8_0, 1-D tensors F32; every weight reads back as stored in its type.
TEST(GgufExport, Q8_0FallsBackToF16ForShortRows) {
  ModelConfig cfg = load_model(kData + "/tiny/llama", false).model->config();
  cfg.hidden = 48;  // rows of q/k/v/gate/up/embedding: 48 values, not a multiple of 32
  cfg.head_dim = 12;
  cfg.intermediate = 64;  // ffn_down rows: 64 values, two blocks
  cfg.validate("test");
  ModelWeights w = ModelWeights::allocate(cfg);
  uint32_t seed = 1;
  w.for_each(cfg, [&](const std::string&, Tensor& t, Tensor*) {
    const auto v = testing::randn(static_cast<size_t>(t.numel()), seed++, 0.1f);
    std::copy(v.begin(), v.end(), t.f32());
  });
  const std::string out = temp_path("short_rows.gguf");
  write_gguf_model(out, cfg, w, nullptr, nullptr, GgufType::kQ8_0);
  {
    GgufFile g(out);
    EXPECT_EQ(g.find_tensor("token_embd.weight")->dtype, DType::kF16);
    EXPECT_EQ(g.find_tensor("blk.0.attn_q.weight")->dtype, DType::kF16);
    EXPECT_EQ(g.find_tensor("blk.0.attn_output.weight")->dtype, DType::kF16);  // rows of Hq*D = 48
    EXPECT_EQ(g.find_tensor("blk.1.ffn_down.weight")->dtype, DType::kQ8_0);
    EXPECT_EQ(g.find_tensor("blk.1.attn_norm.weight")->dtype, DType::kF32);
    EXPECT_EQ(g.get_uint("general.file_type"), 7u);
  }
  LoadedModel back = load_model(out, false);
  fs::remove(out);
  expect_same_config(back.model->config(), cfg);
  const auto want = params(cfg, w), got = params(cfg, back.model->weights());
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i) {
    const std::string& name = want[i].first;
    const bool matrix = name.find("norm") == std::string::npos;
    const int64_t cols = name.find("down_proj") != std::string::npos ? 64 : 48;
    EXPECT_EQ(max_abs_diff(got[i].second, stored(want[i].second, cols, matrix, GgufType::kQ8_0)),
              0.0f)
        << name;
  }
}

// ---- SmolLM2: tokenizer, chat template, logits ----

std::vector<std::string> sample_texts(const Tokenizer& tok) {
  std::vector<std::string> texts = {
      "Hello, world! 1234567890",
      "  spaces\tand\nnewlines\n",
      "Zürich 你好 🤖 I'm here",
      "{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\"}}",
      "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n"
      "<|im_start|>assistant\n",
      tok.chat_template(),
  };
  for (const AddedToken& t : tok.spec().added) texts.push_back("a " + t.content + "b");
  return texts;
}

void expect_same_tokenizer(const Tokenizer& a, const Tokenizer& b) {
  EXPECT_EQ(a.vocab_size(), b.vocab_size());
  EXPECT_EQ(a.bos_id(), b.bos_id());
  EXPECT_EQ(a.eos_id(), b.eos_id());
  EXPECT_EQ(a.pad_id(), b.pad_id());
  EXPECT_EQ(a.add_bos(), b.add_bos());
  EXPECT_EQ(a.chat_template(), b.chat_template());
  EXPECT_EQ(a.spec().pre, b.spec().pre);
  EXPECT_EQ(a.spec().added.size(), b.spec().added.size());
  for (const std::string& t : sample_texts(a)) {
    EXPECT_EQ(a.encode(t), b.encode(t)) << t;
    EXPECT_EQ(a.encode(t, false), b.encode(t, false)) << t;
  }
}

TEST(GgufExport, SmolLM2KeepsTokenizerTemplateAndLogits) {
  ASSERT_TRUE(fs::exists(kSmol)) << kSmol << " is missing (scripts/fetch_model.sh fetches it)";
  LoadedModel src = load_model(kSmol);
  ASSERT_TRUE(src.tokenizer);
  ASSERT_FALSE(src.tokenizer->chat_template().empty());
  const ModelConfig& cfg = src.model->config();
  const std::vector<int32_t> ids =
      src.tokenizer->encode("<|im_start|>user\nWhat is 2+2?<|im_end|>\n");
  const auto ref = all_logits(*src.model, ids);
  for (GgufType type : {GgufType::kF32, GgufType::kF16, GgufType::kQ8_0}) {
    SCOPED_TRACE(gguf_type_name(type));
    const std::string out = temp_path(std::string("smol_") + gguf_type_name(type) + ".gguf");
    const auto r = run_binary(TSFT_BINARY, "export gguf --model " + kSmol + " --type " +
                                               gguf_type_name(type) + " --out " + out);
    ASSERT_EQ(r.exit_code, 0) << r.out;
    LoadedModel back = load_model(out);
    fs::remove(out);
    expect_same_config(back.model->config(), cfg);
    ASSERT_TRUE(back.tokenizer);
    expect_same_tokenizer(*back.tokenizer, *src.tokenizer);
    EXPECT_EQ(back.gen_defaults.eos_ids, src.gen_defaults.eos_ids);
    const auto logits = all_logits(*back.model, ids);
    const float d = max_abs_diff(logits, ref);
    std::printf("SmolLM2 %s: max |logit diff| %.3g\n", gguf_type_name(type), d);
    // f32 holds the dequantized Q4_1 weights exactly; its logits differ from the source's only
    // by float32 summation order (the source runs short prompts from its blocks, matmul_quant;
    // measured 6.7e-5). f16 rounds Q4_1's values (code * fp16
    // scale + fp16 min) to 11 bits (measured 0.033); q8_0 requantizes them, up to amax/254 per
    // block of 32 through 30 layers (measured 0.66 on logits up to ~20), so the bound for it is
    // 1.0 and the greedy token must not change at any position.
    const float tol = type == GgufType::kF32 ? 1e-3f : type == GgufType::kF16 ? 0.1f : 1.0f;
    EXPECT_LE(d, tol);
    const int64_t V = cfg.vocab;
    for (size_t t = 0; t < ids.size(); ++t) {
      const auto a = ref.begin() + static_cast<int64_t>(t) * V,
                 b = logits.begin() + static_cast<int64_t>(t) * V;
      EXPECT_EQ(std::max_element(a, a + V) - a, std::max_element(b, b + V) - b) << "position " << t;
    }
  }
}

// An added special token (a <tool> sentinel at a new id, the embedding grown to match) survives.
TEST(GgufExport, AddedSpecialTokenSurvives) {
  ASSERT_TRUE(fs::exists(kSmol)) << kSmol << " is missing (scripts/fetch_model.sh fetches it)";
  LoadedModel src = load_model(kSmol);
  const Tokenizer tok = src.tokenizer->with_special_tokens({"<tool>"});
  src.model->grow_vocab(tok.vocab_size());
  const ModelConfig& cfg = src.model->config();
  const std::string out = temp_path("smol_tool.gguf");
  write_gguf_model(out, cfg, src.model->weights(), &tok, &src.gen_defaults, GgufType::kQ8_0);
  LoadedModel back = load_model(out);
  fs::remove(out);
  ASSERT_TRUE(back.tokenizer);
  EXPECT_EQ(back.model->config().vocab, 49153);
  EXPECT_EQ(back.tokenizer->token_id("<tool>"), std::optional<int32_t>(49152));
  EXPECT_TRUE(back.tokenizer->is_special(49152));
  const std::string text = "call <tool>get_weather<|im_end|>";
  EXPECT_EQ(back.tokenizer->encode(text), tok.encode(text));
  const std::vector<int32_t> ids = back.tokenizer->encode(text);
  EXPECT_EQ(std::count(ids.begin(), ids.end(), 49152), 1);
  expect_same_tokenizer(*back.tokenizer, tok);
}

// ---- errors ----

TEST(GgufExport, UnknownTypeAndMissingOut) {
  const std::string base = kData + "/tiny/llama";
  const std::string out = temp_path("never.gguf");
  auto r = run_binary(TSFT_BINARY, "export gguf --model " + base + " --type q4_k --out " + out);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.out.find("--type: unknown GGUF type 'q4_k' (known: f32, f16, bf16, q8_0)"),
            std::string::npos)
      << r.out;
  EXPECT_FALSE(fs::exists(out));
  r = run_binary(TSFT_BINARY, "export gguf --model " + base + " --type f32");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.out.find("--out is required"), std::string::npos) << r.out;
  r = run_binary(TSFT_BINARY, "export onnx --out " + out);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.out.find("unknown target 'onnx' (known: gguf)"), std::string::npos) << r.out;
  EXPECT_EQ(error_of([] { parse_gguf_type("F16", "--type"); }),
            "--type: unknown GGUF type 'F16' (known: f32, f16, bf16, q8_0)");
}

TEST(GgufExport, UnwritablePathLeavesNothingBehind) {
  const std::string base = kData + "/tiny/llama";
  const auto r = run_binary(TSFT_BINARY, "export gguf --model " + base +
                                             " --type f32 --out /nonexistent_dir_tsft/m.gguf");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.out.find("/nonexistent_dir_tsft/m.gguf: directory"), std::string::npos) << r.out;
  // The target is a directory: the write fails at the rename and the temporary file is removed.
  const std::string dir = testing::fresh_temp_dir("gguf_export_dir");
  const std::string target = dir + "/out.gguf";
  fs::create_directories(target + "/inside");
  const LoadedModel m = load_model(base, false);
  const std::string err = error_of([&] {
    write_gguf_model(target, m.model->config(), m.model->weights(), nullptr, nullptr,
                     GgufType::kF32);
  });
  EXPECT_NE(err.find(target), std::string::npos) << err;
  std::vector<std::string> left;
  for (const auto& e : fs::directory_iterator(dir)) left.push_back(e.path().filename().string());
  EXPECT_EQ(left, std::vector<std::string>{"out.gguf"});
  EXPECT_TRUE(fs::is_directory(target + "/inside"));
  fs::remove_all(dir);
}

TEST(GgufExport, SentencePieceTokenizerIsRefused) {
  GgufFile f(kData + "/tokenizers/spm_gguf/tokenizer.gguf");
  const Tokenizer tok = Tokenizer::from_gguf(f);
  LoadedModel m = load_model(kData + "/tiny/llama", false);
  ModelConfig cfg = m.model->config();
  const std::string out = temp_path("spm.gguf");
  const std::string err = error_of(
      [&] { write_gguf_model(out, cfg, m.model->weights(), &tok, nullptr, GgufType::kF32); });
  EXPECT_NE(err.find("only byte-level BPE tokenizers can be exported"), std::string::npos) << err;
  EXPECT_FALSE(fs::exists(out));
}

}  // namespace
}  // namespace tsft
