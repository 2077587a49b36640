#include "io/peft_adapter.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "backend/cpu/dequant.h"
#include "core/error.h"
#include "io/file_write.h"
#include "io/safetensors.h"
#include "io/safetensors_writer.h"

namespace tsft {
namespace {

namespace fs = std::filesystem;
using ojson = nlohmann::ordered_json;

// A number as JSON the way Python writes it: 8 rather than 8.0 when it is whole (PEFT's files
// keep the int a user passed for lora_alpha).
ojson number(float v) {
  if (std::isfinite(v) && v == std::floor(v) && std::fabs(v) < 1e9f) return static_cast<int64_t>(v);
  return static_cast<double>(v);
}

std::string shape_str(const std::vector<int64_t>& s) {
  std::string out = "(";
  for (size_t i = 0; i < s.size(); ++i) out += (i ? ", " : "") + std::to_string(s[i]);
  return out + (s.size() == 1 ? ",)" : ")");
}

// "…q_proj.lora_A.default.weight" -> "…q_proj.lora_A.weight".
std::string without_adapter_name(const std::string& key) {
  for (const char* ab : {".lora_A.", ".lora_B."}) {
    const size_t p = key.find(ab);
    if (p == std::string::npos) continue;
    const size_t name_start = p + 8;
    const size_t dot = key.find('.', name_start);
    if (dot != std::string::npos && key.compare(name_start, dot - name_start, "weight") != 0 &&
        key.compare(dot + 1, std::string::npos, "weight") == 0)
      return key.substr(0, name_start) + "weight";
  }
  return key;
}

LoraConfig parse_adapter_config(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(path, ": cannot open (is this a PEFT adapter directory?)");
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(in);
  } catch (const nlohmann::json::parse_error& e) {
    fail(path, ": invalid JSON: ", e.what());
  }
  if (!j.is_object()) fail(path, ": expected a JSON object");
  auto has = [&](const char* k) { return j.contains(k) && !j[k].is_null(); };
  auto bad = [&](const char* k, const std::string& why) { fail(path, ": field '", k, "' ", why); };
  auto flag = [&](const char* k) {
    if (!has(k)) return false;
    if (!j[k].is_boolean()) bad(k, "must be true or false");
    return j[k].get<bool>();
  };
  auto empty_or_null = [&](const char* k) {
    return !has(k) || ((j[k].is_object() || j[k].is_array()) && j[k].empty());
  };

  const std::string type =
      has("peft_type") && j["peft_type"].is_string() ? j["peft_type"].get<std::string>() : "";
  if (type != "LORA") bad("peft_type", "is '" + type + "'; only LORA adapters are supported");
  LoraConfig c;
  if (!has("r") || !j["r"].is_number_integer() || j["r"].get<int64_t>() <= 0)
    bad("r", "must be a positive integer");
  c.rank = j["r"].get<int64_t>();
  if (!has("lora_alpha") || !j["lora_alpha"].is_number()) bad("lora_alpha", "must be a number");
  c.alpha = j["lora_alpha"].get<float>();
  c.dropout = 0.0f;
  if (has("lora_dropout")) {
    if (!j["lora_dropout"].is_number()) bad("lora_dropout", "must be a number");
    c.dropout = j["lora_dropout"].get<float>();
  }
  for (const char* k : {"rank_pattern", "alpha_pattern"})
    if (!empty_or_null(k)) bad(k, "is set; per-module ranks and alphas are not supported");
  if (flag("fan_in_fan_out"))
    bad("fan_in_fan_out", "is true; only fan_in_fan_out=false (nn.Linear) is supported");
  if (flag("use_dora")) bad("use_dora", "is true; DoRA adapters are not supported");
  if (flag("use_rslora")) bad("use_rslora", "is true; rank-stabilised LoRA is not supported");
  if (flag("lora_bias")) bad("lora_bias", "is true; LoRA biases are not supported");
  if (has("bias") && j["bias"] != "none")
    bad("bias", "is " + j["bias"].dump() + "; only \"none\" is supported");
  for (const char* k : {"modules_to_save", "layers_to_transform", "layer_replication",
                        "exclude_modules", "trainable_token_indices", "target_parameters"})
    if (!empty_or_null(k)) bad(k, "is set (" + j[k].dump() + "); not supported");

  if (!has("target_modules")) bad("target_modules", "is missing");
  const nlohmann::json& tm = j["target_modules"];
  c.target_modules.clear();
  if (tm.is_string()) {
    if (tm.get<std::string>() != "all-linear")
      bad("target_modules", "is the regex " + tm.dump() +
                                "; only a list of module names (or \"all-linear\") is supported");
    c.target_modules = LoraConfig().target_modules;
  } else if (tm.is_array() && !tm.empty()) {
    for (const auto& m : tm) {
      if (!m.is_string()) bad("target_modules", "must hold strings");
      try {
        lora_target_from_name(m.get<std::string>());
      } catch (const Error& e) {
        fail(path, ": field 'target_modules': ", e.what());
      }
      c.target_modules.push_back(m.get<std::string>());
    }
  } else {
    bad("target_modules", "must be a non-empty list of module names");
  }
  return c;
}

}  // namespace

