// toolsft merge: fold a PEFT LoRA adapter into its base model and write the result as a
// Hugging Face directory (float32) that transformers, llama.cpp's converter and toolsft load.
#include <cstdio>
#include <filesystem>

#include "cli/args.h"
#include "cli/commands.h"
#include "cli/model_files.h"
#include "core/error.h"
#include "export/hf_export.h"
#include "export/merge.h"
#include "io/peft_adapter.h"
#include "io/model_loader.h"

namespace tsft {

int cmd_merge(int argc, char** argv) {
  static const std::vector<OptionSpec> kSpecs = {
      {"model", "PATH", "base model: GGUF file or Hugging Face directory", kDefaultModel},
      {"adapter", "DIR",
       "PEFT LoRA adapter directory (adapter_config.json + "
       "adapter_model.safetensors)",
       ""},
      {"output", "DIR", "where to write the merged Hugging Face model directory", ""},
      {"help", "", "show this help", ""},
  };
  Args args(kSpecs, argc, argv, 1);
  if (args.flag("help") || !args.given("adapter") || !args.given("output")) {
    std::fputs(format_help("toolsft merge --model BASE --adapter DIR --output OUTDIR",
                           "Merges a LoRA adapter into its base model (W += alpha/r * B A) and "
                           "writes a float32 Hugging Face model directory with the tokenizer.",
                           kSpecs)
                   .c_str(),
               stdout);
    return args.flag("help") ? 0 : 2;
  }
  const std::string adapter = args.str("adapter"), output = args.str("output");
  if (!std::filesystem::is_directory(adapter)) fail(adapter, ": no such adapter directory");
  const LoadedModel base = load_model(resolve_model_path(args.str("model")));
  const ModelConfig& cfg = base.model->config();
  // Read the adapter before copying the weights, so a mismatch fails fast and cheaply.
  const LoraWeights lora = read_peft_adapter(adapter, cfg);
  const ModelWeights merged = merged_weights(cfg, base.model->weights(), lora);
  write_hf_model(output, cfg, merged, base.tokenizer.get(), &base.gen_defaults);
  std::printf("merged %s (r=%lld, alpha=%g, %zu modules) into %s -> %s%s\n", adapter.c_str(),
              static_cast<long long>(lora.config.rank), lora.config.alpha,
              lora.config.target_modules.size(), args.str("model").c_str(), output.c_str(),
              base.tokenizer ? "" : " (the base has no tokenizer: none written)");
  return 0;
}

}  // namespace tsft
