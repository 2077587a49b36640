#include "cli/model_files.h"

#include <filesystem>

#include "cli/commands.h"
#include "core/error.h"
#include "io/gguf.h"

namespace tsft {

Tokenizer load_tokenizer(const std::string& path) {
  if (!std::filesystem::exists(path)) fail(path, ": no such file or directory");
  if (std::filesystem::is_directory(path)) {
    const auto tj = std::filesystem::path(path) / "tokenizer.json";
    if (!std::filesystem::exists(tj)) fail(path, ": no tokenizer.json in this directory");
    return Tokenizer::from_json_file(tj.string());
  }
  if (path.size() >= 5 && path.compare(path.size() - 5, 5, ".json") == 0)
    return Tokenizer::from_json_file(path);
  GgufFile g(path);
  return Tokenizer::from_gguf(g);
}

std::string resolve_model_path(const std::string& path) {
  namespace fs = std::filesystem;
  if (path != kDefaultModel || fs::exists(path)) return path;
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (ec) return path;
  // build/toolsft -> <repo>/models/...; also build/sub/toolsft.
  for (fs::path dir = exe.parent_path(); !dir.empty() && dir != dir.root_path(); dir = dir.parent_path())
    if (fs::exists(dir / path)) return (dir / path).string();
  return path;
}

}  // namespace tsft
