#include "core/dtype.h"

#include "core/error.h"

namespace tsft {
namespace {

struct Entry {
  uint32_t id;
  DTypeInfo info;
};

constexpr Entry kTable[] = {
    {0, {"F32", 1, 4, false}},        {1, {"F16", 1, 2, false}},
    {2, {"Q4_0", 32, 18, true}},      {3, {"Q4_1", 32, 20, true}},
    {8, {"Q8_0", 32, 34, true}},      {12, {"Q4_K", 256, 144, true}},
    {13, {"Q5_K", 256, 176, true}},   {14, {"Q6_K", 256, 210, true}},
    {24, {"I8", 1, 1, false}},        {25, {"I16", 1, 2, false}},
    {26, {"I32", 1, 4, false}},       {27, {"I64", 1, 8, false}},
    {28, {"F64", 1, 8, false}},       {30, {"BF16", 1, 2, false}},
};

}  // namespace

const DTypeInfo* dtype_info(uint32_t id) {
  for (const auto& e : kTable)
    if (e.id == id) return &e.info;
  return nullptr;
}

const DTypeInfo& dtype_info(DType t) {
  const DTypeInfo* info = dtype_info(static_cast<uint32_t>(t));
  TSFT_CHECK(info != nullptr, "unknown dtype ", static_cast<uint32_t>(t));
  return *info;
}

size_t dtype_bytes(DType t, int64_t n) {
  const DTypeInfo& info = dtype_info(t);
  TSFT_CHECK(n % info.block_elems == 0, n, " elements is not a multiple of the ", info.name,
             " block size ", info.block_elems);
  return static_cast<size_t>(n / info.block_elems * info.block_bytes);
}

}  // namespace tsft
