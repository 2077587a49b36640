// Helpers shared by the tests: temporary files, the message of an expected tsft::Error, and
// running the toolsft binary with its exit code and output.
#pragma once

#include <sys/wait.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>

#include "chat/chat_format.h"
#include "core/error.h"
#include "tokenizer/tokenizer.h"

namespace tsft::testing {

inline std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// Writes `text` to a file named `name` in the temporary directory; returns its path.
inline std::string write_temp(const std::string& name, const std::string& text) {
  const std::string path = (std::filesystem::temp_directory_path() / name).string();
  std::ofstream(path, std::ios::binary) << text;
  return path;
}

// The message of the tsft::Error that f throws, or "(no error)".
inline std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

struct CliResult {
  int exit_code;
  std::string out;  // stdout and stderr together
};

// Runs `binary args` through the shell.
inline CliResult run_binary(const std::string& binary, const std::string& args) {
  const std::string cmd = binary + " " + args + " 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  std::string out;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  const int status = pclose(p);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status), out};
}

// The SmolLM2 tokenizer (tests/data/smollm2) and its chat format, loaded once.
inline const Tokenizer& smollm2_tokenizer() {
  static const Tokenizer t =
      Tokenizer::from_json_file(std::string(TSFT_TEST_DATA_DIR) + "/smollm2/tokenizer.json");
  return t;
}
inline const ChatFormat& smollm2_chat_format() {
  static const ChatFormat f = ChatFormat::from_tokenizer(smollm2_tokenizer(), "smollm2");
  return f;
}

}  // namespace tsft::testing
