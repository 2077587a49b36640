// libFuzzer target: any byte string must give a parsed SafetensorsFile or a tsft::Error, and a
// parsed file's tensors must lie inside the file.
#include "core/error.h"
#include "fuzz_input_file.h"
#include "io/safetensors.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string& path = tsft_fuzz::write_input(data, size, "safetensors");
  try {
    tsft::SafetensorsFile f(path);
    for (const auto& t : f.tensors()) {
      if (f.find(t.name) != &t) __builtin_trap();
      if (t.nbytes > 0) {
        volatile uint8_t sink = t.data[0] ^ t.data[t.nbytes - 1];
        (void)sink;
      }
      try {
        const tsft::Tensor v = t.view();
        if (v.nbytes() != t.nbytes) __builtin_trap();
      } catch (const tsft::Error&) {
      }
    }
  } catch (const tsft::Error& e) {
    if (std::string(e.what()).rfind(path, 0) != 0) __builtin_trap();
  }
  return 0;
}
