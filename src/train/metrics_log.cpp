// MetricsLog: append-only JSONL with line-level flushing, and its resume-time truncation.
#include "train/metrics_log.h"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "core/error.h"

namespace tsft {

namespace fs = std::filesystem;

MetricsLog::MetricsLog(const std::string& output_dir)
    : path_((fs::path(output_dir) / "metrics.jsonl").string()) {
  std::error_code ec;
  fs::create_directories(output_dir, ec);
  if (ec) fail("cannot create output directory '", output_dir, "': ", ec.message());
  file_ = std::fopen(path_.c_str(), "a");
  if (!file_) fail("cannot open '", path_, "' for appending: ", std::strerror(errno));
}

MetricsLog::~MetricsLog() {
  if (file_) std::fclose(file_);
}

void MetricsLog::log(const nlohmann::json& record) {
  const std::string line = record.dump() + "\n";
  if (std::fwrite(line.data(), 1, line.size(), file_) != line.size() || std::fflush(file_) != 0)
    fail("cannot write to '", path_, "': ", std::strerror(errno));
}

void MetricsLog::truncate_after_step(const std::string& path, int64_t step) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    if (!fs::exists(path)) return;
    fail("cannot read '", path, "'");
  }
  std::string kept;
  for (std::string line; std::getline(in, line);) {
    if (line.empty()) continue;
    const nlohmann::json j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded() || !j.is_object()) continue;
    const auto it = j.find("step");
    if (it != j.end() && it->is_number() && it->get<double>() > static_cast<double>(step)) continue;
    kept += line + "\n";
  }
  in.close();
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << kept;
    out.flush();
    if (!out) fail("cannot write '", tmp, "'");
  }
  std::error_code ec;
  fs::rename(tmp, path, ec);
  if (ec) fail("cannot replace '", path, "': ", ec.message());
}

}  // namespace tsft
