// Float32 weights from a GGUF file (for the loader, model_loader.h), and the llama.cpp tensor
// names and Q/K row layout that the GGUF exporter writes back.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>

#include "io/gguf.h"
#include "model/weights.h"

namespace tsft {

// Hugging Face parameter name -> llama.cpp's GGUF tensor name ("model.norm.weight" ->
// "output_norm.weight", "model.layers.3.mlp.up_proj.weight" -> "blk.3.ffn_up.weight").
std::string gguf_tensor_name(const std::string& hf_name);

// llama.cpp's permute() of the llama arch's Q/K rows: within each head, GGUF row 2*i + j holds
// HF row j*(D/2) + i (its RoPE rotates adjacent pairs, HF's rotates halves). to_gguf applies it
// (export), otherwise it is undone (loading). Rows are `row_bytes` long, so this works on float
// rows and on rows of quantized blocks alike. In place.
void permute_qk_rows(uint8_t* w, int64_t rows, size_t row_bytes, int64_t n_heads, bool to_gguf);

ModelWeights weights_from_gguf(const GgufFile& g, const ModelConfig& cfg,
                               std::map<std::string, int>& type_counts);

}  // namespace tsft
