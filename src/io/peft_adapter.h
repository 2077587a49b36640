// LoRA adapters in PEFT's on-disk format: adapter_config.json plus adapter_model.safetensors with
// keys "base_model.model.model.layers.N.self_attn.q_proj.lora_A.weight", as PEFT's
// save_pretrained writes them and PeftModel.from_pretrained reads them.
#pragma once

#include <string>

#include "model/config.h"
#include "model/lora.h"

namespace tsft {

// Writes dir/adapter_config.json (the LoraConfig fields PEFT 0.21 writes, inference_mode true)
// and dir/adapter_model.safetensors (float32). Built in a temporary sibling directory and renamed
// into place, replacing an existing dir.
void write_peft_adapter(const std::string& dir, const LoraWeights& lora, const ModelConfig& cfg,
                        const std::string& base_model_name_or_path);

// Reads an adapter written by PEFT or by write_peft_adapter for a base model of shape `cfg`.
// Keys may carry PEFT's ".default" adapter name; F16/BF16 tensors are widened to float32.
// tsft::Error (naming the file and the field or key) for: a non-LoRA adapter, rank_pattern /
// alpha_pattern, fan_in_fan_out, use_dora, use_rslora, bias other than "none",
// modules_to_save, layers_to_transform, target modules we do not have, unknown or missing keys,
// and tensor shapes that do not fit the base config.
LoraWeights read_peft_adapter(const std::string& dir, const ModelConfig& cfg);

}  // namespace tsft
