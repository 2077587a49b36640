// Writes a model as a Hugging Face directory that transformers' AutoModelForCausalLM and
// AutoTokenizer load: config.json, model.safetensors (float32), generation_config.json and the
// tokenizer files.
#pragma once

#include <string>

#include "model/config.h"
#include "model/generate.h"
#include "model/weights.h"
#include "tokenizer/tokenizer.h"

namespace tsft {

// config.json text (classic layout: rope_theta + rope_scaling), from which parse_hf_config
// gives back `cfg`. tsft::Error for what config.json cannot express (per-frequency RoPE factors).
std::string hf_config_text(const ModelConfig& cfg);
// generation_config.json text: bos/eos ids (gen->eos_ids when given and non-empty) and, when
// gen samples (temperature > 0), do_sample with temperature/top_p/top_k.
std::string generation_config_text(const ModelConfig& cfg, const GenerationConfig* gen);

// Writes the whole directory into a temporary sibling and renames it into place (replacing an
// existing dir), so a crash never leaves half a model. tok may be null (no tokenizer files);
// gen may be null. Tied embeddings: lm_head.weight is not written, as transformers does.
void write_hf_model(const std::string& dir, const ModelConfig& cfg, const ModelWeights& w,
                    const Tokenizer* tok, const GenerationConfig* gen);

}  // namespace tsft
