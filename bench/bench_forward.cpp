// Speed of the CPU forward pass on the default model: the machine's sgemm ceiling at the model's
// shapes, prompt processing (tokens/s over 512 tokens) and generation (tokens/s), and the GEMM
// GFLOP/s the prompt pass achieves against that ceiling. Prints a Markdown table.
//
//   build/bench/bench_forward [--model PATH] [--threads N] [--prompt-tokens 512] [--gen-tokens 128]
//                             [--batches 1,4,8,16] [--activations f32|auto|int8]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "backend/cpu/blas_core.h"
#include "backend/cpu/matmul.h"
#include "backend/cpu/matmul_int.h"
#include "core/error.h"
#include "core/threads.h"
#include "io/model_loader.h"
#include "model/sampler.h"

using namespace tsft;

namespace {

double now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// Best-of-reps GFLOP/s of out(M,N) = in(M,K) @ W(N,K)^T.
double gemm_gflops(int64_t M, int64_t K, int64_t N, int reps) {
  std::mt19937 gen(1);
  std::normal_distribution<float> d;
  std::vector<float> a(M * K), w(N * K), c(M * N);
  for (auto& x : a) x = d(gen);
  for (auto& x : w) x = d(gen);
  matmul_forward(c.data(), a.data(), w.data(), nullptr, M, K, N);  // warm up
  double best = 1e30;
  for (int r = 0; r < reps; ++r) {
    const double t0 = now();
    matmul_forward(c.data(), a.data(), w.data(), nullptr, M, K, N);
    best = std::min(best, now() - t0);
  }
  return 2.0 * M * K * N / best / 1e9;
}

}  // namespace

