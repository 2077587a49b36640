#include "export/hf_export.h"

#include <charconv>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "io/file_write.h"
#include "export/tokenizer_export.h"
#include "io/safetensors_writer.h"

namespace tsft {
namespace {

using ojson = nlohmann::ordered_json;

// A float32 as the shortest decimal that reads back to it (1e-06, not 9.99999997e-07), which is
// what the Python float in the original config.json held.
ojson decimal(float v) {
  char buf[32];
  auto r = std::to_chars(buf, buf + sizeof(buf), v);
  TSFT_CHECK(r.ec == std::errc());
  return std::stod(std::string(buf, r.ptr));
}

ojson id_or_list(const std::vector<int32_t>& ids) {
  if (ids.empty()) return nullptr;
  if (ids.size() == 1) return ids[0];
  return ids;
}

ojson rope_scaling(const ModelConfig& cfg) {
  const RopeScaling& r = cfg.rope_scaling;
  switch (r.type) {
    case RopeScaling::Type::kNone:
      return nullptr;
    case RopeScaling::Type::kLinear:
      return {{"factor", decimal(r.factor)}, {"rope_type", "linear"}, {"type", "linear"}};
    case RopeScaling::Type::kLlama3:
      return {{"factor", decimal(r.factor)},
              {"high_freq_factor", decimal(r.high_freq_factor)},
              {"low_freq_factor", decimal(r.low_freq_factor)},
              {"original_max_position_embeddings", static_cast<int64_t>(r.original_max_position)},
              {"rope_type", "llama3"}};
    case RopeScaling::Type::kFactors:
      fail(
          "the model uses per-frequency RoPE factors (a GGUF rope_freqs tensor), which config.json "
          "cannot express; export from the Hugging Face checkpoint instead");
  }
  TSFT_CHECK(false, "bad rope scaling type");
  return nullptr;
}

}  // namespace

std::string hf_config_text(const ModelConfig& cfg) {
  const ArchSpec& spec = arch_spec(cfg.arch);
  ojson c = {{"architectures", ojson::array({std::string(spec.hf_classes.at(0))})},
             {"attention_bias", cfg.qkv_bias},
             {"attention_dropout", 0.0},
             {"bos_token_id", cfg.bos_id >= 0 ? ojson(cfg.bos_id) : ojson(nullptr)},
             {"eos_token_id", id_or_list(cfg.eos_ids)},
             {"head_dim", cfg.head_dim},
             {"hidden_act", "silu"},
             {"hidden_size", cfg.hidden},
             {"intermediate_size", cfg.intermediate},
             {"max_position_embeddings", cfg.max_positions},
             {"model_type", std::string(spec.hf_model_types.at(0))}};
  if (cfg.arch == Arch::kLlama) c["mlp_bias"] = false;
  c["num_attention_heads"] = cfg.n_heads;
  c["num_hidden_layers"] = cfg.n_layers;
  c["num_key_value_heads"] = cfg.n_kv_heads;
  c["rms_norm_eps"] = decimal(cfg.rms_eps);
  c["rope_scaling"] = rope_scaling(cfg);
  c["rope_theta"] = decimal(cfg.rope_theta);
  if (cfg.arch != Arch::kLlama) {
    c["sliding_window"] = nullptr;
    c["use_sliding_window"] = false;
  }
  c["tie_word_embeddings"] = cfg.tie_embeddings;
  c["torch_dtype"] = "float32";
  c["use_cache"] = true;
  c["vocab_size"] = cfg.vocab;
  return c.dump(2) + "\n";
}

std::string generation_config_text(const ModelConfig& cfg, const GenerationConfig* gen) {
  const std::vector<int32_t>& eos =
      gen != nullptr && !gen->eos_ids.empty() ? gen->eos_ids : cfg.eos_ids;
  ojson g = {{"bos_token_id", cfg.bos_id >= 0 ? ojson(cfg.bos_id) : ojson(nullptr)},
             {"eos_token_id", id_or_list(eos)}};
  if (gen != nullptr && gen->sampling.temperature > 0.0f) {
    g["do_sample"] = true;
    g["temperature"] = decimal(gen->sampling.temperature);
    g["top_p"] = decimal(gen->sampling.top_p);
    g["top_k"] = gen->sampling.top_k;
  }
  return g.dump(2) + "\n";
}

void write_hf_model(const std::string& dir, const ModelConfig& cfg, const ModelWeights& w,
                    const Tokenizer* tok, const GenerationConfig* gen) {
  const std::string config = hf_config_text(cfg);  // fails before anything is created
  if (tok != nullptr && tok->vocab_size() > cfg.vocab)
    fail(dir, ": the tokenizer has ", tok->vocab_size(), " tokens but the model's vocabulary is ",
         cfg.vocab);
  std::vector<std::pair<std::string, Tensor>> tensors;
  // for_each is not const, but here it only collects views.
  const_cast<ModelWeights&>(w).for_each(cfg, [&](const std::string& name, Tensor& t, Tensor*) {
    TSFT_CHECK(t.dtype == DType::kF32 && t.data != nullptr, name, " is not a float32 tensor");
    tensors.emplace_back(name, t);
  });

  StagedDir staged(dir);
  write_text_file(staged.file("config.json"), config);
  write_text_file(staged.file("generation_config.json"), generation_config_text(cfg, gen));
  write_safetensors(staged.file("model.safetensors"), tensors, {{"format", "pt"}});
  if (tok != nullptr) write_tokenizer_files(staged.path(), *tok, cfg.max_positions);
  staged.commit();
}

}  // namespace tsft
