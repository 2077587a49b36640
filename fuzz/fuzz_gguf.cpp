// libFuzzer target: any byte string must give a parsed GgufFile or a tsft::Error, and a parsed
// file's tensors must be readable end to end (dequantized) without touching bytes outside it.
#include <algorithm>
#include <vector>

#include "backend/cpu/dequant.h"
#include "core/error.h"
#include "fuzz_input_file.h"
#include "io/gguf.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string& path = tsft_fuzz::write_input(data, size, "gguf");
  try {
    tsft::GgufFile f(path);
    for (const auto& key : f.keys()) {
      // Exercise every typed getter; type mismatches are user errors, not crashes.
      try { (void)f.get_string(key); } catch (const tsft::Error&) {}
      try { (void)f.get_uint(key); } catch (const tsft::Error&) {}
      try { (void)f.get_int(key); } catch (const tsft::Error&) {}
      try { (void)f.get_float(key); } catch (const tsft::Error&) {}
      try { (void)f.get_bool(key); } catch (const tsft::Error&) {}
      try { (void)f.get_string_array(key); } catch (const tsft::Error&) {}
      try { (void)f.get_int_array(key); } catch (const tsft::Error&) {}
      try { (void)f.get_float_array(key); } catch (const tsft::Error&) {}
    }
    std::vector<float> out;
    for (const auto& t : f.tensors()) {
      if (f.find_tensor(t.name) != &t) __builtin_trap();
      const tsft::Tensor v = t.view();
      if (v.nbytes() != t.nbytes) __builtin_trap();
      // Dequantize the first and the last row: proves the data pointer and size are in bounds.
      const auto& info = tsft::dtype_info(t.dtype);
      const int64_t row = std::min<int64_t>(t.ne[0], 1 << 16);
      const int64_t n = row - row % info.block_elems;
      const bool is_int = t.dtype >= tsft::DType::kI8 && t.dtype <= tsft::DType::kF64;
      if (n == 0 || is_int) {
        // Integer and F64 tensors are not dequantized: touch their first and last byte instead.
        volatile uint8_t sink = t.data[0] ^ t.data[t.nbytes - 1];
        (void)sink;
        continue;
      }
      out.resize(static_cast<size_t>(n));
      tsft::dequantize_row(t.dtype, t.data, out.data(), n);
      const size_t row_bytes = tsft::dtype_bytes(t.dtype, n);
      tsft::dequantize_row_ref(t.dtype, t.data + (t.nbytes - row_bytes), out.data(), n);
    }
  } catch (const tsft::Error& e) {
    // Every rejection must name the file.
    if (std::string(e.what()).rfind(path, 0) != 0) __builtin_trap();
  }
  return 0;
}
