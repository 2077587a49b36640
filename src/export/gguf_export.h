// Writes a model as a GGUF file that llama.cpp and Ollama run: llama.cpp's architecture names,
// hyperparameter keys, tensor names and q/k row order, and the tokenizer with its chat template.
#pragma once

#include <string>

#include "model/config.h"
#include "model/generate.h"
#include "model/weights.h"
#include "tokenizer/tokenizer.h"

namespace tsft {

// Storage type of the 2-D weights (1-D tensors: norms, biases, rope factors stay F32, as
// llama.cpp's converter keeps them). kQ8_0: matrices whose rows are not a multiple of 32 long
// fall back to F16, as the converter does.
enum class GgufType { kF32, kF16, kBF16, kQ8_0 };

// "f32" | "f16" | "bf16" | "q8_0"; tsft::Error naming `what` (e.g. "--type") otherwise.
GgufType parse_gguf_type(const std::string& s, const std::string& what);
const char* gguf_type_name(GgufType t);

// Writes `path` atomically (a temporary sibling renamed into place; nothing is left behind on
// error). tok may be null (no tokenizer.* keys; bos/eos ids still come from cfg); gen may be null
// (its eos_ids, when given, choose the eos/eot ids). tsft::Error for what GGUF or llama.cpp
// cannot express: a SentencePiece tokenizer, per-frequency RoPE factors outside llama, more
// than two end-of-generation ids, a tokenizer larger than the model's vocabulary.
void write_gguf_model(const std::string& path, const ModelConfig& cfg, const ModelWeights& w,
                      const Tokenizer* tok, const GenerationConfig* gen, GgufType type);

}  // namespace tsft
