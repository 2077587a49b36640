// Models from GGUF files: tiny transformers models converted the way llama.cpp's converter does
// it (GGUF names, llama q/k rows interleaved per head) must load back to the transformers logits;
// model-level problems (unknown architecture, missing tensor, wrong shape) are clear errors.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <set>

#include "core/half.h"
#include "io/gguf_model.h"
#include "io/gguf_writer.h"
#include "io/model_loader.h"
#include "io/safetensors.h"
#include "model/sampler.h"

namespace tsft {
namespace {

const std::string kData = TSFT_TEST_DATA_DIR;

struct ConvertOptions {
  ConvertOptions(std::string a, bool permute = false) : arch(std::move(a)), permute_qk(permute) {}
  std::string arch;
  bool permute_qk = false;
  std::string drop_tensor;            // GGUF name to leave out
  std::string wrong_shape_tensor;     // GGUF name written with swapped dims
  bool f16_matrices = false;          // store 2-D weights as F16 (norms stay F32, as llama.cpp does)
};

// llama.cpp's permute(): HF row j*(D/2) + i of each head goes to GGUF row 2*i + j.
std::vector<float> permute_rows(const float* w, int64_t rows, int64_t cols, int64_t heads) {
  std::vector<float> out(rows * cols);
  const int64_t per_head = rows / heads, half = per_head / 2;
  for (int64_t h = 0; h < heads; ++h)
    for (int64_t i = 0; i < half; ++i)
      for (int64_t j = 0; j < 2; ++j)
        std::memcpy(&out[(h * per_head + 2 * i + j) * cols], w + (h * per_head + j * half + i) * cols,
                    cols * sizeof(float));
  return out;
}

std::string convert(const std::string& hf_dir, const ConvertOptions& opt, const std::string& out) {
  const ModelConfig c = config_from_hf_dir(hf_dir);
  SafetensorsModel st(hf_dir);
  GgufWriter w;
  const std::string a = opt.arch + ".";
  w.set_string("general.architecture", opt.arch);
  w.set_u32(a + "block_count", c.n_layers);
  w.set_u32(a + "embedding_length", c.hidden);
  w.set_u32(a + "feed_forward_length", c.intermediate);
  w.set_u32(a + "attention.head_count", c.n_heads);
  w.set_u32(a + "attention.head_count_kv", c.n_kv_heads);
  w.set_u32(a + "attention.key_length", c.head_dim);
  w.set_u32(a + "context_length", c.max_positions);
  w.set_f32(a + "rope.freq_base", c.rope_theta);
  w.set_f32(a + "attention.layer_norm_rms_epsilon", c.rms_eps);
  w.set_u32("tokenizer.ggml.eos_token_id", 2);
  for (const auto& name : st.names()) {
    const SafetensorsTensor* t = st.find(name);
    const std::string gname = gguf_tensor_name(name);
    if (gname == opt.drop_tensor) continue;
    std::vector<float> f(t->nbytes / 4);
    std::memcpy(f.data(), t->data, t->nbytes);
    std::vector<int64_t> ne(t->shape.rbegin(), t->shape.rend());
    const bool is_q = name.find("q_proj.weight") != std::string::npos;
    const bool is_k = name.find("k_proj.weight") != std::string::npos;
    if (opt.permute_qk && (is_q || is_k))
      f = permute_rows(f.data(), t->shape[0], t->shape[1], is_q ? c.n_heads : c.n_kv_heads);
    if (gname == opt.wrong_shape_tensor) std::swap(ne[0], ne[1]);
    if (opt.f16_matrices && ne.size() == 2) {
      std::vector<uint16_t> h(f.size());
      for (size_t i = 0; i < f.size(); ++i) h[i] = f32_to_f16(f[i]);
      w.add_tensor(gname, DType::kF16, ne, h.data());
    } else {
      w.add_tensor(gname, DType::kF32, ne, f.data());
    }
  }
  w.write(out);
  return out;
}

class GgufModel : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("tsft_gguf_model_" + std::to_string(getpid()));
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string path(const std::string& name) { return (dir_ / name).string(); }

