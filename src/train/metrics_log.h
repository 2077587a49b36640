// <output_dir>/metrics.jsonl: one JSON object per line (train and eval records), appended and
// flushed line by line so a crash loses at most the line being written.
#pragma once

#include <cstdint>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>

namespace tsft {

class MetricsLog {
 public:
  // Opens <output_dir>/metrics.jsonl for appending (a resumed run continues the file); creates
  // output_dir if needed. tsft::Error when it cannot.
  explicit MetricsLog(const std::string& output_dir);
  ~MetricsLog();
  MetricsLog(const MetricsLog&) = delete;
  MetricsLog& operator=(const MetricsLog&) = delete;

  // Appends `record` as one line and flushes it.
  void log(const nlohmann::json& record);
  const std::string& path() const { return path_; }

  // For resume: rewrites the file at `path` keeping only the lines whose "step" is <= step
  // (lines without a "step" are kept; unparsable lines, e.g. half-written by a crash, dropped).
  // Atomic: written to a temporary file and renamed over. A missing file is left missing.
  static void truncate_after_step(const std::string& path, int64_t step);

 private:
  std::string path_;
  std::FILE* file_ = nullptr;
};

}  // namespace tsft
