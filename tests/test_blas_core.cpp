// Which OpenBLAS kernels the binary restarts under (backend/cpu/blas_core.h).
#include "backend/cpu/blas_core.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <cstdlib>
#include <optional>
#include <string>

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

// Benchmarks say who chose the kernels: toolsft's restart (which leaves OpenBLAS's own pick in
// TSFT_OPENBLAS_PICKED), the user's OPENBLAS_CORETYPE, or OpenBLAS.
TEST(BlasCore, SummarySaysWhoChoseTheKernels) {
  auto saved = [](const char* name) -> std::optional<std::string> {
    const char* v = std::getenv(name);
    return v ? std::optional<std::string>(v) : std::nullopt;
  };
  const auto coretype = saved("OPENBLAS_CORETYPE"), picked = saved("TSFT_OPENBLAS_PICKED");
  const std::string core = openblas_core();
  setenv("OPENBLAS_CORETYPE", "SkylakeX", 1);
  setenv("TSFT_OPENBLAS_PICKED", "Prescott", 1);
  EXPECT_EQ(openblas_kernels_summary(),
            core + " (chosen by toolsft: OpenBLAS took this CPU for Prescott)");
  unsetenv("TSFT_OPENBLAS_PICKED");
  EXPECT_EQ(openblas_kernels_summary(), core + " (OPENBLAS_CORETYPE)");
  unsetenv("OPENBLAS_CORETYPE");
  EXPECT_EQ(openblas_kernels_summary(), core + " (OpenBLAS's choice)");
  if (coretype) setenv("OPENBLAS_CORETYPE", coretype->c_str(), 1);
  if (picked) setenv("TSFT_OPENBLAS_PICKED", picked->c_str(), 1);
}

}  // namespace
}  // namespace tsft
