// parallel_chunks (core/parallel.h): every index once, in contiguous line-aligned chunks.
#include "core/parallel.h"

#include <gtest/gtest.h>

#include <mutex>
#include <utility>
#include <vector>

#include "core/threads.h"

namespace tsft {
namespace {

TEST(ParallelChunks, CoversEveryIndexOnceInAlignedChunks) {
  for (int threads : {1, 2, 3}) {
    set_num_threads(threads);
    for (int64_t n : {0, 1, 15, 16, 17, 1000, 8192, 8193, 24576, 100003}) {
      for (int64_t min_parallel : {int64_t{1}, int64_t{8192}}) {
        std::vector<int> seen(static_cast<size_t>(n), 0);
        std::vector<std::pair<int64_t, int64_t>> chunks;
        std::mutex mu;
        parallel_chunks(n, min_parallel, [&](int64_t begin, int64_t end) {
          for (int64_t i = begin; i < end; ++i) ++seen[i];  // chunks are disjoint: no race
          std::lock_guard<std::mutex> lock(mu);
          chunks.emplace_back(begin, end);
        });
        for (int64_t i = 0; i < n; ++i)
          ASSERT_EQ(seen[i], 1) << "index " << i << " n=" << n << " threads=" << threads;
        const bool split = n >= min_parallel && threads > 1;
        EXPECT_LE(chunks.size(), split ? static_cast<size_t>(threads) : size_t{1});
        for (const auto& [begin, end] : chunks) {
          EXPECT_LT(begin, end);
          EXPECT_EQ(begin % 16, 0) << "n=" << n << " threads=" << threads;
        }
        if (!split && n > 0) {
          EXPECT_EQ(chunks.size(), 1u);
        }
      }
    }
  }
  set_num_threads(0);
}

}  // namespace
}  // namespace tsft
