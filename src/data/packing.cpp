#include "data/packing.h"

#include <algorithm>
#include <numeric>

#include "core/error.h"

namespace tsft {

std::vector<std::vector<int32_t>> pack_sequences(const std::vector<int64_t>& lengths,
                                                 int64_t row_len) {
  if (row_len <= 0) fail("packing: row length must be positive, got ", row_len);
  const size_t n = lengths.size();
  for (size_t i = 0; i < n; ++i) {
    TSFT_CHECK(lengths[i] >= 0, "sequence ", i, " has negative length");
    if (lengths[i] > row_len)
      fail("packing: sequence ", i, " has ", lengths[i], " tokens, more than the row length ",
           row_len);
  }
  std::vector<int32_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](int32_t a, int32_t b) { return lengths[a] > lengths[b]; });

  // A max-segment tree over row slots (at most n rows) holding each row's free room; slots not yet
  // opened hold row_len, so the leftmost slot with room is the first-fit row or the next new one.
  size_t leaves = 1;
  while (leaves < std::max<size_t>(n, 1)) leaves *= 2;
  std::vector<int64_t> room(2 * leaves, row_len);
  std::vector<std::vector<int32_t>> rows;
  for (int32_t idx : order) {
    const int64_t len = lengths[idx];
    size_t node = 1;
    while (node < leaves) node = room[2 * node] >= len ? 2 * node : 2 * node + 1;
    const size_t slot = node - leaves;
    if (slot == rows.size()) rows.emplace_back();
    rows[slot].push_back(idx);
    room[node] -= len;
    for (node /= 2; node >= 1; node /= 2) room[node] = std::max(room[2 * node], room[2 * node + 1]);
  }
  return rows;
}

Batch make_batch(const std::vector<SftExample>& examples, const std::vector<int32_t>& indices,
                 int64_t rows) {
  Batch b;
  b.rows = rows;
  size_t total = 0;
  for (int32_t i : indices) {
    TSFT_CHECK(i >= 0 && static_cast<size_t>(i) < examples.size(), "example index ", i);
    total += examples[i].ids.size();
  }
  b.tokens.reserve(total);
  b.positions.reserve(total);
  b.targets.reserve(total);
  b.seq_start.reserve(indices.size() + 1);
  for (int32_t i : indices) {
    const SftExample& ex = examples[i];
    TSFT_CHECK(ex.loss_mask.size() == ex.ids.size(), "example ", i,
               ": mask and ids differ in size");
    b.seq_start.push_back(static_cast<int32_t>(b.tokens.size()));
    const size_t len = ex.ids.size();
    for (size_t t = 0; t < len; ++t) {
      b.tokens.push_back(ex.ids[t]);
      b.positions.push_back(static_cast<int32_t>(t));
      b.targets.push_back(t + 1 < len && ex.loss_mask[t + 1] ? ex.ids[t + 1] : -1);
    }
  }
  b.seq_start.push_back(static_cast<int32_t>(b.tokens.size()));
  return b;
}

}  // namespace tsft
