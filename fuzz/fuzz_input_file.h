// Fuzz-target helper: the readers take a path (they mmap), so each input is written to a
// per-process file in /dev/shm (memory-backed, fast) and read back through the real code path.
#pragma once

#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <string>

namespace tsft_fuzz {

inline const std::string& write_input(const uint8_t* data, size_t size, const char* tag) {
  static const std::string path =
      std::string(access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp") + "/tsft_" + tag + "_" +
      std::to_string(getpid());
  FILE* f = std::fopen(path.c_str(), "wb");
  if (f == nullptr) __builtin_trap();
  if (size > 0 && std::fwrite(data, 1, size, f) != size) __builtin_trap();
  std::fclose(f);
  return path;
}

}  // namespace tsft_fuzz
