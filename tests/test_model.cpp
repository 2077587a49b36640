// The forward pass against transformers: tiny random models of every architecture (logits within
// 1e-4, 32 greedy tokens identical) and the default SmolLM2 GGUF (logits within 1e-3, greedy
// tokens identical). Goldens come from tools/make_model_goldens.py.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "backend/cpu/matmul_int.h"
#include "io/hf_config.h"
#include "io/model_loader.h"
#include "io/safetensors.h"
#include "model/sampler.h"
#include "test_util.h"

namespace tsft {
namespace {

const std::string kData = TSFT_TEST_DATA_DIR;
const std::string kDefaultModel = tsft::testing::default_model_path();

std::vector<int32_t> read_ids(const SafetensorsFile& f, const std::string& name) {
  const SafetensorsTensor* t = f.find(name);
  EXPECT_NE(t, nullptr) << name;
  if (t == nullptr) return {};
  EXPECT_EQ(t->dtype, DType::kI64) << name;
  std::vector<int32_t> out(t->nbytes / 8);
  for (size_t i = 0; i < out.size(); ++i) {
    int64_t v;
    std::memcpy(&v, t->data + 8 * i, 8);
    out[i] = static_cast<int32_t>(v);
  }
  return out;
}

const float* read_f32(const SafetensorsFile& f, const std::string& name, size_t expect_numel) {
  const SafetensorsTensor* t = f.find(name);
  EXPECT_NE(t, nullptr) << name;
  if (t == nullptr) return nullptr;
  EXPECT_EQ(t->dtype, DType::kF32) << name;
  EXPECT_EQ(t->nbytes, expect_numel * 4) << name;
  return reinterpret_cast<const float*>(t->data);
}

std::vector<int32_t> greedy(Transformer& m, const std::vector<int32_t>& prompt, int n) {
  KvCache cache = m.make_cache(prompt.size() + n);
  std::vector<float> logits(m.config().vocab);
  m.forward(prompt.data(), prompt.size(), cache, logits.data(), 1);
  std::vector<int32_t> out;
  for (int i = 0; i < n; ++i) {
    const int32_t next = argmax(logits.data(), m.config().vocab);
    out.push_back(next);
    if (i + 1 < n) m.forward(&next, 1, cache, logits.data(), 1);
  }
  return out;
}

class TinyModel : public ::testing::TestWithParam<std::string> {};

TEST_P(TinyModel, LogitsAndGreedyMatchTransformers) {
  const std::string dir = kData + "/tiny/" + GetParam();
  LoadedModel lm = load_model(dir, /*with_tokenizer=*/false);
  Transformer& m = *lm.model;
  SafetensorsFile golden(dir + "/golden.safetensors");
  const auto ids = read_ids(golden, "input_ids");
  const int64_t T = ids.size(), V = m.config().vocab;
  const float* want = read_f32(golden, "logits", T * V);
  ASSERT_NE(want, nullptr);

  std::vector<float> got(T * V);
  KvCache cache = m.make_cache(T);
  m.forward(ids.data(), T, cache, got.data(), T);
  float max_diff = 0.0f;
  for (int64_t i = 0; i < T * V; ++i) max_diff = std::max(max_diff, std::fabs(got[i] - want[i]));
  std::printf("[ %s ] max |logit diff| vs transformers: %.3g\n", GetParam().c_str(), max_diff);
  EXPECT_LT(max_diff, 1e-4f);

  // The same logits when the sequence is fed one token at a time through the KV cache.
  KvCache inc = m.make_cache(T);
  std::vector<float> step(V);
  float inc_diff = 0.0f;
  for (int64_t t = 0; t < T; ++t) {
    m.forward(&ids[t], 1, inc, step.data(), 1);
    for (int64_t v = 0; v < V; ++v) inc_diff = std::max(inc_diff, std::fabs(step[v] - want[t * V + v]));
  }
  EXPECT_LT(inc_diff, 1e-4f);

  const auto prompt = read_ids(golden, "greedy_prompt");
  const auto want_tokens = read_ids(golden, "greedy_tokens");
  EXPECT_EQ(greedy(m, prompt, want_tokens.size()), want_tokens);
}

INSTANTIATE_TEST_SUITE_P(Architectures, TinyModel,
                         ::testing::Values("llama", "llama_untied", "llama3_rope", "qwen2", "qwen3",
                                           "llama_sharded", "llama_bf16"));

TEST(TinyModelConfig, Llama3ScalingChangesFrequencies) {
  // Guards the llama3_rope golden: the scaling must actually move some frequencies.
  const ModelConfig c = parse_hf_config(kData + "/tiny/llama3_rope/config.json");
  ASSERT_EQ(c.rope_scaling.type, RopeScaling::Type::kLlama3);
  std::vector<float> scaled(c.head_dim / 2), plain(c.head_dim / 2);
  rope_inv_freq(scaled.data(), c.head_dim, c.rope_theta, c.rope_scaling);
  rope_inv_freq(plain.data(), c.head_dim, c.rope_theta, RopeScaling{});
  int changed = 0;
  for (size_t i = 0; i < plain.size(); ++i) changed += scaled[i] != plain[i];
  EXPECT_GT(changed, 0);
}

TEST(HfConfig, ReadsTransformers5RopeParameters) {
  const ModelConfig c = parse_hf_config_text(
      R"({"model_type":"llama","hidden_size":64,"num_hidden_layers":2,"num_attention_heads":4,)"
      R"("intermediate_size":128,"vocab_size":256,"rope_parameters":{"rope_theta":500000.0,)"
      R"("rope_type":"llama3","factor":8.0,"low_freq_factor":1.0,"high_freq_factor":4.0,)"
      R"("original_max_position_embeddings":8192}})",
      "cfg.json");
  EXPECT_FLOAT_EQ(c.rope_theta, 500000.0f);
  EXPECT_EQ(c.rope_scaling.type, RopeScaling::Type::kLlama3);
  EXPECT_FLOAT_EQ(c.rope_scaling.original_max_position, 8192.0f);
  EXPECT_EQ(c.n_kv_heads, 4);  // defaults to the query heads
}

TEST(DefaultModel, LogitsAndGreedyMatchTransformers) {
  ASSERT_TRUE(std::filesystem::exists(kDefaultModel))
      << kDefaultModel << " is missing: scripts/test.sh fetches it (scripts/fetch_model.sh)";
  LoadedModel lm = load_model(kDefaultModel, /*with_tokenizer=*/false);
  Transformer& m = *lm.model;
  const int64_t V = m.config().vocab;
  SafetensorsFile golden(kData + "/smollm2_golden.safetensors");
  const auto slice = read_ids(golden, "vocab_slice");
  ASSERT_FALSE(slice.empty());
  for (int p = 0; p < 5; ++p) {
    const std::string k = std::string("p").append(std::to_string(p)).append("_");
    const auto ids = read_ids(golden, k + "ids");
    const int64_t T = ids.size();
    const float* last = read_f32(golden, k + "last_logits", V);
    const float* sl = read_f32(golden, k + "logits_slice", T * slice.size());
    ASSERT_TRUE(last && sl);
    std::vector<float> got(T * V);
    KvCache cache = m.make_cache(T);
    m.forward(ids.data(), T, cache, got.data(), T);
    float max_diff = 0.0f;
    for (int64_t v = 0; v < V; ++v)
      max_diff = std::max(max_diff, std::fabs(got[(T - 1) * V + v] - last[v]));
    for (int64_t t = 0; t < T; ++t)
      for (size_t j = 0; j < slice.size(); ++j)
        max_diff = std::max(max_diff, std::fabs(got[t * V + slice[j]] - sl[t * slice.size() + j]));
    std::printf("[ prompt %d ] %lld tokens, max |logit diff| vs transformers: %.3g\n", p,
                static_cast<long long>(T), max_diff);
    EXPECT_LT(max_diff, 1e-3f) << "prompt " << p;
    // Token by token: the decoding path (matrix-vector products from the quantized blocks).
    KvCache inc = m.make_cache(T);
    std::vector<float> step(V);
    for (int64_t t = 0; t < T; ++t) m.forward(&ids[t], 1, inc, step.data(), 1);
    float step_diff = 0.0f;
    for (int64_t v = 0; v < V; ++v) step_diff = std::max(step_diff, std::fabs(step[v] - last[v]));
    std::printf("[ prompt %d ] decoding one token at a time, max |logit diff|: %.3g\n", p, step_diff);
    EXPECT_LT(step_diff, 1e-3f) << "prompt " << p;
    const auto want_tokens = read_ids(golden, k + "greedy");
    EXPECT_EQ(greedy(m, ids, want_tokens.size()), want_tokens) << "prompt " << p;
  }
}

// Restores the default precision when a test that changed it ends.
struct ActivationsFor {
  explicit ActivationsFor(Activations a) { set_activations(a); }
  ~ActivationsFor() { set_activations(Activations::kAuto); }
};

// The golden prompts' ids (p0 .. p4).
std::vector<std::vector<int32_t>> golden_prompts(SafetensorsFile& golden) {
  std::vector<std::vector<int32_t>> prompts;
  for (int p = 0; p < 5; ++p)
    prompts.push_back(read_ids(golden, std::string("p").append(std::to_string(p)) + "_ids"));
  return prompts;
}

// Logits (prompts.size(), V) of one batched step over each prompt's last token, after the rest
// of each prompt has run alone (forward: float32).
std::vector<float> last_tokens_in_one_step(Transformer& m,
                                           const std::vector<std::vector<int32_t>>& prompts) {
  const int64_t V = m.config().vocab;
  std::vector<KvCache> caches;
  std::vector<BatchSeq> seqs;
  std::vector<float> scratch(V);
  for (const auto& ids : prompts) caches.push_back(m.make_cache(ids.size()));
  for (size_t i = 0; i < prompts.size(); ++i) {
    const int64_t T = prompts[i].size();
    m.forward(prompts[i].data(), T - 1, caches[i], scratch.data(), 1);
    seqs.push_back({&prompts[i][T - 1], 1, &caches[i], nullptr});
  }
  std::vector<float> logits(prompts.size() * V);
  m.forward_batch(seqs, logits.data());
  return logits;
}

// The default model with the golden prompts, on a CPU with the integer kernels.
class IntegerProducts : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!matmul_int_supported(DType::kQ4_1))
      GTEST_SKIP() << "this build has no integer kernels (the CPU lacks AVX512-VNNI)";
    ASSERT_TRUE(std::filesystem::exists(kDefaultModel));
    lm_ = load_model(kDefaultModel, /*with_tokenizer=*/false);
    golden_ = std::make_unique<SafetensorsFile>(kData + "/smollm2_golden.safetensors");
  }
  LoadedModel lm_;
  std::unique_ptr<SafetensorsFile> golden_;
};

