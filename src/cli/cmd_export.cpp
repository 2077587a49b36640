// toolsft export gguf: write a model (a LoRA adapter merged in when given) as one GGUF file that
// llama.cpp and Ollama run, with the tokenizer and chat template of the source.
#include <cstdio>
#include <filesystem>

#include "cli/args.h"
#include "cli/commands.h"
#include "cli/model_files.h"
#include "core/error.h"
#include "export/gguf_export.h"
#include "export/merge.h"
#include "io/model_loader.h"
#include "io/peft_adapter.h"

namespace tsft {
namespace {

int export_gguf(int argc, char** argv) {
  static const std::vector<OptionSpec> kSpecs = {
      {"model", "PATH", "model: GGUF file or Hugging Face directory", kDefaultModel},
      {"lora", "DIR", "PEFT LoRA adapter directory to merge in before writing", ""},
      {"type", "TYPE", "storage type of the matrices: f32, f16, bf16 or q8_0 (norms stay f32)",
       "f16"},
      {"out", "FILE", "the .gguf file to write (replaced atomically)", ""},
      {"help", "", "show this help", ""},
  };
  Args args(kSpecs, argc, argv, 1);
  if (args.flag("help") || !args.given("out")) {
    std::fputs(format_help("toolsft export gguf --model PATH [--lora DIR] --type TYPE --out FILE",
                           "Writes a GGUF file for llama.cpp / Ollama: llama.cpp's tensor names "
                           "and hyperparameters, the tokenizer (added tokens, bos/eos) and the "
                           "chat template.",
                           kSpecs)
                   .c_str(),
               args.flag("help") ? stdout : stderr);
    if (!args.flag("help")) std::fputs("toolsft export gguf: --out is required\n", stderr);
    return args.flag("help") ? 0 : 2;
  }
  // Check the cheap things before loading a model.
  const GgufType type = parse_gguf_type(args.str("type"), "--type");
  const std::string out = args.str("out");
  const std::filesystem::path parent = std::filesystem::absolute(out).parent_path();
  if (!std::filesystem::is_directory(parent))
    fail(out, ": directory ", parent.string(), " does not exist");
  const std::string lora_dir = args.str("lora");
  if (!lora_dir.empty() && !std::filesystem::is_directory(lora_dir))
    fail(lora_dir, ": no such adapter directory");

  const LoadedModel m = load_model(resolve_model_path(args.str("model")));
  const ModelConfig& cfg = m.model->config();
  if (lora_dir.empty()) {
    write_gguf_model(out, cfg, m.model->weights(), m.tokenizer.get(), &m.gen_defaults, type);
  } else {
    const LoraWeights lora = read_peft_adapter(lora_dir, cfg);
    const ModelWeights merged = merged_weights(cfg, m.model->weights(), lora);
    write_gguf_model(out, cfg, merged, m.tokenizer.get(), &m.gen_defaults, type);
  }
  std::printf("wrote %s (%s, %s, %lld layers%s%s)\n", out.c_str(), gguf_type_name(type),
              std::string(arch_spec(cfg.arch).name).c_str(), static_cast<long long>(cfg.n_layers),
              lora_dir.empty() ? "" : ", LoRA merged",
              m.tokenizer ? "" : "; the source has no tokenizer: none written");
  return 0;
}

}  // namespace

int cmd_export(int argc, char** argv) {
  if (argc < 2 || std::string(argv[1]) == "--help" || std::string(argv[1]) == "-h") {
    std::fputs(
        "usage: toolsft export gguf [options]   (toolsft export gguf --help)\n\n"
        "targets:\n  gguf   one GGUF file for llama.cpp / Ollama\n",
        argc < 2 ? stderr : stdout);
    return argc < 2 ? 2 : 0;
  }
  const std::string target = argv[1];
  if (target == "gguf") return export_gguf(argc - 1, argv + 1);
  fail("toolsft export: unknown target '", target, "' (known: gguf)");
}

}  // namespace tsft
