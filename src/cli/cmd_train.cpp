// toolsft train: supervised fine-tuning from a YAML run config, every key overridable with
// --section.key value.
#include <cstdio>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "cli/recipe_run.h"
#include "core/error.h"
#include "train/train_config.h"
#include "train/trainer.h"

namespace tsft {

int cmd_train(int argc, char** argv) {
  std::vector<std::string> rest;
  const std::vector<std::string> overrides = overrides_from_args(argc - 1, argv + 1, &rest);
  std::string config_path;
  bool print_only = false;
  RecipeOptions recipe;
  for (size_t i = 0; i < rest.size(); ++i) {
    const std::string& a = rest[i];
    if (a == "--help" || a == "-h") {
      std::printf(
          "usage: toolsft train --config run.yaml [--section.key value ...] [--print-config]\n"
          "                     [--generate-only] [--base-model-inference]\n\n"
          "Fine-tunes a model (full or LoRA) on a JSONL dataset. Every key of the config can be\n"
          "given or overridden on the command line, e.g. --train.learning_rate 1e-4.\n"
          "With a generate and/or report section (the recipes in configs/, docs/RECIPES.md) it\n"
          "also makes the data first and evaluates base, checkpoints and final model after.\n"
          "--print-config prints the resolved config and exits.\n"
          "--generate-only writes the recipe's data (output_dir/data) and stops.\n"
          "--base-model-inference skips training and reports on the base model alone.\n\nkeys:\n%s",
          config_help().c_str());
      return 0;
    }
    if (a == "--config" || a == "-c") {
      if (i + 1 >= rest.size()) fail("--config needs a file");
      config_path = rest[++i];
    } else if (a.rfind("--config=", 0) == 0) {
      config_path = a.substr(9);
    } else if (a == "--print-config") {
      print_only = true;
    } else if (a == "--generate-only") {
      recipe.generate_only = true;
    } else if (a == "--base-model-inference") {
      recipe.base_only = true;
    } else {
      fail("unknown option '", a, "' (see toolsft train --help)");
    }
  }
  const TrainConfig cfg = load_train_config(config_path, overrides);
  std::fprintf(stderr, "== resolved config ==\n%s\n", to_yaml(cfg).c_str());
  if (print_only) return 0;
  if (recipe.generate_only && cfg.generate.task == "none" && cfg.data.eval_fraction == 0 &&
      cfg.data.eval_count == 0)
    fail("--generate-only: the config makes no data (generate.task is none and nothing is split)");
  if (recipe.base_only && cfg.report.task == "none")
    fail("--base-model-inference: set report.task (what to evaluate the base model on)");
  if (is_recipe(cfg) || recipe.generate_only || recipe.base_only) return run_recipe(cfg, recipe);
  const TrainResult r = run_training(cfg);
  std::printf("trained %lld steps; final loss %.4f%s; output %s\n",
              static_cast<long long>(r.steps), r.step_losses.empty() ? 0.0 : r.step_losses.back(),
              r.last_eval_loss >= 0 ? str(", eval loss ", r.last_eval_loss).c_str() : "",
              r.final_dir.c_str());
  return 0;
}

}  // namespace tsft
