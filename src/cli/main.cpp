// The toolsft binary: dispatches to subcommands, and turns user errors into one-line messages
// with a non-zero exit (never a crash).
#include <cstdio>
#include <cstring>
#include <string>

#include "backend/cpu/blas_core.h"
#include "cli/commands.h"
#include "core/error.h"

namespace {

void print_usage() {
  std::printf(
      "toolsft: fine-tune, evaluate and serve small tool-calling language models\n\n"
      "usage: toolsft <command> [options]   (toolsft <command> --help for its options)\n\n"
      "commands:\n"
      "  data       check a dataset: validation, layouts, tools, token lengths\n"
      "  eval       evaluate models on a dataset: tool selection, tool calling, perplexity\n"
      "  export     write a model as one GGUF file for llama.cpp / Ollama\n"
      "  gen        write synthetic tool-selection or tool-calling training data (JSONL)\n"
      "  generate   generate text from a prompt with a GGUF file or Hugging Face directory\n"
      "  inspect    show a model file's architecture, sizes, tensor types and tokenizer\n"
      "  merge      merge a LoRA adapter into its base model, write a Hugging Face directory\n"
      "  tokenize   show the token ids and pieces of a text\n"
      "  render     show a conversation as the model sees it, and what the assistant wrote\n"
      "  serve      serve a model (and LoRA adapters) with OpenAI's HTTP API\n"
      "  train      fine-tune a model (full or LoRA) from a YAML config\n");
}

}  // namespace

int main(int argc, char** argv) {
  tsft::restart_with_better_openblas_core(argv);
  if (argc < 2 || std::strcmp(argv[1], "--help") == 0 || std::strcmp(argv[1], "-h") == 0 ||
      std::strcmp(argv[1], "help") == 0) {
    print_usage();
    return argc < 2 ? 2 : 0;
  }
  const std::string cmd = argv[1];
  try {
    if (cmd == "data") return tsft::cmd_data(argc - 1, argv + 1);
    if (cmd == "eval") return tsft::cmd_eval(argc - 1, argv + 1);
    if (cmd == "export") return tsft::cmd_export(argc - 1, argv + 1);
    if (cmd == "gen") return tsft::cmd_gen(argc - 1, argv + 1);
    if (cmd == "generate") return tsft::cmd_generate(argc - 1, argv + 1);
    if (cmd == "inspect") return tsft::cmd_inspect(argc - 1, argv + 1);
    if (cmd == "merge") return tsft::cmd_merge(argc - 1, argv + 1);
    if (cmd == "tokenize") return tsft::cmd_tokenize(argc - 1, argv + 1);
    if (cmd == "render") return tsft::cmd_render(argc - 1, argv + 1);
    if (cmd == "serve") return tsft::cmd_serve(argc - 1, argv + 1);
    if (cmd == "train") return tsft::cmd_train(argc - 1, argv + 1);
    std::fprintf(stderr, "toolsft: unknown command '%s' (try toolsft --help)\n", cmd.c_str());
    return 2;
  } catch (const tsft::Error& e) {
    std::fprintf(stderr, "toolsft %s: error: %s\n", cmd.c_str(), e.what());
    return 1;
  } catch (const std::bad_alloc&) {
    std::fprintf(stderr, "toolsft %s: error: out of memory\n", cmd.c_str());
    return 1;
  } catch (const std::exception& e) {  // a bug, not a user error: say so instead of aborting
    std::fprintf(stderr, "toolsft %s: internal error (please report it): %s\n", cmd.c_str(),
                 e.what());
    return 3;
  }
}
