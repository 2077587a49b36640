// toolsft inspect: what a model file is, without loading its weights.
#include <cstdio>
#include <filesystem>
#include <map>

#include "chat/chat_format.h"
#include "cli/args.h"
#include "cli/commands.h"
#include "core/error.h"
#include "io/gguf.h"
#include "io/model_loader.h"
#include "io/safetensors.h"
#include "tokenizer/tokenizer.h"

namespace tsft {
namespace {

void print_config(const ModelConfig& c) {
  static const char* kRope[] = {"default", "llama3", "linear", "per-frequency factors"};
  std::printf("architecture:     %s\n", std::string(arch_spec(c.arch).name).c_str());
  std::printf("parameters:       %.1f M\n", c.num_params() / 1e6);
  std::printf("layers:           %lld\n", static_cast<long long>(c.n_layers));
  std::printf("hidden size:      %lld\n", static_cast<long long>(c.hidden));
  std::printf("attention heads:  %lld query, %lld key/value (head dim %lld)\n",
              static_cast<long long>(c.n_heads), static_cast<long long>(c.n_kv_heads),
              static_cast<long long>(c.head_dim));
  std::printf("MLP size:         %lld (SwiGLU)\n", static_cast<long long>(c.intermediate));
  std::printf("vocabulary:       %lld\n", static_cast<long long>(c.vocab));
  std::printf("context:          %lld\n", static_cast<long long>(c.max_positions));
  std::printf("RoPE:             theta %g, scaling %s\n", c.rope_theta,
              kRope[static_cast<int>(c.rope_scaling.type)]);
  std::printf("RMSNorm eps:      %g\n", c.rms_eps);
  std::printf("tied embeddings:  %s\n", c.tie_embeddings ? "yes" : "no");
  std::printf("q/k/v bias:       %s; q/k norm: %s\n", c.qkv_bias ? "yes" : "no",
              c.qk_norm ? "yes" : "no");
}

void print_tokenizer(const Tokenizer& t) {
  auto name = [&](int32_t id) {
    return id < 0 ? std::string("none") : std::to_string(id) + " " + t.token_bytes(id);
  };
  std::printf("tokenizer:        byte-level BPE, %d tokens\n", t.vocab_size());
  std::printf("  bos: %s | eos: %s | pad: %s | adds bos: %s\n", name(t.bos_id()).c_str(),
              name(t.eos_id()).c_str(), name(t.pad_id()).c_str(), t.add_bos() ? "yes" : "no");
  const std::string& tpl = t.chat_template();
  if (tpl.empty()) {
    std::printf("chat template:    none\n");
    return;
  }
  // The same probe rendering uses (a tool offered and looked for), not a guess from the text.
  std::string tools;
  try {
    tools = ChatFormat::from_tokenizer(t, "model").template_handles_tools()
                ? "renders them"
                : "ignores them (toolsft injects its tool prompt)";
  } catch (const Error& e) {
    tools = std::string("cannot tell: ") + e.what();
  }
  std::printf("chat template:    %zu characters; tools: %s\n", tpl.size(), tools.c_str());
}

}  // namespace

int cmd_inspect(int argc, char** argv) {
  static const std::vector<OptionSpec> kSpecs = {
      {"tensors", "", "list every tensor with its type and shape", ""},
      {"help", "", "show this help", ""},
  };
  Args args(kSpecs, argc, argv, 1, 1);
  if (args.flag("help") || args.positionals().empty()) {
    std::fputs(format_help("toolsft inspect PATH [--tensors]",
                           "Shows a GGUF file's or Hugging Face directory's architecture, sizes, "
                           "tensor types, tokenizer and chat template.",
                           kSpecs)
                   .c_str(),
               stdout);
    return args.flag("help") ? 0 : 2;
  }
  const std::string path = args.positionals()[0];
  if (!std::filesystem::exists(path)) fail(path, ": no such file or directory");
  if (std::filesystem::is_directory(path)) {
    // Parse everything before printing, so a bad file gives only the error line.
    const ModelConfig cfg = config_from_hf_dir(path);
    SafetensorsModel st(path);
    std::printf("file:             %s\n", path.c_str());
    std::printf("format:           Hugging Face directory\n");
    print_config(cfg);
    std::map<std::string, int> types;
    for (const auto& n : st.names()) ++types[std::string(dtype_name(st.find(n)->dtype))];
    std::printf("tensors:          %zu (", st.names().size());
    for (auto it = types.begin(); it != types.end(); ++it)
      std::printf("%s%s %d", it == types.begin() ? "" : ", ", it->first.c_str(), it->second);
    std::printf(")\n");
    if (args.flag("tensors"))
      for (const auto& n : st.names()) {
        const auto* t = st.find(n);
        std::printf("  %-50s %-5s %s\n", n.c_str(), std::string(dtype_name(t->dtype)).c_str(),
                    t->view().shape.to_string().c_str());
      }
    const auto tok = std::filesystem::path(path) / "tokenizer.json";
    if (std::filesystem::exists(tok)) print_tokenizer(Tokenizer::from_json_file(tok.string()));
    else std::printf("tokenizer:        none (no tokenizer.json)\n");
    return 0;
  }
  GgufFile g(path);
  const ModelConfig cfg = config_from_gguf(g);
  std::printf("file:             %s\n", path.c_str());
  std::printf("format:           GGUF v%u, %zu metadata keys, %zu tensors\n", g.version(),
              g.keys().size(), g.tensors().size());
  std::printf("name:             %s\n", g.get_string_or("general.name", "(none)").c_str());
  print_config(cfg);
  std::map<std::string, int> types;
  size_t bytes = 0;
  for (const auto& t : g.tensors()) {
    ++types[std::string(dtype_name(t.dtype))];
    bytes += t.nbytes;
  }
  std::printf("tensor types:     ");
  for (auto it = types.begin(); it != types.end(); ++it)
    std::printf("%s%s %d", it == types.begin() ? "" : ", ", it->first.c_str(), it->second);
  std::printf(" (%.1f MiB of tensor data)\n", bytes / 1048576.0);
  if (args.flag("tensors"))
    for (const auto& t : g.tensors())
      std::printf("  %-32s %-5s %s\n", t.name.c_str(), std::string(dtype_name(t.dtype)).c_str(),
                  t.view().shape.to_string().c_str());
  if (g.has("tokenizer.ggml.tokens")) print_tokenizer(Tokenizer::from_gguf(g));
  else std::printf("tokenizer:        none\n");
  return 0;
}

}  // namespace tsft
