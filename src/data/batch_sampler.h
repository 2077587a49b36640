// The seeded, resumable order of micro-batches: each epoch shuffles the examples (seed + epoch),
// packs them into rows (or not) and groups them; (epoch, i) alone names a micro-batch, so a run
// resumed from a checkpoint continues with exactly the batches it would have seen.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

namespace tsft {

class BatchSampler {
 public:
  // lengths: token count of each example. packing: batch_size rows of at most row_len tokens per
  // micro-batch; else batch_size sequences. Throws tsft::Error for a bad size or, when packing, a
  // sequence longer than row_len.
  BatchSampler(std::vector<int64_t> lengths, int64_t row_len, int64_t batch_size, bool packing,
               uint64_t seed);

  int64_t batches_per_epoch(int64_t epoch) const;
  // Example indices of micro-batch i of `epoch`, row by row. A pure function of (seed, epoch, i).
  std::vector<int32_t> batch_indices(int64_t epoch, int64_t i) const;
  // Packed rows (packing) or sequences (no packing) in micro-batch i; the last may hold fewer.
  int64_t rows_in_batch(int64_t epoch, int64_t i) const;

 private:
  struct Plan {
    int64_t epoch = -1;
    std::vector<std::vector<int32_t>> rows;  // shuffled rows (single sequences without packing)
  };
  std::shared_ptr<const Plan> plan(int64_t epoch) const;  // built once per epoch; last one kept

  std::vector<int64_t> lengths_;
  int64_t row_len_, batch_size_;
  bool packing_;
  uint64_t seed_;
  mutable std::mutex mu_;
  mutable std::shared_ptr<const Plan> cached_;
};

}  // namespace tsft
