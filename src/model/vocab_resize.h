// Growing the vocabulary (a new special token such as a tool-selection sentinel): the embedding
// and output matrices gain rows, each initialised to the mean of the existing rows.
#pragma once

#include <cstdint>

#include "model/config.h"
#include "model/weights.h"

namespace tsft {

// Returns weights for `new_vocab` >= cfg.vocab rows: every old parameter copied, new rows of the
// embedding (and of a separate LM head) set to the mean of that matrix's old rows. Quantized
// copies of the LM head are dropped (the new rows are not representable in their blocks); the
// layer matrices keep theirs. transformers' resize_token_embeddings(mean_resizing=True) samples
// new rows around the same mean; toolsft uses the mean itself, so the result is deterministic.
ModelWeights grow_vocab(const ModelConfig& cfg, ModelWeights& w, int64_t new_vocab);

}  // namespace tsft
