#include "cli/conversation_file.h"

#include <fstream>

#include "core/error.h"

namespace tsft {

using nlohmann::ordered_json;

ordered_json read_conversation(const std::string& path, int64_t line) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(path, ": cannot open");
  const std::string all((std::istreambuf_iterator<char>(in)), {});
  std::string text = all;
  if (line > 0) {
    size_t at = 0;
    for (int64_t l = 1; l < line; ++l) {
      at = all.find('\n', at);
      if (at == std::string::npos) fail(path, ": has fewer than ", line, " lines");
      ++at;
    }
    text = all.substr(at, all.find('\n', at) - at);
  }
  ordered_json j;
  try {
    j = ordered_json::parse(text);
  } catch (const ordered_json::exception& e) {  // parse_error, or out_of_range (1e309)
    fail(path, line > 0 ? ":" + std::to_string(line) : "", ": invalid JSON: ", e.what());
  }
  if (!j.is_object() || !j.contains("messages") || !j["messages"].is_array())
    fail(path, line > 0 ? ":" + std::to_string(line) : "",
         ": expected an object with a \"messages\" list (and optional \"tools\")");
  return j;
}

}  // namespace tsft
