// File plumbing shared by every writer (exporters, adapters, reports, recipes): whole-file writes
// with clear errors, and building an output directory beside its final place so that a crash
// never leaves half of one behind.
#pragma once

#include <string>

namespace tsft {

// Writes `text` to path (replacing it); tsft::Error naming the path if it cannot.
void write_text_file(const std::string& path, const std::string& text);

// An output directory built in a temporary sibling ("<dir>.tmp-<pid>") and moved into place by
// commit(). If commit() is never reached (an exception), the destructor removes the temporary.
class StagedDir {
 public:
  explicit StagedDir(const std::string& final_dir);
  ~StagedDir();
  StagedDir(const StagedDir&) = delete;
  StagedDir& operator=(const StagedDir&) = delete;

  const std::string& path() const { return tmp_; }  // where to write the files
  std::string file(const std::string& name) const;  // path() + "/" + name
  // fsyncs the staged files and replaces final_dir by the staged directory (fs_util's
  // atomic_rename_dir: an existing final_dir is moved aside and deleted only after the rename).
  void commit();

 private:
  std::string final_;
  std::string tmp_;
  bool committed_ = false;
};

}  // namespace tsft
