// Decoding's matrix-vector products at SmolLM2-135M's shapes: matvec_quant reading Q4_1 / Q8_0
// blocks against OpenBLAS sgemv on the same weights dequantized to float32. Each call reads a
// different copy of the weights (~256 MB of copies per format) so that, as in decoding, the
// weights come from memory and not from cache. Prints a Markdown table; a second table does
// the same for batched decoding steps of T rows: matmul_quant against OpenBLAS sgemm on the
// float32 copy (what a forward over T rows would otherwise run), and matmul_f32_broadcast (the
// same kernel as matmul_quant's for 9-16 rows, reading that float32 copy without dequantizing:
// what a model with no quantized blocks runs for 7-16 rows) and matmul_f32_dot (matmul_quant's
// dot form on the float32 rows: what it runs for 2-6). Where the CPU has AVX512-VNNI both tables
// add matmul_int (int8 inputs; the second table also int16, which a server's batched steps of
// 6-16 rows run by default).
//
//   build/bench/bench_matvec [--threads N] [--mb 256] [--rows 12,16]
//   (threads: 0 = both 1 and 2; --rows: only the batched table, for these T)
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include <cblas.h>

#include "backend/cpu/blas_core.h"
#include "backend/cpu/dequant.h"
#include "backend/cpu/matmul_int.h"
#include "backend/cpu/matvec_quant.h"
#include "core/dtype.h"
#include "core/half.h"
#include "core/threads.h"

namespace {

double now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// One matrix of random blocks with realistic scales (d ~ 0.01, m ~ -0.1).
std::vector<uint8_t> random_blocks(tsft::DType t, int64_t N, int64_t K, std::mt19937& gen) {
  const tsft::DTypeInfo& info = tsft::dtype_info(t);
  const int64_t n_blocks = N * K / info.block_elems;
  std::vector<uint8_t> buf(static_cast<size_t>(n_blocks * info.block_bytes));
  std::uniform_real_distribution<float> d_dist(0.002f, 0.02f), m_dist(-0.15f, -0.01f);
  std::uniform_int_distribution<int> byte(0, 255);
  for (int64_t b = 0; b < n_blocks; ++b) {
    uint8_t* p = buf.data() + b * info.block_bytes;
    const uint16_t d = tsft::f32_to_f16(d_dist(gen)), m = tsft::f32_to_f16(m_dist(gen));
    std::memcpy(p, &d, 2);
    const int header = t == tsft::DType::kQ4_1 ? 4 : 2;
    if (header == 4) std::memcpy(p + 2, &m, 2);
    for (int64_t i = header; i < info.block_bytes; ++i) p[i] = static_cast<uint8_t>(byte(gen));
  }
  return buf;
}

// `copies` back-to-back copies of `one`, so consecutive calls touch distinct memory.
template <typename T>
std::vector<T> replicate(const std::vector<T>& one, int64_t copies) {
  std::vector<T> all(one.size() * static_cast<size_t>(copies));
  for (int64_t c = 0; c < copies; ++c) std::memcpy(all.data() + c * one.size(), one.data(), one.size() * sizeof(T));
  return all;
}

// Best over several passes of the time per call, each pass calling f(copy) on every copy.
template <typename F>
double best_seconds_per_call(int64_t copies, F&& f) {
  for (int64_t c = 0; c < copies; ++c) f(c);  // warm-up: page faults, thread start
  double best = 1e30;
  for (int pass = 0; pass < 5; ++pass) {
    const double t0 = now();
    for (int64_t c = 0; c < copies; ++c) f(c);
    best = std::min(best, (now() - t0) / static_cast<double>(copies));
  }
  return best;
}

}  // namespace

