// Helpers shared by the tests: temporary files and directories, JSON files, the message of an
// expected tsft::Error, running the toolsft binary with its exit code and output, random
// vectors and their largest difference, the default model's path and the SmolLM2 tokenizer
// fixtures.
#pragma once

#include <gtest/gtest.h>
#include <sys/wait.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <vector>

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

// An empty directory tsft_<name> in the temporary directory (emptied if it exists); its path.
inline std::string fresh_temp_dir(const std::string& name) {
  const std::filesystem::path d = std::filesystem::temp_directory_path() / ("tsft_" + name);
  std::filesystem::remove_all(d);
  std::filesystem::create_directories(d);
  return d.string();
}

inline nlohmann::json read_json(const std::string& path) {
  std::ifstream in(path);
  return nlohmann::json::parse(in);
}

// One JSON value per non-empty line.
inline std::vector<nlohmann::json> read_jsonl(const std::string& path) {
  std::vector<nlohmann::json> rows;
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) rows.push_back(nlohmann::json::parse(line));
  return rows;
}

// n draws of N(0, scale^2) from a seeded generator.
inline std::vector<float> randn(size_t n, uint32_t seed, float scale = 1.0f) {
  std::mt19937 gen(seed);
  std::normal_distribution<float> d(0.0f, scale);
  std::vector<float> v(n);
  for (auto& x : v) x = d(gen);
  return v;
}

// n token ids drawn uniformly from [0, V) by a seeded generator.
inline std::vector<int32_t> rand_ids(size_t n, int32_t V, uint32_t seed) {
  std::mt19937 gen(seed);
  std::uniform_int_distribution<int32_t> d(0, V - 1);
  std::vector<int32_t> v(n);
  for (auto& x : v) x = d(gen);
  return v;
}

// Largest difference relative to the largest magnitude of the reference b (floored at 0.1, so
// that a gradient that is zero in exact arithmetic, e.g. dq of a one-token sequence, compares
// against rounding noise absolutely). A NaN anywhere is an infinite difference.
inline double rel_diff(const std::vector<float>& a, const std::vector<float>& b) {
  EXPECT_EQ(a.size(), b.size());
  double diff = 0.0, mag = 0.1;
  for (size_t i = 0; i < std::min(a.size(), b.size()); ++i) {
    const double d = std::fabs(static_cast<double>(a[i]) - b[i]);
    diff = std::isnan(d) ? INFINITY : std::max(diff, d);
    mag = std::max(mag, std::fabs(static_cast<double>(b[i])));
  }
  return diff / mag;
}

// Same size and the same bits (so -0 differs from 0, and equal NaNs match).
inline bool bitwise_equal(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

inline float max_abs_diff(const std::vector<float>& a, const std::vector<float>& b) {
  EXPECT_EQ(a.size(), b.size());
  float m = 0.0f;
  for (size_t i = 0; i < std::min(a.size(), b.size()); ++i) m = std::max(m, std::fabs(a[i] - b[i]));
  return m;
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

// The project's default real model, SmolLM2-135M-Instruct Q4_1 (models/, fetched by
// scripts/setup.sh). Tests that need it skip, saying so, when it is missing.
inline std::string default_model_path() {
  return std::string(TSFT_MODELS_DIR) + "/SmolLM2-135M-Instruct.Q4_1.gguf";
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
