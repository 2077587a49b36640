// GGUF v2/v3 reader (llama.cpp's model file format): metadata of every value type, tensor
// infos, alignment, and tensor data mmap'd in place. Every malformed input is a tsft::Error
// whose message starts with the file path and names the problem.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <variant>
#include <vector>

#include "core/dtype.h"
#include "core/mapped_file.h"
#include "core/tensor.h"

namespace tsft {

enum class GgufValueType : uint32_t {
  kU8 = 0, kI8 = 1, kU16 = 2, kI16 = 3, kU32 = 4, kI32 = 5, kF32 = 6, kBool = 7,
  kString = 8, kArray = 9, kU64 = 10, kI64 = 11, kF64 = 12,
};

struct GgufValue;
struct GgufArray {
  GgufValueType elem_type = GgufValueType::kU8;
  std::vector<GgufValue> items;
};

// One metadata value. Integers keep their declared type; use the accessors on GgufFile to read
// them with type checks and range checks.
struct GgufValue {
  GgufValueType type = GgufValueType::kU8;
  std::variant<uint64_t, int64_t, double, bool, std::string, std::shared_ptr<GgufArray>> v;
};

struct GgufTensorInfo {
  std::string name;
  DType dtype = DType::kF32;
  std::vector<int64_t> ne;      // GGML order: ne[0] is the innermost (contiguous) dimension
  uint64_t offset = 0;          // relative to the start of the data section
  size_t nbytes = 0;
  const uint8_t* data = nullptr;  // into the mmap

  // The same tensor in PyTorch order (ne reversed), pointing at the file's bytes.
  Tensor view() const;
};

class GgufFile {
 public:
  explicit GgufFile(const std::string& path);  // mmaps and parses; throws tsft::Error

  const std::string& path() const { return file_->path(); }
  uint32_t version() const { return version_; }
  size_t alignment() const { return alignment_; }

  const std::vector<std::string>& keys() const { return key_order_; }  // in file order
  bool has(const std::string& key) const { return kv_.count(key) != 0; }
  const GgufValue* find(const std::string& key) const;

  // Typed getters: throw tsft::Error "<path>: metadata key 'k' missing" / "... has type X".
  std::string get_string(const std::string& key) const;
  uint64_t get_uint(const std::string& key) const;   // any unsigned/signed integer >= 0
  int64_t get_int(const std::string& key) const;     // any integer type
  double get_float(const std::string& key) const;    // F32/F64 (and integers)
  bool get_bool(const std::string& key) const;
  std::vector<std::string> get_string_array(const std::string& key) const;
  std::vector<int64_t> get_int_array(const std::string& key) const;
  std::vector<double> get_float_array(const std::string& key) const;
  // Getters with a default for optional keys (still type-checked when present).
  std::string get_string_or(const std::string& key, const std::string& def) const;
  uint64_t get_uint_or(const std::string& key, uint64_t def) const;
  double get_float_or(const std::string& key, double def) const;
  bool get_bool_or(const std::string& key, bool def) const;

  const std::vector<GgufTensorInfo>& tensors() const { return tensors_; }
  const GgufTensorInfo* find_tensor(const std::string& name) const;

 private:
  void align_plain_tensors();

  std::unique_ptr<MappedFile> file_;
  uint32_t version_ = 0;
  size_t alignment_ = 32;
  std::vector<std::string> key_order_;
  std::unordered_map<std::string, GgufValue> kv_;
  std::vector<GgufTensorInfo> tensors_;
  std::unordered_map<std::string, size_t> tensor_index_;
  // Plain-typed tensors that a small general.alignment leaves misaligned for their element size
  // are copied here, so that every view is safe to read as its dtype.
  std::vector<std::vector<uint64_t>> aligned_copies_;
};

const char* gguf_value_type_name(GgufValueType t);

}  // namespace tsft