  // Loads the GGUF and compares every position's logits with the transformers golden.
  float max_logit_diff(const std::string& gguf, const std::string& tiny) {
    LoadedModel lm = load_model(gguf, false);
    SafetensorsFile golden(kData + "/tiny/" + tiny + "/golden.safetensors");
    const SafetensorsTensor* ids_t = golden.find("input_ids");
    const SafetensorsTensor* want_t = golden.find("logits");
    std::vector<int32_t> ids(ids_t->nbytes / 8);
    for (size_t i = 0; i < ids.size(); ++i) {
      int64_t v;
      std::memcpy(&v, ids_t->data + 8 * i, 8);
      ids[i] = static_cast<int32_t>(v);
    }
    const int64_t T = ids.size(), V = lm.model->config().vocab;
    std::vector<float> got(T * V), want(T * V);
    std::memcpy(want.data(), want_t->data, want.size() * 4);
    KvCache cache = lm.model->make_cache(T);
    lm.model->forward(ids.data(), T, cache, got.data(), T);
    float m = 0.0f;
    for (int64_t i = 0; i < T * V; ++i) m = std::max(m, std::fabs(got[i] - want[i]));
    return m;
  }

  std::string load_error(const std::string& gguf) {
    try {
      load_model(gguf, false);
    } catch (const Error& e) {
      return e.what();
    }
    return "";
  }

  std::filesystem::path dir_;
};

TEST_F(GgufModel, LlamaWithPermutedQkMatchesTransformers) {
  const std::string g = convert(kData + "/tiny/llama", {"llama", true}, path("llama.gguf"));
  EXPECT_LT(max_logit_diff(g, "llama"), 1e-4f);
}

TEST_F(GgufModel, UntiedLlamaMatchesTransformers) {
  const std::string g = convert(kData + "/tiny/llama_untied", {"llama", true}, path("untied.gguf"));
  EXPECT_FALSE(load_model(g, false).model->config().tie_embeddings);
  EXPECT_LT(max_logit_diff(g, "llama_untied"), 1e-4f);
}

TEST_F(GgufModel, Qwen2AndQwen3MatchTransformers) {
  // llama.cpp keeps q/k rows as they are for these (its NeoX RoPE mode).
  EXPECT_LT(max_logit_diff(convert(kData + "/tiny/qwen2", {"qwen2"}, path("q2.gguf")), "qwen2"), 1e-4f);
  EXPECT_LT(max_logit_diff(convert(kData + "/tiny/qwen3", {"qwen3"}, path("q3.gguf")), "qwen3"), 1e-4f);
}

TEST_F(GgufModel, F16WeightsAreClose) {
  ConvertOptions o{"llama", true};
  o.f16_matrices = true;
  const float d = max_logit_diff(convert(kData + "/tiny/llama", o, path("f16.gguf")), "llama");
  EXPECT_GT(d, 0.0f);  // F16 rounding is visible...
  EXPECT_LT(d, 2e-2f);  // ...but small
}

TEST_F(GgufModel, UnknownArchitectureIsAClearError) {
  const std::string g = convert(kData + "/tiny/llama", {"gpt2"}, path("gpt2.gguf"));
  const std::string e = load_error(g);
  EXPECT_EQ(e.rfind(g + ": ", 0), 0u) << e;
  EXPECT_NE(e.find("unsupported architecture 'gpt2'"), std::string::npos) << e;
}

TEST_F(GgufModel, MissingTensorIsAClearError) {
  ConvertOptions o{"llama", true};
  o.drop_tensor = "blk.1.ffn_up.weight";
  const std::string g = convert(kData + "/tiny/llama", o, path("missing.gguf"));
  const std::string e = load_error(g);
  EXPECT_NE(e.find("blk.1.ffn_up.weight"), std::string::npos) << e;
  EXPECT_NE(e.find("missing"), std::string::npos) << e;
}

TEST_F(GgufModel, WrongShapeIsAClearError) {
  ConvertOptions o{"llama", true};
  o.wrong_shape_tensor = "blk.0.ffn_down.weight";
  const std::string g = convert(kData + "/tiny/llama", o, path("shape.gguf"));
  const std::string e = load_error(g);
  EXPECT_NE(e.find("blk.0.ffn_down.weight"), std::string::npos) << e;
  EXPECT_NE(e.find("shape"), std::string::npos) << e;
}

TEST_F(GgufModel, WriterNeverLeavesAPartialFile) {
  GgufWriter w;
  w.set_string("general.architecture", "llama");
  EXPECT_THROW(w.write("/nonexistent-dir/x.gguf"), Error);
  const std::string p = path("keep.gguf");
  w.write(p);
  GgufFile f(p);
  EXPECT_EQ(f.get_string("general.architecture"), "llama");
  EXPECT_FALSE(std::filesystem::exists(p + ".tmp"));
}

}  // namespace
}  // namespace tsft
