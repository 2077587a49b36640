// Training throughput and peak memory at the SmolLM2-135M shape (random weights): full
// fine-tuning and LoRA r=16 on all seven linears, micro-batches of 8 x 64 and 4 x 256 tokens with
// the loss on the last 8 tokens of each sequence, AdamW step included. Each configuration runs in
// its own child process so its peak RSS is its own. Also counts the FLOPs a step must do and
// compares the achieved rate with this machine's sgemm rate at the step's own GEMM shapes.
//
//   build/bench/bench_train [--threads 2] [--steps 5] [--json out.json]
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "backend/cpu/blas_core.h"
#include "backend/cpu/matmul.h"
#include "core/malloc_tuning.h"
#include "core/rng.h"
#include "core/threads.h"
#include "model/config.h"
#include "model/weights.h"
#include "train/adamw.h"
#include "model/lora.h"
#include "train/train_model.h"

namespace tsft {
namespace {

double now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

ModelConfig smollm2_135m() {
  ModelConfig c;
  c.arch = Arch::kLlama;
  c.hidden = 576, c.n_layers = 30, c.n_heads = 9, c.n_kv_heads = 3, c.head_dim = 64;
  c.intermediate = 1536, c.vocab = 49152, c.max_positions = 2048;
  c.rms_eps = 1e-5f, c.rope_theta = 100000.0f, c.tie_embeddings = true;
  return c;
}

void fill_random(ModelWeights& w, const ModelConfig& cfg) {
  Rng rng(1);
  w.for_each(cfg, [&](const std::string& name, Tensor& t, Tensor*) {
    float* p = t.f32();
    const bool norm = name.find("norm") != std::string::npos;
    for (int64_t i = 0; i < t.numel(); ++i)
      p[i] = norm ? 1.0f : static_cast<float>((rng.uniform() - 0.5) * 0.04);
  });
}

Batch make_bench_batch(int64_t B, int64_t T, int64_t V, int64_t loss_tail) {
  Rng rng(2);
  Batch b;
  b.seq_start.push_back(0);
  for (int64_t s = 0; s < B; ++s) {
    for (int64_t t = 0; t < T; ++t) {
      b.tokens.push_back(static_cast<int32_t>(rng.next_u64() % V));
      b.positions.push_back(static_cast<int32_t>(t));
    }
    b.seq_start.push_back(static_cast<int32_t>(b.tokens.size()));
  }
  b.targets.assign(b.tokens.size(), -1);
  // The last loss_tail tokens of each sequence carry loss: positions T-1-loss_tail .. T-2
  // predict them.
  for (int64_t s = 0; s < B; ++s)
    for (int64_t t = T - 1 - loss_tail; t < T - 1; ++t) b.targets[s * T + t] = b.tokens[s * T + t + 1];
  b.rows = B;
  return b;
}

// FLOPs a step must do: GEMMs of the linears (forward, input gradient, and weight gradient when
// the weight trains), causal attention (half the score matrix), the LM head on loss rows only,
// LoRA's small GEMMs. Elementwise work is not counted.
double step_flops(const ModelConfig& c, int64_t B, int64_t T, int64_t R, bool lora, int64_t r) {
  const double N = static_cast<double>(B * T);
  const double C = c.hidden, Q = c.q_dim(), KV = c.kv_dim(), F = c.intermediate;
  const double linear_params = C * Q + 2 * C * KV + Q * C + 3 * C * F;
  double f = c.n_layers * linear_params * 2 * N * (lora ? 2 : 3);
  const double attn_fwd = 2.0 * 2.0 * B * (T * (T + 1) / 2.0) * c.head_dim * c.n_heads;
  f += c.n_layers * attn_fwd * 3;  // forward + backward (dQ, dK, dV, dP)
  f += 2.0 * R * C * c.vocab * (lora ? 2 : 3);
  if (lora) {
    const double lora_io = (C + Q) + (C + KV) * 2 + (Q + C) + (C + F) * 2 + (F + C);
    f += c.n_layers * 2.0 * N * r * lora_io * 3;
  }
  return f;
}

// sgemm rate at the step's dominant shapes (the same matmul_forward the step uses).
double gemm_peak_gflops(int64_t N) {
  std::vector<float> x(N * 1536, 0.01f), w(1536 * 1536, 0.02f), y(N * 1536);
  double best = 0;
  for (auto [K, M] : std::vector<std::pair<int64_t, int64_t>>{{576, 1536}, {1536, 576}, {576, 576}}) {
    matmul_forward(y.data(), x.data(), w.data(), nullptr, N, K, M);
    double t_best = 1e30;
    for (int i = 0; i < 8; ++i) {
      const double t0 = now();
      matmul_forward(y.data(), x.data(), w.data(), nullptr, N, K, M);
      t_best = std::min(t_best, now() - t0);
    }
    best = std::max(best, 2.0 * N * K * M / t_best / 1e9);
  }
  return best;
}

struct Result {
  double tokens_per_s = 0, step_s = 0, gflops = 0, peak_gflops = 0, max_rss_mib = 0;
};

Result run_config(bool lora, int64_t B, int64_t T, int steps, bool ckpt) {
  const ModelConfig cfg = smollm2_135m();
  ModelWeights w = ModelWeights::allocate(cfg);
  fill_random(w, cfg);
  LoraWeights lw;
  if (lora) {
    Rng rng(3);
    LoraConfig lc;
    lc.rank = 16, lc.alpha = 32, lc.dropout = 0;
    lw = LoraWeights::create(cfg, lc, rng);
  }
  TrainModelOptions o;
  o.gradient_checkpointing = ckpt;
  TrainableModel tm(cfg, w, lora ? &lw : nullptr, o);
  AdamWConfig ac;
  ac.weight_decay = 0.01;
  AdamW opt(tm.params(), ac);
  const int64_t tail = 8;
  const Batch b = make_bench_batch(B, T, cfg.vocab, tail);
  const float scale = 1.0f / static_cast<float>(b.num_loss_tokens());
  auto one_step = [&]() {
    tm.zero_grad();
    tm.forward_backward(b, scale, 1);
    opt.step(1e-5f);
  };
  one_step();  // warm-up: buffers, page faults
  one_step();
  const double t0 = now();
  for (int i = 0; i < steps; ++i) one_step();
  const double dt = (now() - t0) / steps;
  Result r;
  r.step_s = dt;
  r.tokens_per_s = static_cast<double>(B * T) / dt;
  r.gflops = step_flops(cfg, B, T, B * tail, lora, 16) / dt / 1e9;
  r.peak_gflops = gemm_peak_gflops(B * T);
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  r.max_rss_mib = ru.ru_maxrss / 1024.0;
  return r;
}

}  // namespace
}  // namespace tsft

