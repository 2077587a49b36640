// The subcommands of the toolsft binary; each lives in its own cmd_*.cpp.
#pragma once

namespace tsft {

int cmd_data(int argc, char** argv);  // argv[0] is the subcommand name
int cmd_eval(int argc, char** argv);
int cmd_export(int argc, char** argv);
int cmd_gen(int argc, char** argv);
int cmd_generate(int argc, char** argv);
int cmd_inspect(int argc, char** argv);
int cmd_merge(int argc, char** argv);
int cmd_tokenize(int argc, char** argv);
int cmd_render(int argc, char** argv);
int cmd_serve(int argc, char** argv);
int cmd_train(int argc, char** argv);

// The default model file, fetched by scripts/setup.sh.
inline constexpr const char* kDefaultModel = "models/SmolLM2-135M-Instruct.Q4_1.gguf";

}  // namespace tsft
