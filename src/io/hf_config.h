// Hugging Face config.json and generation_config.json -> ModelConfig / generation defaults.
// Every missing or mistyped field is a tsft::Error naming the file and the field.
#pragma once

#include <string>

#include "model/config.h"
#include "model/generate.h"

namespace tsft {

ModelConfig parse_hf_config(const std::string& config_json_path);
ModelConfig parse_hf_config_text(const std::string& json_text, const std::string& source);

// Reads sampling defaults and eos ids from generation_config.json into `gen` (fields present only).
void apply_generation_config(const std::string& path, GenerationConfig& gen);

}  // namespace tsft
