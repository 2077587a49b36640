// Float32 weights from a GGUF file (internal to the loader; see model_loader.h).
#pragma once

#include <map>
#include <string>

#include "io/gguf.h"
#include "model/weights.h"

namespace tsft {

// Hugging Face parameter name -> llama.cpp's GGUF tensor name ("model.norm.weight" ->
// "output_norm.weight", "model.layers.3.mlp.up_proj.weight" -> "blk.3.ffn_up.weight").
std::string gguf_tensor_name(const std::string& hf_name);

ModelWeights weights_from_gguf(const GgufFile& g, const ModelConfig& cfg,
                               std::map<std::string, int>& type_counts);

}  // namespace tsft
