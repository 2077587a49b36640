// `toolsft train` as a library call: loads the model and data a TrainConfig names, runs
// supervised fine-tuning (full or LoRA) with evaluation, logging and checkpoints, resumes
// exactly, and writes the final model (Hugging Face directory) or adapter (PEFT directory).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "train/train_config.h"

namespace tsft {

class Tokenizer;
struct ModelConfig;
struct ModelWeights;

struct TrainResult {
  int64_t start_step = 0;           // 0, or the step a resumed run continued from
  int64_t steps = 0;                // optimizer steps done when the run ended
  int64_t total_steps = 0;          // steps the run was planned for
  std::vector<double> step_losses;  // mean token loss of each step this call ran
  std::vector<double> grad_norms;   // before clipping, per step this call ran
  double last_eval_loss = -1;       // -1 without eval data
  std::string final_dir;            // model/ or adapter/ under output_dir ("" if stopped early)
};

struct TrainHooks {
  int64_t stop_after_step = -1;  // end the run after this step as if killed (tests of resume)
  bool quiet = false;            // no console output (tests)
  // Task metrics at every evaluation (the recipes' tool-call quality during training): called
  // with the training tokenizer and the weights as they are at that step (LoRA: the base and the
  // unmerged adapter); the fields it returns join that step's eval line in metrics.jsonl.
  std::function<nlohmann::json(const Tokenizer&, const ModelConfig&, const ModelWeights&,
                               const LoraWeights*)>
      task_eval;
};

TrainResult run_training(const TrainConfig& config, const TrainHooks& hooks = {});

}  // namespace tsft
