// Speed of scoring tool selection by candidate log-probabilities with one batched tree forward
// (model/tree_forward.h) against answering the same prompts by greedy generation: synthetic
// examples (a system prompt listing six tools as the shared prefix, a short user query and the
// assistant header per example, the six tool names + EOS as candidates). Prints a Markdown table.
//
//   build/bench/bench_tree_forward [--model PATH] [--threads 2] [--examples 200] [--batch 24]
//                                  [--gen-examples 20] [--max-new-tokens 8] [--system tools|short]
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include <time.h>

#include "backend/cpu/blas_core.h"
#include "core/error.h"
#include "chat/tool_prompt.h"
#include "core/threads.h"
#include "io/model_loader.h"
#include "model/generate.h"
#include "model/sampler.h"
#include "model/tree_forward.h"

using namespace tsft;

namespace {

double now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// CPU seconds of the whole process. With one thread this is the run time the other processes'
// load leaves out (time slices waiting for a core are not counted); with more threads it also
// counts OpenMP's spinning at barriers, so it is printed for --threads 1 only.
double cpu_now() {
  timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return ts.tv_sec + 1e-9 * ts.tv_nsec;
}

struct Tool {
  const char* name;
  const char* description;
  std::vector<const char*> queries;  // templates; {} is replaced by a slot value
  std::vector<const char*> slots;
  std::vector<std::pair<const char*, const char*>> params;  // (name, description), all strings
};

const std::vector<Tool>& tools() {
  static const std::vector<Tool> t = {
      {"get_weather", "Get the current weather and forecast for a city.",
       {"What will the weather be like in {} tomorrow morning?", "Is it going to rain in {} this weekend?",
        "How cold is it right now in {}, should I bring a coat?"},
       {"Paris", "Tokyo", "Lagos", "Buenos Aires", "Oslo", "Denver"},
       {{"city", "City name, e.g. Berlin"}, {"days", "Number of forecast days"}}},
      {"search_web", "Search the web and return the top results for a query.",
       {"Can you look up the latest news about {} for me?", "Find some articles explaining {} in simple terms.",
        "Search online for reviews of {} please."},
       {"electric cars", "the James Webb telescope", "sourdough baking", "quantum computing", "marathon training"},
       {{"query", "The search query"}}},
      {"send_email", "Send an email to a recipient with a subject and body.",
       {"Please email {} that the meeting moved to Thursday.", "Write to {} and ask for the quarterly report.",
        "Send a short thank-you note to {} by email."},
       {"Alice", "my manager", "the landlord", "Dr. Chen", "the support team"},
       {{"to", "Recipient address"}, {"subject", "Subject line"}, {"body", "Message text"}}},
      {"create_calendar_event", "Create an event in the user's calendar.",
       {"Put a dentist appointment on my calendar for {} at 3pm.", "Schedule a team lunch on {} at noon.",
        "Add a reminder event for my sister's birthday on {}."},
       {"Monday", "next Friday", "June 12", "the 3rd of May", "Tuesday"},
       {{"title", "Event title"}, {"start", "Start time, ISO 8601"}}},
      {"convert_currency", "Convert an amount of money between two currencies.",
       {"How much is {} in Japanese yen today?", "Convert {} to euros at the current rate.",
        "What would {} be worth in British pounds?"},
       {"250 US dollars", "80 Swiss francs", "1200 Canadian dollars", "45 euros", "10000 rupees"},
       {{"amount", "Amount to convert"}, {"from", "Currency code"}, {"to", "Currency code"}}},
      {"set_timer", "Start a countdown timer for a number of minutes.",
       {"Set a timer for {} so I don't burn the pasta.", "Start a countdown of {} for my workout.",
        "Remind me in {} to take the laundry out."},
       {"10 minutes", "25 minutes", "an hour", "90 seconds", "15 minutes"},
       {{"minutes", "Duration in minutes"}}},
  };
  return t;
}

// "tools": the tool list as the project renders it for SmolLM2 (chat/tool_prompt.h: one JSON
// function signature per line in the system turn), the realistic prefix; "short": one line per
// tool (name and description), which leaves the prompts short and generation at its fastest.
std::string system_prompt(const std::string& style) {
  std::string s = "You are a helpful assistant. Answer with the name of the one tool that best "
                  "serves the user's request.\n\n";
  if (style == "short") {
    for (const Tool& t : tools()) s += std::string("- ") + t.name + ": " + t.description + "\n";
    return s;
  }
  if (style != "tools") fail("--system must be tools or short, not ", style);
  const ToolPromptStyle ps;
  s += ps.before_tools;
  for (size_t i = 0; i < tools().size(); ++i) {
    const Tool& t = tools()[i];
    nlohmann::ordered_json props = nlohmann::ordered_json::object(), req = nlohmann::ordered_json::array();
    for (const auto& [name, desc] : t.params) {
      props[name] = {{"type", "string"}, {"description", desc}};
      req.push_back(name);
    }
    const nlohmann::ordered_json fn = {
        {"type", "function"},
        {"function", {{"name", t.name}, {"description", t.description},
                      {"parameters", {{"type", "object"}, {"properties", props}, {"required", req}}}}}};
    s += (i ? "\n" : "") + python_json(fn);
  }
  return s + ps.after_tools;
}

std::string fill(const char* tmpl, const char* slot) {
  std::string s = tmpl;
  const size_t at = s.find("{}");
  return s.replace(at, 2, slot);
}

}  // namespace

