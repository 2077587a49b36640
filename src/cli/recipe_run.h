// The recipes behind `toolsft train --config configs/tool_selection.yaml` (and tool_calling.yaml):
// make the data (generate section), train, then evaluate the base model, every checkpoint and the
// final model on the held-out rows and a further test set (report section), and print where the
// reports are and the before/after numbers. docs/RECIPES.md describes the flow and its files.
#pragma once

#include "train/train_config.h"

namespace tsft {

struct RecipeOptions {
  bool generate_only = false;  // write output_dir/data and stop
  bool base_only = false;      // no training: evaluate the base model (--base-model-inference)
};

// True when `cfg` asks for more than plain training (a generate or report section).
bool is_recipe(const TrainConfig& cfg);

// Runs the recipe; tsft::Error for bad data or config. Returns the process exit code.
int run_recipe(TrainConfig cfg, const RecipeOptions& opt);

}  // namespace tsft
