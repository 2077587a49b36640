#include "backend/cpu/blas_core.h"

#include <cblas.h>
#include <unistd.h>

#include <cctype>
#include <cstdlib>

namespace tsft {

CpuVectorFeatures cpu_vector_features() {
  CpuVectorFeatures f;
#if defined(__x86_64__) || defined(__i386__)
  __builtin_cpu_init();
  f.avx2_fma = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  f.avx512 = f.avx2_fma && __builtin_cpu_supports("avx512f") &&
             __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq") &&
             __builtin_cpu_supports("avx512vl");
#endif
  return f;
}

std::string better_openblas_core(std::string_view picked, CpuVectorFeatures cpu) {
  if (!cpu.avx2_fma) return "";
  std::string name;
  for (char c : picked) name += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  // OpenBLAS's x86-64 cores that use AVX2 or AVX-512 (its kernel names, lower-cased).
  for (const char* good : {"haswell", "zen", "skylakex", "cooperlake", "sapphirerapids"})
    if (name == good) return "";
  return cpu.avx512 ? "SkylakeX" : "Haswell";
}

std::string openblas_core() {
  const char* name = openblas_get_corename();
  return name ? name : "";
}

void restart_with_better_openblas_core(char** argv) {
#ifdef __linux__
  if (std::getenv("OPENBLAS_CORETYPE") != nullptr) return;
  const std::string picked = openblas_core();
  const std::string core = better_openblas_core(picked, cpu_vector_features());
  if (core.empty()) return;
  if (setenv("OPENBLAS_CORETYPE", core.c_str(), 1) != 0) return;
  setenv("TSFT_OPENBLAS_PICKED", picked.c_str(), 1);
  execv("/proc/self/exe", argv);
  unsetenv("OPENBLAS_CORETYPE");  // the restart failed: go on as loaded
  unsetenv("TSFT_OPENBLAS_PICKED");
#else
  (void)argv;
#endif
}

std::string openblas_kernels_summary() {
  const std::string core = openblas_core();
  if (const char* picked = std::getenv("TSFT_OPENBLAS_PICKED"))
    return core + " (chosen by toolsft: OpenBLAS took this CPU for " + picked + ")";
  if (std::getenv("OPENBLAS_CORETYPE") != nullptr) return core + " (OPENBLAS_CORETYPE)";
  return core + " (OpenBLAS's choice)";
}

}  // namespace tsft