int main(int argc, char** argv) {
  tsft::restart_with_better_openblas_core(argv);  // as toolsft itself runs
  int only_threads = 0;
  double mb = 256.0;
  std::vector<int64_t> rows = {4, 6, 8, 12, 16, 32, 64};
  bool only_batched = false;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--threads")) {
      only_threads = std::atoi(argv[i + 1]);
    } else if (!std::strcmp(argv[i], "--mb")) {
      mb = std::atof(argv[i + 1]);
    } else if (!std::strcmp(argv[i], "--rows")) {
      rows.clear();
      for (const char* p = argv[i + 1]; *p;) {
        char* end = nullptr;
        rows.push_back(std::strtoll(p, &end, 10));
        if (end == p || rows.back() < 1) {
          std::fprintf(stderr, "bench_matvec: --rows wants positive counts, e.g. 12,16\n");
          return 2;
        }
        p = *end == ',' ? end + 1 : end;
      }
      only_batched = true;
    }
  }
  struct Shape { const char* name; int64_t N, K; tsft::DType type; };
  const Shape shapes[] = {
      {"q/o_proj", 576, 576, tsft::DType::kQ4_1},      {"k/v_proj", 192, 576, tsft::DType::kQ4_1},
      {"gate/up_proj", 1536, 576, tsft::DType::kQ4_1}, {"down_proj", 576, 1536, tsft::DType::kQ4_1},
      {"lm_head", 49152, 576, tsft::DType::kQ4_1},     {"lm_head", 49152, 576, tsft::DType::kQ8_0},
  };
  const double target_bytes = mb * 1024 * 1024;
  std::printf("weights: ~%.0f MB of distinct copies per format, best of 5 passes; OpenBLAS "
              "kernels %s\n\n", mb, tsft::openblas_kernels_summary().c_str());
  std::printf("| threads | shape | N x K | type | quant us/call | quant GB/s | sgemv us/call | "
              "sgemv GB/s | speedup | int8 us/call | int8 GB/s |\n"
              "|---|---|---|---|---|---|---|---|---|---|---|\n");
  std::mt19937 gen(1);
  for (const Shape& s : shapes) {
    if (only_batched) break;
    const std::vector<uint8_t> q1 = random_blocks(s.type, s.N, s.K, gen);
    std::vector<float> f1(static_cast<size_t>(s.N * s.K));
    tsft::dequantize_row(s.type, q1.data(), f1.data(), s.N * s.K);
    const int64_t q_copies = std::max<int64_t>(2, static_cast<int64_t>(target_bytes / q1.size()));
    const int64_t f_copies =
        std::max<int64_t>(2, static_cast<int64_t>(target_bytes / (f1.size() * sizeof(float))));
    const std::vector<uint8_t> q = replicate(q1, q_copies);
    const std::vector<float> f = replicate(f1, f_copies);
    std::vector<float> x(static_cast<size_t>(s.K)), y(static_cast<size_t>(s.N));
    std::normal_distribution<float> nd;
    for (auto& v : x) v = nd(gen);
    for (int threads : {1, 2}) {
      if (only_threads && threads != only_threads) continue;
      tsft::set_num_threads(threads);
      const double tq = best_seconds_per_call(q_copies, [&](int64_t c) {
        tsft::matvec_quant(y.data(), x.data(), q.data() + c * q1.size(), s.type, nullptr, s.N, s.K);
      });
      const double tf = best_seconds_per_call(f_copies, [&](int64_t c) {
        cblas_sgemv(CblasRowMajor, CblasNoTrans, s.N, s.K, 1.0f, f.data() + c * f1.size(), s.K,
                    x.data(), 1, 0.0f, y.data(), 1);
      });
      // int8 activations (matmul_int), where this CPU has the kernels
      const double ti = !tsft::matmul_int_supported(s.type)
                            ? 0.0
                            : best_seconds_per_call(q_copies, [&](int64_t c) {
                                tsft::matmul_int(y.data(), x.data(), q.data() + c * q1.size(),
                                                 s.type, nullptr, 1, s.N, s.K, tsft::IntBits::k8);
                              });
      std::printf("| %d | %s | %lld x %lld | %s | %.1f | %.1f | %.1f | %.1f | %.2fx | %.1f | %.1f "
                  "|\n", threads, s.name, static_cast<long long>(s.N),
                  static_cast<long long>(s.K), std::string(tsft::dtype_name(s.type)).c_str(),
                  tq * 1e6, q1.size() / tq / 1e9, tf * 1e6, f1.size() * sizeof(float) / tf / 1e9,
                  tf / tq, ti * 1e6, ti > 0 ? q1.size() / ti / 1e9 : 0.0);
      std::fflush(stdout);
    }
  }

  std::printf("\n| threads | shape | T rows | type | matmul_quant us/call | GFLOP/s | sgemm f32 us/call "
              "| GFLOP/s | speedup | matmul_f32_broadcast us/call | GFLOP/s | matmul_f32_dot us/call "
              "| GFLOP/s | int16 us/call | GFLOP/s | int8 us/call | GFLOP/s |\n"
              "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
  for (const Shape& s : shapes) {
    const std::vector<uint8_t> q1 = random_blocks(s.type, s.N, s.K, gen);
    std::vector<float> f1(static_cast<size_t>(s.N * s.K));
    tsft::dequantize_row(s.type, q1.data(), f1.data(), s.N * s.K);
    const int64_t q_copies = std::max<int64_t>(2, static_cast<int64_t>(target_bytes / q1.size()));
    const int64_t f_copies =
        std::max<int64_t>(2, static_cast<int64_t>(target_bytes / (f1.size() * sizeof(float))));
    const std::vector<uint8_t> q = replicate(q1, q_copies);
    const std::vector<float> f = replicate(f1, f_copies);
    for (int64_t T : rows) {
      // lm_head rows are computed for the last token of each sequence only: up to 16 in a step
      // of 16 streams, not a prompt's length
      if (s.N > 4096 && T > 16) continue;
      std::vector<float> x(static_cast<size_t>(T * s.K)), y(static_cast<size_t>(T * s.N));
      std::normal_distribution<float> nd;
      for (auto& v : x) v = nd(gen);
      for (int threads : {1, 2}) {
        if (only_threads && threads != only_threads) continue;
        tsft::set_num_threads(threads);
        const double tq = best_seconds_per_call(q_copies, [&](int64_t c) {
          tsft::matmul_quant(y.data(), x.data(), q.data() + c * q1.size(), s.type, nullptr, T, s.N,
                             s.K);
        });
        const double tf = best_seconds_per_call(f_copies, [&](int64_t c) {
          cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, T, s.N, s.K, 1.0f, x.data(), s.K,
                      f.data() + c * f1.size(), s.K, 0.0f, y.data(), s.N);
        });
        const double tb = best_seconds_per_call(f_copies, [&](int64_t c) {
          tsft::matmul_f32_broadcast(y.data(), x.data(), f.data() + c * f1.size(), nullptr, T,
                                     s.N, s.K);
        });
        const double td = best_seconds_per_call(f_copies, [&](int64_t c) {
          tsft::matmul_f32_dot(y.data(), x.data(), f.data() + c * f1.size(), nullptr, T, s.N, s.K);
        });
        // matmul_int in int16 and int8, where this CPU has the kernels (int16 needs 2+ rows)
        auto integer = [&](tsft::IntBits bits) {
          if (!tsft::matmul_int_supported(s.type) || (bits == tsft::IntBits::k16 && T < 2))
            return 0.0;
          return best_seconds_per_call(q_copies, [&](int64_t c) {
            tsft::matmul_int(y.data(), x.data(), q.data() + c * q1.size(), s.type, nullptr, T,
                             s.N, s.K, bits);
          });
        };
        const double t16 = integer(tsft::IntBits::k16), ti = integer(tsft::IntBits::k8);
        const double flop = 2.0 * T * s.N * s.K;
        std::printf("| %d | %s | %lld | %s | %.1f | %.1f | %.1f | %.1f | %.2fx | %.1f | %.1f | "
                    "%.1f | %.1f | %.1f | %.1f | %.1f | %.1f |\n",
                    threads, s.name, static_cast<long long>(T),
                    std::string(tsft::dtype_name(s.type)).c_str(), tq * 1e6, flop / tq / 1e9,
                    tf * 1e6, flop / tf / 1e9, tf / tq, tb * 1e6, flop / tb / 1e9, td * 1e6,
                    flop / td / 1e9, t16 * 1e6, t16 > 0 ? flop / t16 / 1e9 : 0.0, ti * 1e6,
                    ti > 0 ? flop / ti / 1e9 : 0.0);
        std::fflush(stdout);
      }
    }
  }
  return 0;
}
