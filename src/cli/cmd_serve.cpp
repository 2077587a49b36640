// toolsft serve: an OpenAI-compatible HTTP server over one base model and its LoRA adapters, with
// continuous batching (src/serve/).
#include <cstdio>
#include <cstdlib>
#include <filesystem>

#include "backend/cpu/blas_core.h"
#include "backend/cpu/matmul_int.h"
#include "cli/args.h"
#include "cli/compute_options.h"
#include "cli/commands.h"
#include "cli/model_files.h"
#include "core/error.h"
#include "core/threads.h"
#include "io/model_loader.h"
#include "io/peft_adapter.h"
#include "serve/http_server.h"
#include "serve/openai_server.h"

namespace tsft {

int cmd_serve(int argc, char** argv) {
  static const std::vector<OptionSpec> kSpecs = {
      {"model", "PATH", "base model: GGUF file or Hugging Face directory", kDefaultModel},
      {"lora", "NAME=DIR",
       "a PEFT LoRA adapter served as model NAME over the same base (repeatable)", ""},
      {"served-model-name", "NAME", "the base model's id (default: the file or directory name)", ""},
      {"host", "ADDR", "address to listen on", "127.0.0.1"},
      {"port", "N", "port to listen on (0 = any free port, printed)", "8000"},
      {"api-key", "KEY", "require Authorization: Bearer KEY (default: $TSFT_API_KEY if set)", ""},
      {"max-concurrency", "N", "requests decoded together (continuous batching)", "16"},
      {"max-queue", "N", "requests waiting beyond the running ones before 429", "64"},
      {"ctx", "N", "longest prompt + completion per request (0 = the model's context)", "0"},
      {"kv-budget", "N", "cache positions reserved across running requests (0 = 16 x ctx, at most 65536)", "0"},
      {"prefix-cache-mb", "N",
       "memory for the keys and values of past prompts, reused by requests that start the same "
       "way (system prompt, tools); 0 = keep none (running requests still share)",
       "128"},
      {"max-tokens-limit", "N", "the largest max_tokens a request may ask for", "4096"},
      {"max-body-bytes", "N", "largest request body accepted", "4194304"},
      {"max-connections", "N", "open connections beyond which new ones get 503", "256"},
      {"constrained-decoding", "on|off",
       "schema-constrained tool calls: a chat request's reply is text or calls that validate "
       "against its tools, tool_choice required/named enforced by the grammar; off: calls are "
       "parsed from free text",
       "on"},
      {"call-gate", "T",
       "the call gate: a chat request with tools (tool_choice auto) whose reply opens a call "
       "with probability below T in [0, 1] is answered in text; choose T on held-out data "
       "(toolsft eval --task tool-calling --gate-precision P)",
       ""},
      {"threads", "N", "compute threads; 0 = all cores", "0"},
      activations_option(),
      {"help", "", "show this help", ""},
  };
  Args args(kSpecs, argc, argv, 1);
  if (args.flag("help")) {
    std::fputs(format_help("toolsft serve [--model PATH] [--lora NAME=DIR ...] [--port N]",
                           "Serves the model with OpenAI's API: POST /v1/chat/completions (tools, "
                           "tool_choice, streaming), POST /v1/completions, GET /v1/models, "
                           "GET /health, GET /metrics (Prometheus). A request's \"model\" picks "
                           "the base model or an adapter.",
                           kSpecs)
                   .c_str(),
               stdout);
    return 0;
  }
  const std::string constrained = args.str("constrained-decoding");
  if (constrained != "on" && constrained != "off")
    fail("--constrained-decoding: expected on or off, got '", constrained, "'");
  set_num_threads(static_cast<int>(args.integer("threads")));
  apply_activations_option(args);
  const std::string path = resolve_model_path(args.str("model"));
  if (!std::filesystem::exists(path))
    fail(path, ": model not found",
         args.str("model") == kDefaultModel ? " (run scripts/setup.sh to fetch it)" : "");
  LoadedModel m = load_model(path);

  std::vector<std::pair<std::string, LoraWeights>> adapters;
  for (const std::string& spec : args.all("lora")) {
    const size_t eq = spec.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == spec.size())
      fail("--lora ", spec, ": expected NAME=DIR");
    const std::string name = spec.substr(0, eq), dir = spec.substr(eq + 1);
    if (!std::filesystem::is_directory(dir)) fail("--lora ", spec, ": ", dir, " is not a directory");
    adapters.emplace_back(name, read_peft_adapter(dir, m.model->config()));
  }

