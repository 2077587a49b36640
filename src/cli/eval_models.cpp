#include "cli/eval_models.h"

#include <algorithm>
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

// The model or adapter directory a spec loads from: the adapter when there is one.
std::string weights_dir(const EvalModelSpec& s) {
  return s.adapter.empty() ? s.path : s.adapter;
}

// Whether two model or adapter directories hold byte-identical weights: the same *.safetensors
// names, each pair equal. A run that ends on a save writes its last checkpoint and its final
// model from the same parameters; comparing them spares evaluating the same weights twice.
bool same_weight_files(const std::string& a, const std::string& b) {
  if (!fs::is_directory(a) || !fs::is_directory(b)) return false;
  auto names = [](const std::string& dir) {
    std::vector<std::string> v;
    for (const auto& e : fs::directory_iterator(dir))
      if (e.is_regular_file() && e.path().extension() == ".safetensors")
        v.push_back(e.path().filename().string());
    std::sort(v.begin(), v.end());
    return v;
  };
  const std::vector<std::string> na = names(a);
  if (na.empty() || na != names(b)) return false;
  std::vector<char> ba(1 << 20), bb(1 << 20);
  for (const std::string& n : na) {
    const fs::path pa = fs::path(a) / n, pb = fs::path(b) / n;
    if (fs::file_size(pa) != fs::file_size(pb)) return false;
    std::ifstream fa(pa, std::ios::binary), fb(pb, std::ios::binary);
    while (fa && fb) {
      fa.read(ba.data(), static_cast<std::streamsize>(ba.size()));
      fb.read(bb.data(), static_cast<std::streamsize>(bb.size()));
      if (fa.gcount() != fb.gcount() ||
          !std::equal(ba.begin(), ba.begin() + fa.gcount(), bb.begin()))
        return false;
    }
    if (fa.bad() || fb.bad()) fail(pa.string(), ": could not be read");
  }
  return true;
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
    // The last checkpoint, when it holds the final weights, is the final model at its step.
    if (!out.empty() && out.back().step && *out.back().step > 0 &&
        same_weight_files(weights_dir(out.back()), weights_dir(s))) {
      s.step = out.back().step;
      out.pop_back();
    }
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