// A batched decoding step of 10 sequences (the last token of each golden prompt, twice) runs its
// products in int16 by default (Activations::kAuto): every sequence's logits stay close to the
// float32 step's (measured: at most 0.003-0.008 apart, logits up to 31; int16 steps are 1/65534
// of a block's largest input, and SmolLM2's outlier channels make some blocks' largest large).
TEST_F(IntegerProducts, BatchedStepsInInt16MatchFloat32) {
  Transformer& m = *lm_.model;
  const int64_t V = m.config().vocab;
  std::vector<std::vector<int32_t>> prompts = golden_prompts(*golden_);
  for (int p = 0; p < 5; ++p) prompts.push_back(prompts[p]);
  const std::vector<float> batch = last_tokens_in_one_step(m, prompts);
  std::vector<float> f32_batch;
  {
    ActivationsFor f32(Activations::kF32);
    f32_batch = last_tokens_in_one_step(m, prompts);
  }
  for (size_t i = 0; i < prompts.size(); ++i) {
    float d = 0.0f;
    for (int64_t v = 0; v < V; ++v)
      d = std::max(d, std::fabs(batch[i * V + v] - f32_batch[i * V + v]));
    std::printf("[ sequence %zu ] int16 batched step vs float32: max |logit diff| %.3g\n", i, d);
    EXPECT_LT(d, 0.03f) << "sequence " << i;
    if (i == 0) {
      EXPECT_GT(d, 0.0f) << "the step did not run in int16";
    }
  }
}

