// OpenBLAS picks its kernels from the CPU it finds when it loads. A release older than the CPU
// does not know it and falls back to its SSE3 kernels ("Prescott"): Debian 12's OpenBLAS 0.3.21
// on an Emerald Rapids Xeon ran sgemm at ~30 GFLOP/s on 2 cores where its AVX-512 kernels run
// ~170. The choice can only be made before the library loads (OPENBLAS_CORETYPE), so the binary
// restarts itself once with the variable set. A variable the user set is never changed.
#pragma once

#include <string>
#include <string_view>

namespace tsft {

struct CpuVectorFeatures {
  bool avx2_fma = false;  // AVX2 and FMA: OpenBLAS's Haswell kernels
  bool avx512 = false;    // AVX-512 F, BW, DQ and VL: its SkylakeX kernels
};

CpuVectorFeatures cpu_vector_features();

// The OPENBLAS_CORETYPE to run under when OpenBLAS picked `picked` on a CPU with `cpu`, or ""
// to keep its choice: only a pick without AVX2 on a CPU that has it is replaced.
std::string better_openblas_core(std::string_view picked, CpuVectorFeatures cpu);

// The kernels OpenBLAS runs (its core name, e.g. "SkylakeX", "Haswell", "Prescott").
std::string openblas_core();

// Called first in main(): when OPENBLAS_CORETYPE is unset and better_openblas_core() names a
// core, sets the variable (and TSFT_OPENBLAS_PICKED to OpenBLAS's own pick) and re-executes the
// binary with the same arguments (Linux; on failure it returns and the process goes on with
// OpenBLAS's own choice).
void restart_with_better_openblas_core(char** argv);

// The kernels and who chose them, for benchmark reports: "SkylakeX (chosen by toolsft: OpenBLAS
// took this CPU for Prescott)", "Haswell (OPENBLAS_CORETYPE)" or "Zen (OpenBLAS's choice)".
std::string openblas_kernels_summary();

}  // namespace tsft