  serve::ServerConfig cfg;
  cfg.model_name = args.str("served-model-name");
  if (cfg.model_name.empty())
    cfg.model_name = std::filesystem::path(path).filename().string();
  cfg.api_key = args.str("api-key");
  if (cfg.api_key.empty())
    if (const char* k = std::getenv("TSFT_API_KEY")) cfg.api_key = k;
  cfg.context = args.integer("ctx");
  cfg.max_tokens_limit = args.integer("max-tokens-limit");
  cfg.engine.max_batch = args.integer("max-concurrency");
  cfg.engine.max_queue = args.integer("max-queue");
  cfg.engine.threads = static_cast<int>(args.integer("threads"));
  if (cfg.context < 0) fail("--ctx must be >= 0");
  cfg.engine.kv_budget_tokens = args.integer("kv-budget");
  if (cfg.engine.kv_budget_tokens < 0) fail("--kv-budget must be >= 0");
  const int64_t prefix_mb = args.integer("prefix-cache-mb");
  if (prefix_mb < 0 || prefix_mb > (int64_t{1} << 30))
    fail("--prefix-cache-mb: expected 0 to 1073741824 (MB), got ", prefix_mb);
  cfg.engine.prefix_cache_bytes = prefix_mb << 20;
  cfg.constrained_decoding = constrained == "on";
  if (args.given("call-gate")) {
    cfg.call_gate = args.number("call-gate");
    if (!(*cfg.call_gate >= 0 && *cfg.call_gate <= 1))
      fail("--call-gate: expected a probability in [0, 1], got ", args.str("call-gate"));
  }

  http::ServerOptions hopt;
  hopt.host = args.str("host");
  hopt.port = static_cast<int>(args.integer("port"));
  hopt.max_connections = static_cast<int>(args.integer("max-connections"));
  hopt.limits.max_body_bytes = static_cast<size_t>(args.integer("max-body-bytes"));
  if (hopt.port < 0 || hopt.port > 65535) fail("--port must be in 0..65535");

  const size_t n_adapters = adapters.size();
  serve::OpenAiServer app(std::move(m), std::move(adapters), cfg);
  http::HttpServer server(hopt, [&app](const http::Request& req, http::Responder& res) {
    app.handle(req, res);
  });
  server.start();
  std::printf("toolsft serve: %s%s on http://%s:%d (ctx %lld, %lld concurrent, KV budget %lld "
              "positions, prefix cache %lld MB, constrained decoding %s%s%s, activations %s, "
              "OpenBLAS kernels %s)\n",
              app.config().model_name.c_str(),
              n_adapters ? (" + " + std::to_string(n_adapters) + " adapter(s)").c_str() : "",
              hopt.host.c_str(), server.port(), static_cast<long long>(app.config().context),
              static_cast<long long>(cfg.engine.max_batch),
              static_cast<long long>(app.config().engine.kv_budget_tokens),
              static_cast<long long>(prefix_mb),
              app.constrained_decoding_summary().c_str(),
              cfg.call_gate ? (", call gate " + args.str("call-gate")).c_str() : "",
              cfg.api_key.empty() ? "" : ", API key required", activations_summary().c_str(),
              openblas_core().c_str());
  std::fflush(stdout);
  server.run_until_signal();
  std::printf("toolsft serve: stopped\n");
  return 0;
}

}  // namespace tsft
