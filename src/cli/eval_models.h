// Which models `toolsft eval` compares, and loading each: a GGUF file or Hugging Face directory,
// a PEFT adapter over its base, or every checkpoint of a training run with its base model.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "io/model_loader.h"

namespace tsft {

struct EvalModelSpec {
  std::string name;     // "base", "checkpoint-50", "final", or what the user named it
  std::string path;     // model file/dir, or the base when `adapter` is set
  std::string adapter;  // PEFT adapter directory merged into `path`; "" = none
  std::optional<int64_t> step;
};

// The models of a training run's output directory, in order: its base model (from
// train_config.yaml; unless with_base is false), every checkpoint-N, and the final model/adapter.
// A last checkpoint whose weights are byte-identical to the final model's (a run that ends on a
// save) is left out, and the final model carries its step.
// tsft::Error naming the directory when it holds no run.
std::vector<EvalModelSpec> run_models(const std::string& run_dir, bool with_base);

// A path the user gave: a model, a checkpoint directory (holding model/ or adapter/) or an adapter
// directory (needs `base`, else the adapter's base_model_name_or_path when that path exists).
EvalModelSpec model_spec_of(const std::string& path, const std::string& base);

// Loads the model (with its tokenizer), merging the adapter when there is one.
LoadedModel load_eval_model(const EvalModelSpec& spec);

}  // namespace tsft