// With --activations int8 the GGUF's products round each block of 32 inputs to int8 (llama.cpp's
// arithmetic): the logits move from transformers' by a bounded amount (measured: a mean of 1% to
// 4.4% of the largest logit) and the most likely next token stays the same, in the prompt pass,
// token by token and in a batched step.
TEST_F(IntegerProducts, Int8ActivationsStayClose) {
  Transformer& m = *lm_.model;
  const int64_t V = m.config().vocab;
  SafetensorsFile& golden = *golden_;
  ActivationsFor int8(Activations::kInt8);
  auto check = [&](const float* got, const float* want, const std::string& what) {
    double diff = 0.0, largest = 0.0;
    for (int64_t v = 0; v < V; ++v) {
      diff += std::fabs(got[v] - want[v]);
      largest = std::max(largest, static_cast<double>(std::fabs(want[v])));
    }
    diff /= static_cast<double>(V);
    std::printf("[ %s ] int8: mean |logit diff| vs transformers %.3g (largest logit %.3g), "
                "argmax %d vs %d\n",
                what.c_str(), diff, largest, argmax(got, V), argmax(want, V));
    EXPECT_GT(diff, 0.0) << what << ": int8 changed nothing";
    EXPECT_LT(diff, 0.08 * largest) << what;
    EXPECT_EQ(argmax(got, V), argmax(want, V)) << what;
  };
  const std::vector<std::vector<int32_t>> prompts = golden_prompts(golden);
  std::vector<const float*> wants;
  for (int p = 0; p < 5; ++p) {
    const std::vector<int32_t>& ids = prompts[p];
    const int64_t T = ids.size();
    const float* want = read_f32(golden, std::string("p").append(std::to_string(p)) +
                                             "_last_logits", V);
    ASSERT_TRUE(want);
    wants.push_back(want);
    std::vector<float> got(V), step(V);
    KvCache cache = m.make_cache(T);
    m.forward(ids.data(), T, cache, got.data(), 1);
    check(got.data(), want, "prompt " + std::to_string(p));
    KvCache inc = m.make_cache(T);
    for (int64_t t = 0; t < T; ++t) m.forward(&ids[t], 1, inc, step.data(), 1);
    check(step.data(), want, "prompt " + std::to_string(p) + " token by token");
  }
  const std::vector<float> batch = last_tokens_in_one_step(m, prompts);
  for (size_t i = 0; i < prompts.size(); ++i)
    check(batch.data() + i * V, wants[i], "prompt " + std::to_string(i) + " in a batch");
}

