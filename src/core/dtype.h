// Element types of tensors, including llama.cpp's block-quantized types, with their block sizes.
// The numeric values of the quantized types are GGML's type ids, so GGUF files map directly.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace tsft {

enum class DType : uint32_t {
  kF32 = 0,
  kF16 = 1,
  kQ4_0 = 2,
  kQ4_1 = 3,
  kQ8_0 = 8,
  kQ4_K = 12,
  kQ5_K = 13,
  kQ6_K = 14,
  kI8 = 24,
  kI16 = 25,
  kI32 = 26,
  kI64 = 27,
  kF64 = 28,
  kBF16 = 30,
};

struct DTypeInfo {
  std::string_view name;  // as GGUF/llama.cpp names it: "F32", "Q4_1", ...
  int64_t block_elems;    // elements per block (1 for plain types)
  int64_t block_bytes;    // bytes per block
  bool quantized;
};

// Returns nullptr for ids that are not supported (caller reports the user error).
const DTypeInfo* dtype_info(uint32_t id);
const DTypeInfo& dtype_info(DType t);
inline std::string_view dtype_name(DType t) { return dtype_info(t).name; }

// Bytes taken by n elements of type t; n must be a multiple of the block size (checked).
size_t dtype_bytes(DType t, int64_t n);

}  // namespace tsft
