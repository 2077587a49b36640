// The run config of `toolsft train`: five sections (model, data, lora, train, eval) declared once
// in a key table (train_config.cpp) from which YAML loading, --section.key overrides, validation,
// --help text, the resolved-config dump and docs/CONFIG.md all come.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <array>
#include <string>
#include <utility>
#include <vector>

#include "model/lora.h"

namespace tsft {

// Defaults live here, in the member initialisers; the key table reads them from TrainConfig{}.
// Enumerated options are kept as their YAML strings (validated against the allowed values).
// Paths are absolute after loading (see load_train_config).
struct TrainConfig {
  struct Model {
    std::string path;           // required: model directory or file
    std::string chat_template;  // optional Jinja file overriding the model's template
    int64_t threads = 0;        // 0 = all cores
    // New special tokens (e.g. a tool-selection sentinel) added to the tokenizer and the
    // embedding before training (full fine-tuning only).
    std::vector<std::string> add_special_tokens;
    bool operator==(const Model&) const = default;
  } model;

  struct Data {
    std::string train;  // required: training JSONL
    std::string eval;   // "" = none (or split off with eval_fraction / eval_count)
    double eval_fraction = 0.0;
    int64_t eval_count = 0;
    int64_t max_seq_len = 512;
    bool packing = true;
    std::string truncation = "drop";  // drop | truncate
    std::string loss_on = "auto";     // auto | assistant | completion | all
    int64_t seed = 42;                // for the train/eval split
    bool add_eos = true;
    std::string tools;          // "" = none: tools for chat rows without their own
    bool skip_invalid = false;  // skip (and count) bad rows instead of stopping
    bool operator==(const Data&) const = default;
  } data;

  struct Lora {
    bool enabled = false;
    int64_t r = 16;
    double alpha = 32.0;
    double dropout = 0.05;
    std::vector<std::string> target_modules = {"q_proj",    "k_proj",  "v_proj",   "o_proj",
                                               "gate_proj", "up_proj", "down_proj"};
    std::string base_weights = "f32";  // f32 | quantized
    bool operator==(const Lora&) const = default;
  } lora;

  struct Train {
    std::string output_dir;  // required
    int64_t seed = 42;
    double epochs = 1.0;
    int64_t max_steps = -1;  // -1 = from epochs; otherwise wins over epochs
    int64_t batch_size = 8;  // packed rows per micro-batch
    int64_t grad_accum = 1;
    double learning_rate = 2e-5;
    std::string lr_scheduler = "cosine";  // constant | constant_with_warmup | linear | cosine
    double warmup_ratio = 0.0;
    int64_t warmup_steps = 0;  // wins over warmup_ratio when > 0
    double weight_decay = 0.0;
    double adam_beta1 = 0.9;
    double adam_beta2 = 0.999;
    double adam_eps = 1e-8;
    double max_grad_norm = 1.0;      // 0 = no clipping
    std::string precision = "auto";  // auto | f32 | bf16
    bool gradient_checkpointing = false;
    int64_t logging_steps = 10;
    int64_t save_steps = 0;        // 0 = only at the end
    int64_t save_total_limit = 2;  // 0 = keep all
    std::string resume_from;       // "" = none, "latest", or a checkpoint directory
    bool progress = true;
    bool operator==(const Train&) const = default;
  } train;

  struct Eval {
    int64_t steps = 0;        // 0 = only at the end
    int64_t max_batches = 0;  // 0 = all
    int64_t batch_size = 8;
    int64_t task_examples = 0;  // held-out examples scored with report.task at every evaluation
    bool operator==(const Eval&) const = default;
  } eval;

  // Recipes (src/cli/recipe_run.*): synthetic data made before training, written under
  // train.output_dir/data and used as data.train / data.eval.
  struct Generate {
    std::string task = "none";  // none | tool-selection | tool-calling
    int64_t num_examples = 1000;
    int64_t seed = 42;
    double eval_fraction = 0.2;                  // held out for evaluation
    std::string format = "prompt-completion";   // tool-selection rows: prompt-completion | chat
    std::string sentinel;                        // tool-selection answer prefix ("" = a space)
    std::string tools;                           // tools JSON; "" = the six built-in tools
    std::string system_prompt;                   // tool-calling: system prompt template file
    int64_t requests_per_row = 1;  // tool-calling-general: 1..N requests per row
    // tool-calling: shares of the row kinds (summing to 1); the defaults are the generator's
    // (ToolCallingOptions::shares, docs/DATA.md).
    double share_single = 0.15;
    double share_distractors = 0.2;
    double share_no_call = 0.15;
    double share_parallel = 0.1;
    double share_multi_turn = 0.15;
    double share_ask_first = 0.1;
    double share_follow_up = 0.15;
    // The seven shares above in the generator's order (CallKind).
    std::array<double, 7> shares() const {
      return {share_single,     share_distractors, share_no_call,  share_parallel,
              share_multi_turn, share_ask_first,   share_follow_up};
    }
    bool operator==(const Generate&) const = default;
  } generate;

  // The evaluation after training (base model, checkpoints, final) and its report.
  struct Report {
    std::string task = "none";  // none | tool-selection | tool-calling | perplexity
    bool base = true;           // evaluate the base model too (before/after)
    bool checkpoints = true;    // evaluate every kept checkpoint, not only the final model
    std::string mode = "scoring";  // tool selection: scoring | generation | both
    int64_t max_examples = 0;      // 0 = all
    int64_t max_new_tokens = 0;    // 0 = automatic
    std::string test_data;         // a further test set (e.g. hand-written), reported apart
    std::string test_name = "test";
    bool operator==(const Report&) const = default;
  } report;

  // The lora section as the engine's LoraConfig (rank, alpha, dropout, target_modules).
  LoraConfig lora_config() const;

  bool operator==(const TrainConfig&) const = default;
};

// Loads `yaml_path` ("" = none: everything from defaults and overrides), then applies
// `overrides` ("section.key=value", value parsed as a YAML scalar; lists as "[a, b]" or "a,b"),
// then validates. Relative paths in the file are resolved against the file's directory, those in
// overrides against the working directory; both end up absolute. Every user mistake (unknown
// section or key, wrong type, out of range, unknown enum value, missing required key) throws
// tsft::Error naming the key and where it was given ("run.yaml:7" or "--train.seed").
TrainConfig load_train_config(const std::string& yaml_path,
                              const std::vector<std::string>& overrides);

// Picks `--section.key value` and `--section.key=value` for known keys out of argv[0..argc) and
// returns them as "section.key=value"; everything else goes to *rest in order. A boolean key
// given alone (`--lora.enabled`) means true. `--section.typo` for a known section fails with a
// suggestion instead of passing through.
// Also takes the short forms of flag_aliases() (--lr 1e-4 is --train.learning_rate 1e-4).
std::vector<std::string> overrides_from_args(int argc, char** argv, std::vector<std::string>* rest);
// Short command-line names of the most used keys: {"lr", "train.learning_rate"}, ...
const std::vector<std::pair<std::string, std::string>>& flag_aliases();

// True for "section.key" names in the table (for CLIs that mix their own flags with overrides).
bool is_config_key(const std::string& dotted);

// The resolved config, every key, each with its help as a comment; load_train_config reads it
// back to an equal config.
std::string to_yaml(const TrainConfig& cfg);
nlohmann::json to_json(const TrainConfig& cfg);

// Every key with type, default and meaning, grouped by section (for `toolsft train --help`).
std::string config_help();
// The same as a Markdown reference (docs/CONFIG.md is this text; a test keeps them equal).
std::string config_reference_markdown();

}  // namespace tsft