int main(int argc, char** argv) {
  tsft::restart_with_better_openblas_core(argv);  // as toolsft itself runs
  std::string model = "models/SmolLM2-135M-Instruct.Q4_1.gguf", system_style = "tools";
  int threads = 2, n_examples = 200, batch = 24, gen_examples = 20, max_new = 8;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--model")) model = argv[i + 1];
    else if (!std::strcmp(argv[i], "--system")) system_style = argv[i + 1];
    else if (!std::strcmp(argv[i], "--threads")) threads = std::atoi(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--examples")) n_examples = std::atoi(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--batch")) batch = std::atoi(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--gen-examples")) gen_examples = std::atoi(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--max-new-tokens")) max_new = std::atoi(argv[i + 1]);
    else {
      std::fprintf(stderr, "unknown option %s\n", argv[i]);
      return 2;
    }
  }
  try {
    set_num_threads(threads);
    LoadedModel lm = load_model(model, true);
    Transformer& m = *lm.model;
    const Tokenizer& tok = *lm.tokenizer;
    const ModelConfig& c = m.config();
    const int64_t V = c.vocab;
    const auto im_end = tok.token_id("<|im_end|>");
    if (!im_end) fail("bench_tree_forward: the model's tokenizer has no <|im_end|> token");

    // The examples as full token sequences; the shared prefix is their longest common token
    // prefix (the system turn and "<|im_start|>user\n"), as an eval would compute it.
    std::vector<std::vector<int32_t>> cands;
    for (const Tool& t : tools()) {
      std::vector<int32_t> ids = tok.encode(t.name);
      ids.push_back(*im_end);
      cands.push_back(ids);
    }
    std::mt19937 gen(1);
    std::vector<std::vector<int32_t>> full(n_examples);
    std::vector<int> truth(n_examples);
    const std::string system = "<|im_start|>system\n" + system_prompt(system_style) + "<|im_end|>\n";
    for (int e = 0; e < n_examples; ++e) {
      const int ti = e % static_cast<int>(tools().size());
      const Tool& t = tools()[ti];
      const std::string q = fill(t.queries[gen() % t.queries.size()], t.slots[gen() % t.slots.size()]);
      full[e] = tok.encode(system + "<|im_start|>user\n" + q + "<|im_end|>\n<|im_start|>assistant\n");
      truth[e] = ti;
    }
    size_t lcp = full[0].size() - 1;  // every example keeps at least one prompt token
    for (const auto& f : full) {
      size_t n = 0;
      while (n < lcp && n < f.size() && f[n] == full[0][n]) ++n;
      lcp = n;
    }
    const std::vector<int32_t> prefix(full[0].begin(), full[0].begin() + lcp);
    const int64_t P = prefix.size();
    std::vector<ScoringExample> examples(n_examples);
    int64_t prompt_tokens = 0;
    for (int e = 0; e < n_examples; ++e) {
      examples[e].prompt.assign(full[e].begin() + P, full[e].end());
      examples[e].candidates = cands;
      prompt_tokens += examples[e].prompt.size();
    }

    KvCache prefix_cache = m.make_cache(P);
    std::vector<float> prefix_logits(V);
    m.forward(prefix.data(), P, prefix_cache, prefix_logits.data(), 1);

    GenerationConfig gc = lm.gen_defaults;
    gc.max_new_tokens = max_new;
    gc.sampling = SamplingParams{};  // greedy
    gc.stop_at_eos = true;
    if (std::find(gc.eos_ids.begin(), gc.eos_ids.end(), *im_end) == gc.eos_ids.end())
      gc.eos_ids.push_back(*im_end);
    KvCache dec = m.make_cache(P + 128 + max_new);
    std::vector<float> logits(V);

    // Tree scoring: `batch` examples per forward, one warm-up batch first (workspace growth).
    // Between batches, the generation baselines run on a share of that batch's examples, so that
    // both sides see the same load from other processes:
    //   (a) generate() on the full prompt, as answering each example would run;
    //   (b) the prefix computed once and copied in, then the prompt and greedy decoding: the best
    //       decoding can do with the same prefix reuse.
    TreeWorkspace ws;
    score_candidates(m, prefix_cache, P, prefix_logits.data(),
                     {examples.begin(), examples.begin() + std::min(batch, n_examples)}, ws);
    const int n_batches = (n_examples + batch - 1) / batch;
    const int gen_per_batch = std::max(1, (gen_examples + n_batches - 1) / n_batches);
    int64_t tokens = 0, logit_rows = 0, gen_tokens = 0;
    double flops = 0.0, t_score = 0.0, t_gen = 0.0, t_dec = 0.0;
    double gen_prompt_s = 0.0, gen_decode_s = 0.0, c_score = 0.0, c_gen = 0.0, c_dec = 0.0;
    int64_t gen_prompt_tokens = 0;
    int correct = 0, ng = 0;
    const double per_token_gemm =
        2.0 * c.n_layers * (c.hidden * (c.q_dim() + 2 * c.kv_dim()) + c.q_dim() * c.hidden +
                            3 * c.hidden * c.intermediate);
    for (int b0 = 0; b0 < n_examples; b0 += batch) {
      const std::vector<ScoringExample> chunk(examples.begin() + b0,
                                              examples.begin() + std::min(b0 + batch, n_examples));
      const ScoringBatch sb = build_scoring_batch(chunk, P);
      const int64_t T = sb.batch.tokens.size(), R = sb.batch.logit_rows.size();
      tokens += T;
      logit_rows += R;
      // GEMMs, LM head and attention (QK^T and PV over prefix + ancestors).
      double attn = 0.0;
      std::vector<int64_t> depth(T);
      for (int64_t i = 0; i < T; ++i) {
        depth[i] = sb.batch.parent[i] < 0 ? 1 : depth[sb.batch.parent[i]] + 1;
        attn += 4.0 * c.n_layers * c.n_heads * c.head_dim * (P + depth[i]);
      }
      flops += per_token_gemm * T + 2.0 * c.hidden * V * R + attn;
      double t0 = now(), c0 = cpu_now();
      const auto lp = score_candidates(m, prefix_cache, P, prefix_logits.data(), chunk, ws);
      t_score += now() - t0;
      c_score += cpu_now() - c0;
      for (size_t e = 0; e < lp.size(); ++e) {
        const int best = static_cast<int>(std::max_element(lp[e].begin(), lp[e].end()) - lp[e].begin());
        correct += best == truth[b0 + e];
      }

      for (int e = b0; e < std::min(b0 + gen_per_batch, n_examples) && ng < gen_examples; ++e, ++ng) {
        t0 = now(), c0 = cpu_now();
        const GenerationResult r = generate(m, tok, full[e], gc);
        t_gen += now() - t0;
        c_gen += cpu_now() - c0;
        gen_tokens += r.tokens.size();
        gen_prompt_tokens += r.prompt_tokens;
        gen_prompt_s += r.prompt_seconds;
        gen_decode_s += r.decode_seconds;

        t0 = now(), c0 = cpu_now();
        dec.clear();
        for (int64_t l = 0; l < c.n_layers; ++l) {
          std::memcpy(dec.k(l), prefix_cache.k(l), P * c.kv_dim() * sizeof(float));
          std::memcpy(dec.v(l), prefix_cache.v(l), P * c.kv_dim() * sizeof(float));
        }
        dec.advance(P);
        const auto& pr = examples[e].prompt;
        m.forward(pr.data(), pr.size(), dec, logits.data(), 1);
        for (int i = 0; i < max_new; ++i) {
          const int32_t next = argmax(logits.data(), V);
          if (std::find(gc.eos_ids.begin(), gc.eos_ids.end(), next) != gc.eos_ids.end()) break;
          if (i + 1 < max_new) m.forward(&next, 1, dec, logits.data(), 1);
        }
        t_dec += now() - t0;
        c_dec += cpu_now() - c0;
      }
    }

    const double score_eps = n_examples / t_score, gen_eps = ng / t_gen, dec_eps = ng / t_dec;
    std::printf("| metric | value |\n|---|---|\n");
    std::printf("| threads | %d |\n| OpenBLAS kernels | %s |\n", threads,
                openblas_kernels_summary().c_str());
    std::printf("| shared prefix (tokens), system prompt style | %lld, %s |\n", static_cast<long long>(P),
                system_style.c_str());
    std::printf("| examples, mean prompt tokens | %d, %.1f |\n", n_examples,
                static_cast<double>(prompt_tokens) / n_examples);
    std::printf("| candidates per example | %zu |\n", cands.size());
    std::printf("| examples per tree forward | %d |\n", batch);
    std::printf("| tree tokens per forward, logit rows | %.1f, %.1f |\n",
                static_cast<double>(tokens) * batch / n_examples,
                static_cast<double>(logit_rows) * batch / n_examples);
    std::printf("| tree scoring (examples/s) | %.2f |\n", score_eps);
    std::printf("| tree scoring (tokens/s) | %.1f |\n", tokens / t_score);
    std::printf("| tree scoring GFLOP/s (GEMMs + LM head + attention) | %.1f |\n", flops / t_score / 1e9);
    std::printf("| top candidate = intended tool | %d / %d |\n", correct, n_examples);
    std::printf("| generate(), full prompt, %d examples (examples/s) | %.2f (%.1f new tokens each) |\n",
                ng, gen_eps, static_cast<double>(gen_tokens) / ng);
    std::printf("| generate(): prefill (tokens/s), decode (ms/token) | %.1f, %.2f |\n",
                gen_prompt_tokens / gen_prompt_s, 1e3 * gen_decode_s / gen_tokens);
    std::printf("| cached prefix + greedy decode (examples/s) | %.2f |\n", dec_eps);
    std::printf("| speed-up vs generate() | %.1fx |\n", score_eps / gen_eps);
    std::printf("| speed-up vs cached-prefix decode | %.1fx |\n", score_eps / dec_eps);
    if (threads == 1) {
      std::printf("| CPU ms per example: tree, generate(), cached-prefix decode | %.1f, %.1f, %.1f |\n",
                  1e3 * c_score / n_examples, 1e3 * c_gen / ng, 1e3 * c_dec / ng);
      std::printf("| speed-up in CPU time vs generate(), vs cached-prefix decode | %.1fx, %.1fx |\n",
                  (c_gen / ng) / (c_score / n_examples), (c_dec / ng) / (c_score / n_examples));
    }
  } catch (const Error& e) {
    std::fprintf(stderr, "bench_tree_forward: error: %s\n", e.what());
    return 1;
  }
  return 0;
}
