#include "io/file_write.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "core/error.h"
#include "core/fs_util.h"

namespace tsft {
namespace fs = std::filesystem;

void write_text_file(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) fail(path, ": cannot create file: ", std::strerror(errno));
  out.write(text.data(), static_cast<std::streamsize>(text.size()));
  out.close();
  if (!out) fail(path, ": write failed (disk full?)");
}

StagedDir::StagedDir(const std::string& final_dir) : final_(final_dir) {
  if (final_dir.empty()) fail("output directory is empty");
  fs::path f = fs::path(final_dir);
  if (!f.has_filename()) f = f.parent_path();  // "out/" -> "out"
  final_ = f.string();
  std::error_code ec;
  if (fs::exists(f, ec) && !fs::is_directory(f, ec))
    fail(final_, ": exists and is not a directory");
  const fs::path parent = f.has_parent_path() ? f.parent_path() : fs::path(".");
  fs::create_directories(parent, ec);
  if (ec)
    fail(final_, ": cannot create the parent directory ", parent.string(), ": ", ec.message());
  tmp_ = final_ + ".tmp-" + std::to_string(::getpid());
  fs::remove_all(tmp_, ec);
  fs::create_directory(tmp_, ec);
  if (ec) fail(final_, ": cannot create the directory ", tmp_, ": ", ec.message());
}

StagedDir::~StagedDir() {
  if (committed_) return;
  std::error_code ec;
  fs::remove_all(tmp_, ec);  // best effort; we may be unwinding from an error already
}

std::string StagedDir::file(const std::string& name) const {
  return (fs::path(tmp_) / name).string();
}

void StagedDir::commit() {
  TSFT_CHECK(!committed_);
  // The files' data first, then the directory entries, so the rename publishes complete files.
  for (const auto& e : fs::directory_iterator(tmp_))
    if (e.is_regular_file()) fsync_file(e.path().string());
  fsync_dir(tmp_);
  atomic_rename_dir(tmp_, final_);
  committed_ = true;
}

}  // namespace tsft
