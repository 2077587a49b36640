// Which OpenBLAS kernels the binary restarts under (backend/cpu/blas_core.h).
#include "backend/cpu/blas_core.h"

#include <gtest/gtest.h>

namespace tsft {
namespace {

constexpr CpuVectorFeatures kNoAvx2{false, false};
constexpr CpuVectorFeatures kAvx2{true, false};
constexpr CpuVectorFeatures kAvx512{true, true};

// A CPU that OpenBLAS did not know (it fell back to SSE3 or AVX kernels) gets the best kernels
// the CPU can run.
TEST(BlasCore, FallbackCoresAreReplacedByWhatTheCpuRuns) {
  for (const char* fallback : {"Prescott", "Core2", "Nehalem", "Sandybridge", "Barcelona", ""}) {
    EXPECT_EQ(better_openblas_core(fallback, kAvx512), "SkylakeX") << fallback;
    EXPECT_EQ(better_openblas_core(fallback, kAvx2), "Haswell") << fallback;
  }
}

// OpenBLAS's own AVX2 and AVX-512 choices stand, whatever their case.
TEST(BlasCore, Avx2AndAvx512CoresAreKept) {
  for (const char* good : {"Haswell", "Zen", "SkylakeX", "Cooperlake", "SapphireRapids",
                           "HASWELL", "skylakex"}) {
    EXPECT_EQ(better_openblas_core(good, kAvx512), "") << good;
    EXPECT_EQ(better_openblas_core(good, kAvx2), "") << good;
  }
}

// Without AVX2 there is nothing better to ask for.
TEST(BlasCore, CpuWithoutAvx2KeepsOpenBlasChoice) {
  EXPECT_EQ(better_openblas_core("Prescott", kNoAvx2), "");
  EXPECT_EQ(better_openblas_core("Sandybridge", kNoAvx2), "");
}

// The loaded library names the kernels it runs (serve prints it; the restart decides on it).
TEST(BlasCore, LoadedLibraryReportsItsCore) { EXPECT_FALSE(openblas_core().empty()); }

}  // namespace
}  // namespace tsft
