// Reading one conversation ({"messages": [...], "tools": [...]}) from a JSON or JSONL file for the
// CLI commands that take --conversation FILE [--line N].
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

namespace tsft {

// line = 0: the file is one JSON object; line >= 1: that line of a JSONL file. Errors name the
// file and line.
nlohmann::ordered_json read_conversation(const std::string& path, int64_t line);

}  // namespace tsft
