#include "io/gguf_writer.h"

#include <cstdio>
#include <cstring>
#include <filesystem>

#include "core/error.h"

namespace tsft {

template <typename T>
void GgufWriter::put(T v) {
  const size_t at = kv_bytes_.size();
  kv_bytes_.resize(at + sizeof(T));
  std::memcpy(kv_bytes_.data() + at, &v, sizeof(T));
}

void GgufWriter::put_str(const std::string& s) {
  put<uint64_t>(s.size());
  kv_bytes_.insert(kv_bytes_.end(), s.begin(), s.end());
}

void GgufWriter::key(const std::string& k, uint32_t type) {
  ++n_kv_;
  put_str(k);
  put<uint32_t>(type);
}

// Value type ids from the GGUF specification.
void GgufWriter::set_u32(const std::string& k, uint32_t v) { key(k, 4); put(v); }
void GgufWriter::set_i32(const std::string& k, int32_t v) { key(k, 5); put(v); }
void GgufWriter::set_f32(const std::string& k, float v) { key(k, 6); put(v); }
void GgufWriter::set_bool(const std::string& k, bool v) { key(k, 7); put<uint8_t>(v ? 1 : 0); }
void GgufWriter::set_string(const std::string& k, const std::string& v) { key(k, 8); put_str(v); }

void GgufWriter::set_string_array(const std::string& k, const std::vector<std::string>& v) {
  key(k, 9);
  put<uint32_t>(8);
  put<uint64_t>(v.size());
  for (const auto& s : v) put_str(s);
}

void GgufWriter::set_i32_array(const std::string& k, const std::vector<int32_t>& v) {
  key(k, 9);
  put<uint32_t>(5);
  put<uint64_t>(v.size());
  for (int32_t x : v) put(x);
}

void GgufWriter::add_tensor(const std::string& name, DType dtype, const std::vector<int64_t>& ne,
                            const void* data) {
  int64_t n = 1;
  for (int64_t d : ne) n *= d;
  const size_t bytes = dtype_bytes(dtype, n);
  const auto* p = static_cast<const uint8_t*>(data);
  tensors_.push_back({name, dtype, ne, std::vector<uint8_t>(p, p + bytes)});
}

void GgufWriter::write(const std::string& path) const {
  std::vector<uint8_t> out;
  auto put_raw = [&](const void* p, size_t n) {
    if (n == 0) return;
    const size_t at = out.size();
    out.resize(at + n);
    std::memcpy(out.data() + at, p, n);
  };
  auto put_u32 = [&](uint32_t v) { put_raw(&v, 4); };
  auto put_u64 = [&](uint64_t v) { put_raw(&v, 8); };
  auto align = [&](std::vector<uint8_t>& v, size_t base) {
    while ((v.size() - base) % alignment_) v.push_back(0);
  };
  put_u32(0x46554747);  // "GGUF"
  put_u32(3);
  put_u64(tensors_.size());
  put_u64(n_kv_ + (alignment_ != 32 ? 1 : 0));
  put_raw(kv_bytes_.data(), kv_bytes_.size());
  if (alignment_ != 32) {
    const std::string k = "general.alignment";
    put_u64(k.size());
    put_raw(k.data(), k.size());
    put_u32(4);
    put_u32(static_cast<uint32_t>(alignment_));
  }
  uint64_t offset = 0;
  for (const auto& t : tensors_) {
    put_u64(t.name.size());
    put_raw(t.name.data(), t.name.size());
    put_u32(static_cast<uint32_t>(t.ne.size()));
    for (int64_t d : t.ne) put_u64(static_cast<uint64_t>(d));
    put_u32(static_cast<uint32_t>(t.dtype));
    put_u64(offset);
    offset += (t.data.size() + alignment_ - 1) / alignment_ * alignment_;
  }
  align(out, 0);
  const size_t data_start = out.size();
  for (const auto& t : tensors_) {
    put_raw(t.data.data(), t.data.size());
    align(out, data_start);
  }

  const std::string tmp = path + ".tmp";
  FILE* f = std::fopen(tmp.c_str(), "wb");
  if (f == nullptr) fail(path, ": cannot write");
  const bool ok = std::fwrite(out.data(), 1, out.size(), f) == out.size();
  if (std::fclose(f) != 0 || !ok) {
    std::remove(tmp.c_str());
    fail(path, ": write failed (disk full?)");
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) {
    std::remove(tmp.c_str());
    fail(path, ": cannot rename the written file into place: ", ec.message());
  }
}

}  // namespace tsft
