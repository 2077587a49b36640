// safetensors writer: the standard layout (8-byte little-endian header length, JSON header with
// dtype/shape/data_offsets and __metadata__, then the data), written atomically via a temp file.
#pragma once

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "core/tensor.h"

namespace tsft {

// Writes tensors (name, view of contiguous data) to path. Supported dtypes: F32, F16, BF16, F64,
// I8, I16, I32, I64. The header is padded with spaces to a multiple of 8 bytes; tensors are laid
// out widest element type first so every tensor's data stays aligned to its element size. The
// bytes go to a temp file in the same directory, are fsync'd and renamed over path. Any failure
// (cannot create, disk full) is a tsft::Error naming the path and the errno text, and the temp
// file is removed. Duplicate names and unsupported dtypes are tsft::Errors too.
void write_safetensors(const std::string& path,
                       const std::vector<std::pair<std::string, Tensor>>& tensors,
                       const std::map<std::string, std::string>& metadata = {});

}  // namespace tsft
