// GGUF v3 writer: metadata of the common value types and tensors of any supported dtype, written
// to a temporary file and renamed into place so an existing file is never left half-written.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/dtype.h"

namespace tsft {

class GgufWriter {
 public:
  explicit GgufWriter(size_t alignment = 32) : alignment_(alignment) {}

  void set_u32(const std::string& key, uint32_t v);
  void set_i32(const std::string& key, int32_t v);
  void set_f32(const std::string& key, float v);
  void set_bool(const std::string& key, bool v);
  void set_string(const std::string& key, const std::string& v);
  void set_string_array(const std::string& key, const std::vector<std::string>& v);
  void set_i32_array(const std::string& key, const std::vector<int32_t>& v);

  // ne in GGML order (innermost first); data holds dtype_bytes(dtype, prod(ne)) bytes (copied).
  void add_tensor(const std::string& name, DType dtype, const std::vector<int64_t>& ne,
                  const void* data);

  // Throws tsft::Error naming the path if it cannot be written.
  void write(const std::string& path) const;

 private:
  struct TensorEntry {
    std::string name;
    DType dtype;
    std::vector<int64_t> ne;
    std::vector<uint8_t> data;
  };
  void key(const std::string& k, uint32_t type);
  void put_str(const std::string& s);
  template <typename T>
  void put(T v);

  size_t alignment_;
  uint64_t n_kv_ = 0;
  std::vector<uint8_t> kv_bytes_;
  std::vector<TensorEntry> tensors_;
};

}  // namespace tsft