void write_peft_adapter(const std::string& dir, const LoraWeights& lora, const ModelConfig& cfg,
                        const std::string& base_model_name_or_path) {
  if (static_cast<int64_t>(lora.layers.size()) != cfg.n_layers)
    fail(dir, ": the adapter has ", lora.layers.size(), " layers but the model config has ",
         cfg.n_layers);
  std::vector<std::string> targets = lora.config.target_modules;
  std::sort(targets.begin(), targets.end());
  targets.erase(std::unique(targets.begin(), targets.end()), targets.end());
  // Every field PEFT 0.21's LoraConfig writes, with its defaults, so that the key set is PEFT's
  // (less peft_version: PEFT did not write this file).
  ojson c = {{"alora_invocation_tokens", nullptr},
             {"alpha_pattern", ojson::object()},
             {"arrow_config", nullptr},
             {"auto_mapping", nullptr},
             {"base_model_name_or_path", base_model_name_or_path},
             {"bias", "none"},
             {"corda_config", nullptr},
             {"ensure_weight_tying", false},
             {"eva_config", nullptr},
             {"exclude_modules", nullptr},
             {"fan_in_fan_out", false},
             {"inference_mode", true},
             {"init_lora_weights", true},
             {"kasa_config", nullptr},
             {"layer_replication", nullptr},
             {"layers_pattern", nullptr},
             {"layers_to_transform", nullptr},
             {"loftq_config", ojson::object()},
             {"lora_alpha", number(lora.config.alpha)},
             {"lora_bias", false},
             {"lora_dropout", static_cast<double>(lora.config.dropout)},
             {"lora_ga_config", nullptr},
             {"megatron_config", nullptr},
             {"megatron_core", "megatron.core"},
             {"modules_to_save", nullptr},
             {"monteclora_config", nullptr},
             {"peft_type", "LORA"},
             {"qalora_group_size", 16},
             {"r", lora.config.rank},
             {"rank_pattern", ojson::object()},
             {"revision", nullptr},
             {"target_modules", targets},
             {"target_parameters", nullptr},
             {"task_type", "CAUSAL_LM"},
             {"trainable_token_indices", nullptr},
             {"use_bdlora", nullptr},
             {"use_dora", false},
             {"use_qalora", false},
             {"use_rslora", false},
             {"velora_config", nullptr}};
  std::vector<std::pair<std::string, Tensor>> tensors;
  const_cast<LoraWeights&>(lora).for_each(  // for_each only reads here
      [&](const std::string& key, Tensor& t) { tensors.emplace_back(key, t); });
  if (tensors.empty()) fail(dir, ": the adapter has no enabled LoRA pairs");

  StagedDir staged(dir);
  write_text_file(staged.file("adapter_config.json"), c.dump(2) + "\n");
  write_safetensors(staged.file("adapter_model.safetensors"), tensors, {{"format", "pt"}});
  staged.commit();
}

LoraWeights read_peft_adapter(const std::string& dir, const ModelConfig& cfg) {
  if (!fs::is_directory(dir)) fail(dir, ": no such adapter directory");
  const std::string cfg_path = (fs::path(dir) / "adapter_config.json").string();
  const std::string st_path = (fs::path(dir) / "adapter_model.safetensors").string();
  const LoraConfig lc = parse_adapter_config(cfg_path);
  if (!fs::exists(st_path)) {
    if (fs::exists(fs::path(dir) / "adapter_model.bin"))
      fail(dir,
           ": only adapter_model.bin (a pickle) is present; save the adapter with "
           "safe_serialization=True to get adapter_model.safetensors");
    fail(st_path, ": missing");
  }
  LoraWeights w = LoraWeights::allocate(cfg, lc);
  std::map<std::string, Tensor*> expected;
  w.for_each([&](const std::string& key, Tensor& t) { expected[key] = &t; });

  SafetensorsFile st(st_path);
  std::map<std::string, bool> filled;
  for (const SafetensorsTensor& t : st.tensors()) {
    const std::string key = without_adapter_name(t.name);
    auto it = expected.find(key);
    if (it == expected.end())
      fail(st_path, ": unexpected tensor '", t.name, "' (target_modules ",
           nlohmann::json(lc.target_modules).dump(), ", ", cfg.n_layers,
           " layers; only LoRA A/B weights of those modules are supported)");
    if (filled[key]) fail(st_path, ": tensor '", key, "' appears twice");
    Tensor& dst = *it->second;
    std::vector<int64_t> want(dst.shape.dims.begin(), dst.shape.dims.begin() + dst.shape.ndim);
    if (t.shape != want)
      fail(st_path, ": tensor '", t.name, "' has shape ", shape_str(t.shape),
           " but the base model (", "r=", lc.rank, ") needs ", shape_str(want));
    if (t.dtype != DType::kF32 && t.dtype != DType::kF16 && t.dtype != DType::kBF16)
      fail(st_path, ": tensor '", t.name, "' has type ", dtype_name(t.dtype),
           "; expected F32, F16 or BF16");
    dequantize_row(t.dtype, t.data, dst.f32(), dst.numel());
    filled[key] = true;
  }
  for (const auto& [key, t] : expected)
    if (!filled[key])
      fail(st_path, ": tensor '", key,
           "' is missing (named by target_modules in adapter_config.json)");
  return w;
}

}  // namespace tsft
