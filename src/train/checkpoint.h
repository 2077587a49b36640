// Training checkpoints: <output_dir>/checkpoint-<step>/ with params.safetensors,
// optimizer.safetensors and trainer_state.json, written into a temp dir and renamed into place;
// listing, rotation, resume.
#pragma once

#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "train/adamw.h"
#include "train/param.h"

namespace tsft {

// File names inside a checkpoint directory.
inline constexpr const char* kCkptParamsFile = "params.safetensors";  // F32 (numel) by Param.name
inline constexpr const char* kCkptOptimizerFile =
    "optimizer.safetensors";  // "m.<name>", "v.<name>"
inline constexpr const char* kCkptStateFile = "trainer_state.json";

// Saves <output_dir>/checkpoint-<step>. Everything is written into
// <output_dir>/.checkpoint-<step>.tmp (params as flat F32 tensors named by Param.name; optimizer
// moments as "m.<name>"/"v.<name>" with the step count in the metadata; trainer_state as JSON),
// extra_files(tmp_dir) may add more files (an HF model dir, a PEFT adapter), then the directory is
// fsync'd and renamed into place (replacing an existing checkpoint of the same step) and output_dir
// is fsync'd. Then the oldest checkpoints beyond save_total_limit are deleted (<= 0 keeps all; the
// one just saved is never deleted). Stale .checkpoint-*.tmp dirs left by a killed run are removed
// first. Creates output_dir. Errors (unwritable dir, not enough space, write failure) ->
// tsft::Error naming the path.
void save_checkpoint(const std::string& output_dir, int64_t step, const ParamList& params,
                     const AdamW& opt, const nlohmann::json& trainer_state, int save_total_limit,
                     const std::function<void(const std::string& tmp_dir)>& extra_files = {});

// The complete checkpoints in output_dir as (step, path), sorted by step. Only directories named
// exactly checkpoint-<digits> count; temp dirs are ignored. A missing output_dir gives {}.
std::vector<std::pair<int64_t, std::string>> list_checkpoints(const std::string& output_dir);

// Path of the checkpoint with the highest step, or "" if there is none.
std::string latest_checkpoint(const std::string& output_dir);

// Restores params' values and opt's moments and step count from ckpt_dir and returns its
// trainer_state. Everything is validated before anything is written, so on error params and opt
// are unchanged. A missing, extra, wrongly typed or wrongly sized tensor, a missing or corrupt file
// -> tsft::Error naming the file and the tensor. opt must have been built over the same params.
nlohmann::json load_checkpoint(const std::string& ckpt_dir, const ParamList& params, AdamW& opt);

}  // namespace tsft
