// File-system helpers for everything the trainer writes: writable output directories, free space
// checks with a clear message, fsync of files and directories, and atomic directory replacement.
#pragma once

#include <cstdint>
#include <string>

namespace tsft {

// Creates dir (with parents) and checks that a file can be created in it; tsft::Error otherwise.
void ensure_writable_dir(const std::string& dir);

// Bytes available to an unprivileged user on the file system holding dir (statvfs).
uint64_t free_bytes(const std::string& dir);

// tsft::Error "not enough space in DIR for WHAT: need X MiB, Y MiB free" when free_bytes < need.
void check_free_space(const std::string& dir, uint64_t need, const std::string& what);

// Flushes a file's data (fsync_file) or a directory's entries (fsync_dir) to disk.
void fsync_file(const std::string& path);
void fsync_dir(const std::string& path);

// Removes path and everything below it; a missing path is not an error.
void remove_tree(const std::string& path);

// Renames the directory tmp to final. If final exists it is first moved aside, and deleted only
// after the rename succeeded, so at every moment one complete version is on disk. fsyncs the
// parent directory.
void atomic_rename_dir(const std::string& tmp, const std::string& final_path);

// The directory part of path ("." when there is none).
std::string parent_dir(const std::string& path);

}  // namespace tsft
