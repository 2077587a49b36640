// One training sequence as the SFT loader produces it: token ids and which of them the loss trains
// on. Packing and batching (packing.h, batch_sampler.h) only ever see these.
#pragma once

#include <cstdint>
#include <vector>

namespace tsft {

struct SftExample {
  std::vector<int32_t> ids;
  // (ids.size()) 1 = token is a target, predicted from the token before it. Position 0 has no
  // token before it and is always 0.
  std::vector<uint8_t> loss_mask;
  int64_t source_line = 0;  // 1-based line of the row in its file (array files: the element's line)
};

}  // namespace tsft
