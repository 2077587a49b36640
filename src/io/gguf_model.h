// Float32 weights from a GGUF file (internal to the loader; see model_loader.h).
#pragma once

#include <map>
#include <string>

#include "io/gguf.h"
#include "model/weights.h"

namespace tsft {

ModelWeights weights_from_gguf(const GgufFile& g, const ModelConfig& cfg,
                               std::map<std::string, int>& type_counts);

}  // namespace tsft
