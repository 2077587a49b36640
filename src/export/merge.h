// Merging a LoRA adapter into its base model's float32 weights (W += alpha/r * B @ A), as PEFT's
// merge_and_unload does, so the result runs and exports as a plain model.
#pragma once

#include "model/config.h"
#include "model/weights.h"
#include "model/lora.h"

namespace tsft {

// Adds scale * B @ A to every matrix the adapter targets and drops that matrix's quantized copy
// (decoding would otherwise keep using the unmerged blocks). tsft::Error when the adapter does
// not fit the model (layer count or a matrix shape), naming the layer and module.
void merge_lora(ModelWeights& w, const ModelConfig& cfg, const LoraWeights& lora);

// A float32 copy of w in its own arena, without quantized copies (a Transformer owns its
// weights; merge into a copy and build a new one from it).
ModelWeights copy_weights_f32(const ModelConfig& cfg, const ModelWeights& w);

// copy_weights_f32 with the adapter merged in: the weights of the fine-tuned model as a plain
// model (to export, evaluate or serve), leaving `w` as it is.
ModelWeights merged_weights(const ModelConfig& cfg, const ModelWeights& w, const LoraWeights& lora);

}  // namespace tsft
