// Packing whole sequences into rows of at most row_len tokens (no sequence is split) and laying a
// chosen set of examples out as one padding-free Batch.
#pragma once

#include <cstdint>
#include <vector>

#include "data/batch.h"
#include "data/sft_example.h"

namespace tsft {

// First-fit decreasing: indices into `lengths`, longest first (ties by index), each into the
// first row with room. Rows come in the order they were opened. Deterministic. Throws tsft::Error
// when a length exceeds row_len.
std::vector<std::vector<int32_t>> pack_sequences(const std::vector<int64_t>& lengths,
                                                 int64_t row_len);

// examples[indices[0]], examples[indices[1]], ... laid end to end. targets[t] = ids[t+1] when
// loss_mask[t+1] and t+1 is in the same sequence, else -1. `rows`: the packed rows they stand for.
Batch make_batch(const std::vector<SftExample>& examples, const std::vector<int32_t>& indices,
                 int64_t rows);

}  // namespace tsft