int main(int argc, char** argv) {
  tsft::restart_with_better_openblas_core(argv);  // as toolsft itself runs
  std::string model = "models/SmolLM2-135M-Instruct.Q4_1.gguf";
  int threads = 2, prompt_tokens = 512, gen_tokens = 128, reps = 3;
  std::vector<int> batches = {1, 4, 8, 16};
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--model")) model = argv[i + 1];
    else if (!std::strcmp(argv[i], "--threads")) threads = std::atoi(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--prompt-tokens")) prompt_tokens = std::atoi(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--gen-tokens")) gen_tokens = std::atoi(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--reps")) reps = std::atoi(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--activations")) {
      Activations a;
      if (!parse_activations(argv[i + 1], &a)) {
        std::fprintf(stderr, "--activations: expected f32, auto or int8, got %s\n", argv[i + 1]);
        return 2;
      }
      set_activations(a);
    }
    else if (!std::strcmp(argv[i], "--batches")) {
      batches.clear();
      for (const char* p = argv[i + 1]; *p != '\0';) {
        char* end = nullptr;
        const long b = std::strtol(p, &end, 10);
        if (end == p || b < 1 || b > 256 || (*end != ',' && *end != '\0')) {
          std::fprintf(stderr, "--batches: expected sizes like 1,4,16, got %s\n", argv[i + 1]);
          return 2;
        }
        batches.push_back(static_cast<int>(b));
        p = *end == ',' ? end + 1 : end;
      }
    }
    else {
      std::fprintf(stderr, "unknown option %s\n", argv[i]);
      return 2;
    }
  }
  try {
    set_num_threads(threads);
    LoadedModel lm = load_model(model, false);
    Transformer& m = *lm.model;
    const ModelConfig& c = m.config();
    const int64_t T = prompt_tokens;

    // The GEMM ceiling: sgemm at the model's own shapes with M = the prompt length. A layer runs
    // q, k, v, o, gate, up and down; the layer-mix ceiling is their flops over their summed times.
    struct Gemm { const char* name; int64_t K, N; };
    const Gemm layer[] = {{"q_proj", c.hidden, c.q_dim()},        {"k_proj", c.hidden, c.kv_dim()},
                          {"v_proj", c.hidden, c.kv_dim()},       {"o_proj", c.q_dim(), c.hidden},
                          {"gate_proj", c.hidden, c.intermediate}, {"up_proj", c.hidden, c.intermediate},
                          {"down_proj", c.intermediate, c.hidden}};
    std::printf("| GEMM (M=%lld) | K | N | GFLOP/s |\n|---|---|---|---|\n", static_cast<long long>(T));
    double ceiling = 0.0, layer_flops = 0.0, layer_time = 0.0;
    for (const auto& g : layer) {
      const double rate = gemm_gflops(T, g.K, g.N, reps * 3);
      const double flops = 2.0 * T * g.K * g.N;
      ceiling = std::max(ceiling, rate);
      layer_flops += flops;
      layer_time += flops / (rate * 1e9);
      std::printf("| %s | %lld | %lld | %.1f |\n", g.name, static_cast<long long>(g.K),
                  static_cast<long long>(g.N), rate);
    }
    const double layer_gemm_ceiling = layer_flops / layer_time / 1e9;

    // Prompt processing: T random tokens, logits for the last position only.
    std::mt19937 gen(2);
    // The batched section below starts sequence b at ids[b] with a 32-token prompt.
    const int max_batch = *std::max_element(batches.begin(), batches.end());
    std::vector<int32_t> ids(std::max<int64_t>(T, 32 + max_batch));
    for (auto& x : ids) x = static_cast<int32_t>(gen() % c.vocab);
    std::vector<float> logits(c.vocab);
    double best_pp = 1e30;
    for (int r = 0; r < reps; ++r) {
      KvCache cache = m.make_cache(T + gen_tokens);
      const double t0 = now();
      m.forward(ids.data(), T, cache, logits.data(), 1);
      best_pp = std::min(best_pp, now() - t0);
    }
    const double per_token_gemm =
        2.0 * c.n_layers * (c.hidden * (c.q_dim() + 2 * c.kv_dim()) + c.q_dim() * c.hidden +
                            3 * c.hidden * c.intermediate);
    const double gemm_flops = per_token_gemm * T + 2.0 * c.hidden * c.vocab;
    const double achieved = gemm_flops / best_pp / 1e9;

    // Generation: decode gen_tokens greedily after a 16-token prompt.
    KvCache cache = m.make_cache(16 + gen_tokens);
    m.forward(ids.data(), 16, cache, logits.data(), 1);
    int32_t next = argmax(logits.data(), c.vocab);
    const double t0 = now();
    for (int i = 0; i < gen_tokens; ++i) {
      m.forward(&next, 1, cache, logits.data(), 1);
      next = argmax(logits.data(), c.vocab);
    }
    const double tg = gen_tokens / (now() - t0);

    // Batched decoding (what the server's engine runs): B sequences of one token per step, each
    // on its own cache after a 32-token prompt; aggregate tokens/s against one sequence's.
    std::vector<std::pair<int, double>> batched;
    for (int B : batches) {
      std::vector<KvCache> caches;
      std::vector<int32_t> last(B);
      for (int b = 0; b < B; ++b) {
        caches.push_back(m.make_cache(32 + gen_tokens));
        m.forward(ids.data() + b, 32, caches.back(), logits.data(), 1);
        last[b] = argmax(logits.data(), c.vocab);
      }
      std::vector<BatchSeq> seqs;
      for (int b = 0; b < B; ++b) seqs.push_back({&last[b], 1, &caches[b], nullptr});
      std::vector<float> blogits(static_cast<size_t>(B) * c.vocab);
      const int steps = std::min(gen_tokens, 64);
      const double b0 = now();
      for (int i = 0; i < steps; ++i) {
        m.forward_batch(seqs, blogits.data());
        for (int b = 0; b < B; ++b) last[b] = argmax(blogits.data() + b * c.vocab, c.vocab);
      }
      batched.emplace_back(B, B * steps / (now() - b0));
    }

    std::printf("\n| metric | value |\n|---|---|\n");
    std::printf("| threads | %d |\n| activations | %s |\n| OpenBLAS kernels | %s |\n", threads,
                activations_summary().c_str(),
                openblas_kernels_summary().c_str());
    std::printf("| sgemm ceiling, best model shape (GFLOP/s) | %.1f |\n", ceiling);
    std::printf("| sgemm ceiling, layer mix (GFLOP/s) | %.1f |\n", layer_gemm_ceiling);
    std::printf("| prompt processing, %lld tokens (tokens/s) | %.1f |\n", static_cast<long long>(T), T / best_pp);
    std::printf("| prompt pass, GEMM GFLOP/s over total time | %.1f (%.0f%% of layer-mix ceiling) |\n",
                achieved, 100.0 * achieved / layer_gemm_ceiling);
    std::printf("| generation (tokens/s) | %.1f |\n", tg);
    // Ratios against the first one-sequence run; without one in --batches, none are printed.
    double one = 0.0;
    for (const auto& [B, rate] : batched)
      if (B == 1 && one == 0.0) one = rate;
    for (const auto& [B, rate] : batched) {
      if (one > 0.0)
        std::printf("| batched decoding, %d sequences (tokens/s, x one sequence) | %.1f (%.2fx) |\n",
                    B, rate, rate / one);
      else
        std::printf("| batched decoding, %d sequences (tokens/s) | %.1f |\n", B, rate);
    }
  } catch (const Error& e) {
    std::fprintf(stderr, "bench_forward: error: %s\n", e.what());
    return 1;
  }
  return 0;
}
