// Loads a model for inference from a GGUF file or a Hugging Face directory: config, float32
// weights (dequantized, converter permutations undone), tokenizer and generation defaults.
#pragma once

#include <map>
#include <memory>
#include <string>

#include "io/gguf.h"
#include "model/config.h"
#include "model/generate.h"
#include "model/transformer.h"
#include "tokenizer/tokenizer.h"

namespace tsft {

struct LoadedModel {
  std::string path;
  std::string format;  // "gguf" or "hf"
  std::unique_ptr<Transformer> model;
  std::unique_ptr<Tokenizer> tokenizer;  // null when the source has none
  GenerationConfig gen_defaults;         // eos ids and sampling defaults from the source
  std::map<std::string, int> tensor_types;  // stored type name -> tensor count
};

// path: a .gguf file or a directory with config.json and safetensors.
LoadedModel load_model(const std::string& path, bool with_tokenizer = true);

// The model config a GGUF file describes (no weights read). Errors name the file and key.
ModelConfig config_from_gguf(const GgufFile& gguf);
ModelConfig config_from_hf_dir(const std::string& dir);

bool is_gguf_path(const std::string& path);

}  // namespace tsft
