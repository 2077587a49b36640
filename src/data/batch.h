// One micro-batch as the trainer consumes it: whole sequences laid end to end without padding.
// Attention stays inside each sequence and positions restart at 0 for each one.
#pragma once

#include <cstdint>
#include <vector>

namespace tsft {

struct Batch {
  std::vector<int32_t> tokens;     // (N) every sequence of the batch, concatenated
  std::vector<int32_t> positions;  // (N) position within its own sequence (0, 1, ...)
  std::vector<int32_t> seq_start;  // (S+1) offset of each sequence in tokens; back() == N
  // (N) the token that position t must predict (tokens[t+1] of the same sequence) when token t+1
  // carries loss, else -1. Only these positions go through the LM head and cross-entropy.
  std::vector<int32_t> targets;
  int64_t rows = 0;  // packed rows this batch stands for (reporting; padding-free inside)

  int64_t num_tokens() const { return static_cast<int64_t>(tokens.size()); }
  int64_t num_sequences() const { return static_cast<int64_t>(seq_start.size()) - 1; }
  int64_t num_loss_tokens() const {
    int64_t n = 0;
    for (int32_t t : targets) n += t >= 0;
    return n;
  }
};

}  // namespace tsft
