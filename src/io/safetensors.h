// safetensors reader: the JSON header, F32/F16/BF16 (and integer) tensors mmap'd in place, and
// sharded checkpoints through model.safetensors.index.json. Malformed input -> tsft::Error naming
// the file and the problem.
#pragma once

#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/mapped_file.h"
#include "core/tensor.h"

namespace tsft {

struct SafetensorsTensor {
  std::string name;
  DType dtype = DType::kF32;
  std::vector<int64_t> shape;  // PyTorch order
  const uint8_t* data = nullptr;
  size_t nbytes = 0;
  Tensor view() const;
};

class SafetensorsFile {
 public:
  explicit SafetensorsFile(const std::string& path);
  const std::string& path() const { return file_->path(); }
  const std::vector<SafetensorsTensor>& tensors() const { return tensors_; }
  const SafetensorsTensor* find(const std::string& name) const;
  const std::unordered_map<std::string, std::string>& metadata() const { return metadata_; }

 private:
  std::unique_ptr<MappedFile> file_;
  std::vector<SafetensorsTensor> tensors_;
  std::unordered_map<std::string, size_t> index_;
  std::unordered_map<std::string, std::string> metadata_;
  // Tensors whose bytes in the file are not aligned to their element size are copied here, so
  // that every view is safe to read as its dtype (the format does not promise alignment).
  std::vector<std::vector<uint64_t>> aligned_copies_;
};

// All the safetensors of a Hugging Face model directory: model.safetensors, or the shards listed
// by model.safetensors.index.json (every listed tensor must be found in its shard).
class SafetensorsModel {
 public:
  explicit SafetensorsModel(const std::string& dir);
  const SafetensorsTensor* find(const std::string& name) const;
  std::vector<std::string> names() const;  // sorted
  const std::string& dir() const { return dir_; }

 private:
  std::string dir_;
  std::vector<std::unique_ptr<SafetensorsFile>> files_;
  std::unordered_map<std::string, const SafetensorsTensor*> by_name_;
};

}  // namespace tsft