int main(int argc, char** argv) {
  tsft::restart_with_better_openblas_core(argv);  // as toolsft itself runs
  int threads = 2, steps = 5;
  bool ckpt = false;
  int only = -1;
  const char* json = nullptr;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--threads") && i + 1 < argc) threads = std::atoi(argv[++i]);
    else if (!std::strcmp(argv[i], "--steps") && i + 1 < argc) steps = std::atoi(argv[++i]);
    else if (!std::strcmp(argv[i], "--json") && i + 1 < argc) json = argv[++i];
    else if (!std::strcmp(argv[i], "--recompute")) ckpt = true;
    else if (!std::strcmp(argv[i], "--only") && i + 1 < argc) only = std::atoi(argv[++i]);
    else {
      std::fprintf(stderr, "usage: bench_train [--threads N] [--steps N] [--json FILE] [--recompute] [--only 0..3]\n");
      return 2;
    }
  }
  struct Cfg { const char* mode; bool lora; int64_t B, T; };
  const Cfg cfgs[] = {{"full", false, 8, 64}, {"full", false, 4, 256}, {"lora r=16", true, 8, 64},
                      {"lora r=16", true, 4, 256}};
  std::printf("toolsft training step, SmolLM2-135M shape, float32, %d threads%s, loss on the last 8 "
              "tokens per sequence, %d timed steps, OpenBLAS kernels %s\n\n",
              threads, ckpt ? ", recomputation" : "", steps,
              tsft::openblas_kernels_summary().c_str());
  std::printf("| mode | batch | tokens/s | step (s) | GFLOP/s | sgemm GFLOP/s at these shapes | "
              "of peak | peak RSS (MiB) |\n|---|---|---|---|---|---|---|---|\n");
  std::string js = "[";
  for (int ci = 0; ci < 4; ++ci) {
    const Cfg& c = cfgs[ci];
    if (only >= 0 && ci != only) continue;
    int fds[2];
    if (pipe(fds) != 0) return 1;
    const pid_t pid = fork();
    if (pid == 0) {
      close(fds[0]);
      tsft::set_num_threads(threads);
      tsft::keep_large_allocations_in_heap();  // as toolsft train does
      const tsft::Result r = tsft::run_config(c.lora, c.B, c.T, steps, ckpt);
      if (write(fds[1], &r, sizeof r) != sizeof r) _exit(1);
      _exit(0);
    }
    close(fds[1]);
    tsft::Result r;
    const ssize_t n = read(fds[0], &r, sizeof r);
    close(fds[0]);
    int status = 0;
    waitpid(pid, &status, 0);
    if (n != sizeof r) {
      std::fprintf(stderr, "configuration %s %lldx%lld failed\n", c.mode, (long long)c.B, (long long)c.T);
      return 1;
    }
    std::printf("| %s | %lld x %lld | %.0f | %.3f | %.1f | %.1f | %.0f%% | %.0f |\n", c.mode,
                (long long)c.B, (long long)c.T, r.tokens_per_s, r.step_s, r.gflops, r.peak_gflops,
                100.0 * r.gflops / r.peak_gflops, r.max_rss_mib);
    std::fflush(stdout);
    char buf[512];
    std::snprintf(buf, sizeof buf,
                  "%s{\"mode\":\"%s\",\"batch\":%lld,\"seq\":%lld,\"tokens_per_s\":%.1f,\"gflops\":%.2f,"
                  "\"peak_gflops\":%.2f,\"max_rss_mib\":%.1f}",
                  js.size() > 1 ? "," : "", c.mode, (long long)c.B, (long long)c.T, r.tokens_per_s,
                  r.gflops, r.peak_gflops, r.max_rss_mib);
    js += buf;
  }
  js += "]\n";
  if (json != nullptr) {
    FILE* f = std::fopen(json, "w");
    if (f == nullptr) return 1;
    std::fputs(js.c_str(), f);
    std::fclose(f);
  }
  return 0;
}
