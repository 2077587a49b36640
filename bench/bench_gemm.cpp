// The GEMM libraries on this machine at SmolLM2-135M's shapes: OpenBLAS sgemm (what toolsft links)
// against oneDNN's dnnl_sgemm, to justify the choice. Prints a Markdown table of GFLOP/s.
//
//   build/bench/bench_gemm [--threads N] [--m 512]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <vector>

#include <cblas.h>
#ifdef TSFT_HAVE_DNNL
#include <oneapi/dnnl/dnnl.h>
#endif

#include "backend/cpu/blas_core.h"
#include "core/threads.h"

namespace {

double now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

template <typename F>
double best_gflops(int64_t M, int64_t N, int64_t K, F&& f) {
  f();
  double best = 1e30;
  for (int r = 0; r < 10; ++r) {
    const double t0 = now();
    f();
    best = std::min(best, now() - t0);
  }
  return 2.0 * M * N * K / best / 1e9;
}

}  // namespace

int main(int argc, char** argv) {
  tsft::restart_with_better_openblas_core(argv);  // as toolsft itself runs
  int threads = 2;
  int64_t M = 512;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--threads")) threads = std::atoi(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--m")) M = std::atoll(argv[i + 1]);
  }
  tsft::set_num_threads(threads);
  struct Shape { const char* name; int64_t K, N; };
  const Shape shapes[] = {{"q/o_proj", 576, 576}, {"k/v_proj", 576, 192}, {"gate/up_proj", 576, 1536},
                          {"down_proj", 1536, 576}, {"lm_head", 576, 49152}};
  std::printf("threads %d, M %lld, OpenBLAS kernels %s\n\n", threads, static_cast<long long>(M),
              tsft::openblas_kernels_summary().c_str());
  std::printf("| shape | K | N | OpenBLAS sgemm | oneDNN sgemm |\n|---|---|---|---|---|\n");
  std::mt19937 gen(1);
  std::normal_distribution<float> d;
  for (const auto& s : shapes) {
    std::vector<float> a(M * s.K), w(s.N * s.K), c(M * s.N);
    for (auto& x : a) x = d(gen);
    for (auto& x : w) x = d(gen);
    const double blas = best_gflops(M, s.N, s.K, [&] {
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, M, s.N, s.K, 1.0f, a.data(), s.K,
                  w.data(), s.K, 0.0f, c.data(), s.N);
    });
    double dnnl = 0.0;
#ifdef TSFT_HAVE_DNNL
    dnnl = best_gflops(M, s.N, s.K, [&] {
      dnnl_sgemm('N', 'T', M, s.N, s.K, 1.0f, a.data(), s.K, w.data(), s.K, 0.0f, c.data(), s.N);
    });
#endif
    std::printf("| %s | %lld | %lld | %.1f | %.1f |\n", s.name, static_cast<long long>(s.K),
                static_cast<long long>(s.N), blas, dnnl);
  }
  return 0;
}
