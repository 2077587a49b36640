#include "core/fs_util.h"

#include <fcntl.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "core/error.h"

namespace fs = std::filesystem;

namespace tsft {
namespace {

std::string errno_text(int e) {
  return std::strerror(e);
}

std::string mib(uint64_t bytes) {
  return str((bytes + (1u << 20) - 1) >> 20, " MiB");
}

void fsync_path(const std::string& path, int flags, const char* what) {
  const int fd = ::open(path.c_str(), flags | O_CLOEXEC);
  if (fd < 0) fail(path, ": cannot open ", what, " to flush it: ", errno_text(errno));
  const int rc = ::fsync(fd);
  const int e = errno;
  ::close(fd);
  // Some file systems (and directories on some of them) do not support fsync; nothing to flush.
  if (rc != 0 && e != EINVAL && e != ENOTSUP) fail(path, ": fsync failed: ", errno_text(e));
}

}  // namespace

std::string parent_dir(const std::string& path) {
  const fs::path p = fs::path(path).parent_path();
  return p.empty() ? std::string(".") : p.string();
}

void ensure_writable_dir(const std::string& dir) {
  if (dir.empty()) fail("output directory is empty");
  std::error_code ec;
  if (fs::exists(dir, ec) && !fs::is_directory(dir, ec))
    fail(dir, ": exists and is not a directory");
  fs::create_directories(dir, ec);
  if (ec) fail(dir, ": cannot create the directory: ", ec.message());
  const std::string probe = (fs::path(dir) / ".tsft_write_probe").string();
  const int fd = ::open(probe.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) fail(dir, ": directory is not writable: ", errno_text(errno));
  ::close(fd);
  ::unlink(probe.c_str());
}

uint64_t free_bytes(const std::string& dir) {
  struct statvfs st {};
  if (::statvfs(dir.c_str(), &st) != 0) fail(dir, ": cannot query free space: ", errno_text(errno));
  return static_cast<uint64_t>(st.f_bavail) * static_cast<uint64_t>(st.f_frsize);
}

void check_free_space(const std::string& dir, uint64_t need, const std::string& what) {
  const uint64_t have = free_bytes(dir);
  if (have < need)
    fail("not enough space in ", dir, " for ", what, ": need ", mib(need), ", ", mib(have),
         " free");
}

void fsync_file(const std::string& path) {
  fsync_path(path, O_RDONLY, "file");
}

void fsync_dir(const std::string& path) {
  fsync_path(path, O_RDONLY | O_DIRECTORY, "directory");
}

void remove_tree(const std::string& path) {
  std::error_code ec;
  fs::remove_all(path, ec);
  if (ec) fail(path, ": cannot remove: ", ec.message());
}

void atomic_rename_dir(const std::string& tmp, const std::string& final_path) {
  std::error_code ec;
  std::string aside;
  if (fs::exists(fs::symlink_status(final_path, ec))) {
    aside = final_path + ".old";
    remove_tree(aside);
    fs::rename(final_path, aside, ec);
    if (ec) fail(final_path, ": cannot move the existing directory aside: ", ec.message());
  }
  fs::rename(tmp, final_path, ec);
  if (ec) {
    const std::string msg = ec.message();
    if (!aside.empty()) fs::rename(aside, final_path, ec);  // put the old version back
    fail(final_path, ": cannot rename ", tmp, " into place: ", msg);
  }
  fsync_dir(parent_dir(final_path));
  if (!aside.empty()) remove_tree(aside);
}

}  // namespace tsft
