#include "data/batch_sampler.h"

#include <algorithm>
#include <numeric>

#include "core/error.h"
#include "core/rng.h"
#include "data/packing.h"

namespace tsft {
namespace {

// Fisher-Yates with an unbiased-enough multiply-shift draw; the same on every machine.
template <typename T>
void shuffle(std::vector<T>& v, Rng& rng) {
  for (size_t i = v.size(); i > 1; --i) {
    const size_t j =
        static_cast<size_t>((static_cast<unsigned __int128>(rng.next_u64()) * i) >> 64);
    std::swap(v[i - 1], v[j]);
  }
}

}  // namespace

BatchSampler::BatchSampler(std::vector<int64_t> lengths, int64_t row_len, int64_t batch_size,
                           bool packing, uint64_t seed)
    : lengths_(std::move(lengths)),
      row_len_(row_len),
      batch_size_(batch_size),
      packing_(packing),
      seed_(seed) {
  if (batch_size_ <= 0) fail("batch size must be positive, got ", batch_size_);
  if (packing_) {
    if (row_len_ <= 0) fail("packing: row length must be positive, got ", row_len_);
    for (size_t i = 0; i < lengths_.size(); ++i)
      if (lengths_[i] > row_len_)
        fail("packing: example ", i, " has ", lengths_[i], " tokens, more than the row length ",
             row_len_, " (raise the row length or lower max_seq_len)");
  }
}

std::shared_ptr<const BatchSampler::Plan> BatchSampler::plan(int64_t epoch) const {
  TSFT_CHECK(epoch >= 0, "epoch ", epoch);
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (cached_ && cached_->epoch == epoch) return cached_;
  }
  auto p = std::make_shared<Plan>();
  p->epoch = epoch;
  Rng rng(seed_ + static_cast<uint64_t>(epoch));
  std::vector<int32_t> order(lengths_.size());
  std::iota(order.begin(), order.end(), 0);
  shuffle(order, rng);
  if (packing_) {
    std::vector<int64_t> shuffled_lengths(order.size());
    for (size_t k = 0; k < order.size(); ++k) shuffled_lengths[k] = lengths_[order[k]];
    p->rows = pack_sequences(shuffled_lengths, row_len_);
    for (auto& row : p->rows)
      for (int32_t& k : row) k = order[k];
    // First-fit decreasing opens rows longest-first; shuffle them so the micro-batches of an
    // epoch do not run from the longest sequences to the shortest.
    shuffle(p->rows, rng);
  } else {
    p->rows.reserve(order.size());
    for (int32_t i : order) p->rows.push_back({i});
  }
  std::lock_guard<std::mutex> lock(mu_);
  cached_ = p;
  return p;
}

int64_t BatchSampler::batches_per_epoch(int64_t epoch) const {
  const int64_t rows = static_cast<int64_t>(plan(epoch)->rows.size());
  return (rows + batch_size_ - 1) / batch_size_;
}

int64_t BatchSampler::rows_in_batch(int64_t epoch, int64_t i) const {
  const auto p = plan(epoch);
  const int64_t rows = static_cast<int64_t>(p->rows.size());
  TSFT_CHECK(i >= 0 && i * batch_size_ < rows, "batch ", i, " of epoch ", epoch, " does not exist");
  return std::min(batch_size_, rows - i * batch_size_);
}

std::vector<int32_t> BatchSampler::batch_indices(int64_t epoch, int64_t i) const {
  const auto p = plan(epoch);
  const int64_t n = rows_in_batch(epoch, i);
  std::vector<int32_t> out;
  for (int64_t r = i * batch_size_; r < i * batch_size_ + n; ++r)
    out.insert(out.end(), p->rows[r].begin(), p->rows[r].end());
  return out;
}

}  // namespace tsft
