// Elapsed wall-clock time for timings and logs (generation, training, evaluation, recipes).
#pragma once

#include <chrono>

namespace tsft {

inline double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace tsft
