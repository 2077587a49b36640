// Finding a model's pieces for CLI commands that need only part of it.
#pragma once

#include <string>

#include "tokenizer/tokenizer.h"

namespace tsft {

// The tokenizer of a GGUF file, a Hugging Face directory (its tokenizer.json) or a tokenizer.json
// file. Errors name the path.
Tokenizer load_tokenizer(const std::string& path);

// The default model (kDefaultModel, relative to the repository) is also found when toolsft runs
// from elsewhere: next to the binary's build directory. Any other path is returned as given.
std::string resolve_model_path(const std::string& path);

}  // namespace tsft
