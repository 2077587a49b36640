#include "io/model_loader.h"

#include <filesystem>

#include "backend/cpu/dequant.h"
#include "core/error.h"
#include "core/log.h"
#include "io/gguf_model.h"
#include "io/hf_config.h"
#include "io/safetensors.h"

namespace tsft {
namespace fs = std::filesystem;

bool is_gguf_path(const std::string& path) {
  return fs::is_regular_file(path) && path.size() >= 5 &&
         path.compare(path.size() - 5, 5, ".gguf") == 0;
}

ModelConfig config_from_hf_dir(const std::string& dir) {
  const std::string cfg_path = (fs::path(dir) / "config.json").string();
  if (!fs::exists(cfg_path)) fail(dir, ": no config.json (expected a Hugging Face model directory)");
  return parse_hf_config(cfg_path);
}

namespace {

ModelWeights weights_from_safetensors(const SafetensorsModel& st, const ModelConfig& cfg,
                                      std::map<std::string, int>& type_counts) {
  ModelWeights w = ModelWeights::allocate(cfg);
  w.for_each(cfg, [&](const std::string& name, Tensor& dst, Tensor* /*quant*/) {
    const SafetensorsTensor* t = st.find(name);
    if (t == nullptr) fail(st.dir(), ": tensor '", name, "' missing from the safetensors files");
    const Tensor src = t->view();
    if (!(src.shape == dst.shape))
      fail(st.dir(), ": tensor '", name, "' has shape ", src.shape.to_string(), ", expected ",
           dst.shape.to_string());
    if (t->dtype != DType::kF32 && t->dtype != DType::kF16 && t->dtype != DType::kBF16)
      fail(st.dir(), ": tensor '", name, "' has type ", dtype_name(t->dtype),
           "; model weights must be F32, F16 or BF16");
    dequantize_row(t->dtype, t->data, dst.f32(), dst.numel());
    ++type_counts[std::string(dtype_name(t->dtype))];
  });
  return w;
}

}  // namespace

LoadedModel load_model(const std::string& path, bool with_tokenizer) {
  LoadedModel out;
  out.path = path;
  if (!fs::exists(path)) fail(path, ": no such file or directory");
  if (fs::is_directory(path)) {
    out.format = "hf";
    ModelConfig cfg = config_from_hf_dir(path);
    SafetensorsModel st(path);
    ModelWeights w = weights_from_safetensors(st, cfg, out.tensor_types);
    out.gen_defaults.eos_ids = cfg.eos_ids;
    const fs::path gen_cfg = fs::path(path) / "generation_config.json";
    if (fs::exists(gen_cfg)) apply_generation_config(gen_cfg.string(), out.gen_defaults);
    out.model = std::make_unique<Transformer>(std::move(cfg), std::move(w));
    const fs::path tok = fs::path(path) / "tokenizer.json";
    if (with_tokenizer && fs::exists(tok))
      out.tokenizer = std::make_unique<Tokenizer>(Tokenizer::from_json_file(tok.string()));
  } else {
    out.format = "gguf";
    GgufFile g(path);
    ModelConfig cfg = config_from_gguf(g);
    ModelWeights w = weights_from_gguf(g, cfg, out.tensor_types);
    out.gen_defaults.eos_ids = cfg.eos_ids;
    out.model = std::make_unique<Transformer>(std::move(cfg), std::move(w));
    if (with_tokenizer && g.has("tokenizer.ggml.tokens"))
      out.tokenizer = std::make_unique<Tokenizer>(Tokenizer::from_gguf(g));
  }
  if (out.tokenizer && out.model->config().vocab < out.tokenizer->vocab_size())
    fail(path, ": the tokenizer has ", out.tokenizer->vocab_size(),
         " tokens but the model's vocabulary is ", out.model->config().vocab);
  return out;
}

}  // namespace tsft
