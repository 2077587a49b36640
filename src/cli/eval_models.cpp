#include "cli/eval_models.h"

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "export/merge.h"
#include "io/peft_adapter.h"
#include "train/checkpoint.h"
#include "train/train_config.h"

namespace tsft {
namespace fs = std::filesystem;

namespace {

bool is_adapter_dir(const std::string& p) { return fs::exists(fs::path(p) / "adapter_config.json"); }

std::string adapter_base(const std::string& adapter_dir) {
  std::ifstream in(fs::path(adapter_dir) / "adapter_config.json");
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(in);
  } catch (const nlohmann::json::exception& e) {
    fail(adapter_dir, "/adapter_config.json: not valid JSON: ", e.what());
  }
  return j.value("base_model_name_or_path", "");
}

}  // namespace

EvalModelSpec model_spec_of(const std::string& path, const std::string& base) {
  if (!fs::exists(path)) fail(path, ": no such model file or directory");
  EvalModelSpec s;
  s.name = fs::path(path).filename().string();
  if (s.name.empty()) s.name = fs::path(path).parent_path().filename().string();
  std::string p = path;
  // A checkpoint directory holds a loadable model/ or adapter/.
  if (fs::is_directory(p) && !fs::exists(fs::path(p) / "config.json") && !is_adapter_dir(p)) {
    if (fs::is_directory(fs::path(p) / "model"))
      p = (fs::path(p) / "model").string();
    else if (fs::is_directory(fs::path(p) / "adapter"))
      p = (fs::path(p) / "adapter").string();
  }
  if (fs::is_directory(p) && is_adapter_dir(p)) {
    s.adapter = p;
    s.path = base.empty() ? adapter_base(p) : base;
    if (s.path.empty() || !fs::exists(s.path))
      fail(p, ": a LoRA adapter needs its base model: pass --base PATH (the adapter names '",
           s.path, "', which does not exist here)");
  } else {
    s.path = p;
  }
  return s;
}

std::vector<EvalModelSpec> run_models(const std::string& run_dir, bool with_base) {
  const fs::path cfg_path = fs::path(run_dir) / "train_config.yaml";
  if (!fs::is_directory(run_dir)) fail(run_dir, ": no such run directory");
  if (!fs::exists(cfg_path))
    fail(run_dir, ": not a training run's output directory (no train_config.yaml)");
  const TrainConfig cfg = load_train_config(cfg_path.string(), {});
  std::vector<EvalModelSpec> out;
  if (with_base) {
    EvalModelSpec b;
    b.name = "base";
    b.path = cfg.model.path;
    b.step = 0;
    out.push_back(b);
  }
  for (const auto& [step, dir] : list_checkpoints(run_dir)) {
    EvalModelSpec s = model_spec_of(dir, cfg.model.path);
    s.name = "checkpoint-" + std::to_string(step);
    s.step = step;
    out.push_back(s);
  }
  for (const char* final_name : {"model", "adapter"}) {
    const fs::path f = fs::path(run_dir) / final_name;
    if (!fs::is_directory(f)) continue;
    EvalModelSpec s = model_spec_of(f.string(), cfg.model.path);
    s.name = "final";
    out.push_back(s);
  }
  if (out.size() == (with_base ? 1u : 0u))
    fail(run_dir, ": the run has no checkpoint and no final model yet");
  return out;
}

LoadedModel load_eval_model(const EvalModelSpec& spec) {
  LoadedModel m = load_model(spec.path, /*with_tokenizer=*/true);
  if (!m.tokenizer) fail(spec.path, ": the model has no tokenizer to evaluate with");
  if (spec.adapter.empty()) return m;
  const ModelConfig cfg = m.model->config();
  const LoraWeights lora = read_peft_adapter(spec.adapter, cfg);
  m.model = std::make_unique<Transformer>(cfg, merged_weights(cfg, m.model->weights(), lora));
  return m;
}

}  // namespace tsft