TEST(DefaultModel, ConfigFromGguf) {
  ASSERT_TRUE(std::filesystem::exists(kDefaultModel));
  GgufFile g(kDefaultModel);
  const ModelConfig c = config_from_gguf(g);
  EXPECT_EQ(c.arch, Arch::kLlama);
  EXPECT_EQ(c.hidden, 576);
  EXPECT_EQ(c.n_layers, 30);
  EXPECT_EQ(c.n_heads, 9);
  EXPECT_EQ(c.n_kv_heads, 3);
  EXPECT_EQ(c.head_dim, 64);
  EXPECT_EQ(c.intermediate, 1536);
  EXPECT_EQ(c.vocab, 49152);
  EXPECT_TRUE(c.tie_embeddings);
  EXPECT_FLOAT_EQ(c.rope_theta, 100000.0f);
  EXPECT_EQ(c.eos_ids, std::vector<int32_t>{2});
}

std::string config_error(const std::string& json) {
  try {
    parse_hf_config_text(json, "cfg.json");
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(HfConfig, ErrorsNameTheField) {
  const std::string ok =
      R"({"architectures":["LlamaForCausalLM"],"model_type":"llama","hidden_size":64,)"
      R"("num_hidden_layers":2,"num_attention_heads":4,"num_key_value_heads":2,)"
      R"("intermediate_size":128,"vocab_size":256})";
  EXPECT_EQ(config_error(ok), "");
  auto without = [&](const std::string& key) {
    std::string j = ok;
    const size_t at = j.find("\"" + key + "\"");
    const size_t end = j.find_first_of(",}", at);
    j.erase(at, end - at + (j[end] == ',' ? 1 : 0));
    if (j[j.size() - 2] == ',') j.erase(j.size() - 2, 1);
    return j;
  };
  EXPECT_NE(config_error(without("hidden_size")).find("missing field 'hidden_size'"), std::string::npos);
  EXPECT_NE(config_error(without("vocab_size")).find("'vocab_size'"), std::string::npos);
  std::string bad_type = ok;
  bad_type.replace(bad_type.find("64"), 2, "\"64\"");
  EXPECT_NE(config_error(bad_type).find("'hidden_size' must be an integer"), std::string::npos);
  std::string gqa = ok;
  gqa.replace(gqa.find("\"num_key_value_heads\":2"), 23, "\"num_key_value_heads\":3");
  EXPECT_NE(config_error(gqa).find("not a multiple"), std::string::npos);
  std::string arch = ok;
  arch.replace(arch.find("\"llama\""), 7, "\"gpt_neox\"");
  arch.replace(arch.find("LlamaForCausalLM"), 16, "GPTNeoXForCausalLM");
  EXPECT_NE(config_error(arch).find("unsupported architecture"), std::string::npos);
  EXPECT_NE(config_error("{not json").find("invalid JSON"), std::string::npos);
  EXPECT_NE(config_error(ok.substr(0, ok.size() - 1) + R"(,"rope_scaling":{"rope_type":"yarn","factor":2}})")
                .find("yarn"),
            std::string::npos);
}

TEST(Loader, MissingTensorIsAClearError) {
  const std::string dir = (std::filesystem::temp_directory_path() / "tsft_missing_tensor").string();
  std::filesystem::create_directories(dir);
  std::filesystem::copy_file(kData + "/tiny/llama/config.json", dir + "/config.json",
                             std::filesystem::copy_options::overwrite_existing);
  // A safetensors file with one unrelated tensor.
  const std::string header = R"({"foo":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})";
  std::ofstream f(dir + "/model.safetensors", std::ios::binary);
  const uint64_t n = header.size();
  f.write(reinterpret_cast<const char*>(&n), 8);
  f << header;
  const float zero = 0.0f;
  f.write(reinterpret_cast<const char*>(&zero), 4);
  f.close();
  try {
    load_model(dir, false);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("model.embed_tokens.weight"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace tsft
