// safetensors reader and the sharded-checkpoint index. The header is untrusted JSON: every
// field is type-checked, every offset is checked against the file, and sizes are computed with
// overflow checks, so a malformed file is a tsft::Error naming the file and the tensor.
#include "io/safetensors.h"

#include <sys/stat.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/error.h"

namespace tsft {
namespace {

// The reference implementation refuses headers over 100 MB; so do we, which also bounds the
// memory a hostile length field can make us spend.
constexpr uint64_t kMaxHeaderBytes = 100'000'000;

struct StDType {
  const char* name;
  DType dtype;
};
constexpr StDType kDTypes[] = {
    {"F32", DType::kF32}, {"F16", DType::kF16}, {"BF16", DType::kBF16}, {"F64", DType::kF64},
    {"I8", DType::kI8},   {"I16", DType::kI16}, {"I32", DType::kI32},   {"I64", DType::kI64},
};

bool file_exists(const std::string& p) {
  struct stat st {};
  return ::stat(p.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

uint64_t json_uint(const std::string& path, const std::string& name, const nlohmann::json& j,
                   const char* field) {
  if (!j.is_number_integer() || (!j.is_number_unsigned() && j.get<int64_t>() < 0))
    fail(path, ": tensor '", name, "': ", field, " must hold non-negative integers, got ", j.dump());
  return j.get<uint64_t>();
}

}  // namespace

Tensor SafetensorsTensor::view() const {
  if (shape.size() > static_cast<size_t>(kMaxDims))
    fail("safetensors tensor '", name, "' has ", shape.size(), " dimensions; at most ", kMaxDims,
         " are supported");
  Tensor t;
  t.dtype = dtype;
  t.shape = Shape::from(shape);
  t.data = const_cast<uint8_t*>(data);  // read-only mapping: callers must not write through it
  return t;
}

SafetensorsFile::SafetensorsFile(const std::string& path)
    : file_(std::make_unique<MappedFile>(path)) {
  const size_t size = file_->size();
  if (size < 8) fail(path, ": truncated file: ", size, " bytes, too short for a safetensors header");
  uint64_t header_len = 0;
  std::memcpy(&header_len, file_->data(), 8);  // little-endian on every host we build for
  if (header_len > kMaxHeaderBytes)
    fail(path, ": header length ", header_len, " is larger than the ", kMaxHeaderBytes, " byte limit");
  if (header_len > size - 8)
    fail(path, ": header length ", header_len, " exceeds the file size (", size, " bytes; truncated file?)");

  const char* hbegin = reinterpret_cast<const char*>(file_->data() + 8);
  nlohmann::json header = nlohmann::json::parse(hbegin, hbegin + header_len, nullptr, false);
  if (header.is_discarded()) fail(path, ": header is not valid JSON");
  if (!header.is_object()) fail(path, ": header is not a JSON object");

  const uint8_t* data = file_->data() + 8 + header_len;
  const uint64_t data_size = size - 8 - header_len;

  for (auto it = header.begin(); it != header.end(); ++it) {
    const std::string& name = it.key();
    const nlohmann::json& e = it.value();
    if (name == "__metadata__") {
      if (!e.is_object()) fail(path, ": __metadata__ is not a JSON object");
      for (auto m = e.begin(); m != e.end(); ++m) {
        if (!m.value().is_string()) fail(path, ": __metadata__ value of '", m.key(), "' is not a string");
        metadata_[m.key()] = m.value().get<std::string>();
      }
      continue;
    }
    if (!e.is_object()) fail(path, ": tensor '", name, "': entry is not a JSON object");
    auto dt = e.find("dtype");
    auto sh = e.find("shape");
    auto off = e.find("data_offsets");
    if (dt == e.end() || !dt->is_string()) fail(path, ": tensor '", name, "': missing or non-string dtype");
    if (sh == e.end() || !sh->is_array()) fail(path, ": tensor '", name, "': missing or non-array shape");
    if (off == e.end() || !off->is_array() || off->size() != 2)
      fail(path, ": tensor '", name, "': data_offsets must be an array of two integers");

    SafetensorsTensor t;
    t.name = name;
    const std::string dtype_str = dt->get<std::string>();
    const StDType* found = nullptr;
    for (const auto& d : kDTypes)
      if (dtype_str == d.name) found = &d;
    if (found == nullptr)
      fail(path, ": tensor '", name, "' has unsupported dtype ", dtype_str,
           " (supported: F32 F16 BF16 F64 I8 I16 I32 I64)");
    t.dtype = found->dtype;

    uint64_t numel = 1;
    for (const auto& d : *sh) {
      const uint64_t n = json_uint(path, name, d, "shape");
      if (n > static_cast<uint64_t>(INT64_MAX) || __builtin_mul_overflow(numel, n, &numel))
        fail(path, ": tensor '", name, "': shape ", sh->dump(), " element count overflows");
      t.shape.push_back(static_cast<int64_t>(n));
    }
    uint64_t nbytes = 0;
    if (__builtin_mul_overflow(numel, static_cast<uint64_t>(dtype_info(t.dtype).block_bytes), &nbytes))
      fail(path, ": tensor '", name, "': byte size overflows");
    const uint64_t begin = json_uint(path, name, (*off)[0], "data_offsets");
    const uint64_t end = json_uint(path, name, (*off)[1], "data_offsets");
    if (begin > end || end > data_size)
      fail(path, ": tensor '", name, "': data_offsets [", begin, ", ", end,
           "] out of bounds (data section is ", data_size, " bytes; truncated file?)");
    if (end - begin != nbytes)
      fail(path, ": tensor '", name, "': data_offsets span ", end - begin, " bytes but shape ",
           sh->dump(), " of ", dtype_str, " needs ", nbytes);
    t.data = data + begin;
    t.nbytes = static_cast<size_t>(nbytes);
    index_.emplace(name, tensors_.size());
    tensors_.push_back(std::move(t));
  }

  // Tensors must not share bytes (the reference library rejects such files too).
  std::vector<const SafetensorsTensor*> by_offset;
  for (const auto& t : tensors_) by_offset.push_back(&t);
  std::sort(by_offset.begin(), by_offset.end(),
            [](const SafetensorsTensor* a, const SafetensorsTensor* b) { return a->data < b->data; });
  for (size_t i = 1; i < by_offset.size(); ++i) {
    const SafetensorsTensor* prev = by_offset[i - 1];
    if (prev->data + prev->nbytes > by_offset[i]->data)
      fail(path, ": tensors '", prev->name, "' and '", by_offset[i]->name, "' overlap in the data section");
  }

  // The format puts the data right after the header and leaves alignment to the writer (the
  // reference one pads the header to 8 bytes); copy any tensor another writer left misaligned,
  // so that reading it as its dtype is never undefined behaviour.
  for (auto& t : tensors_) {
    const auto elem = static_cast<uintptr_t>(dtype_info(t.dtype).block_bytes);
    if (t.nbytes == 0 || reinterpret_cast<uintptr_t>(t.data) % elem == 0) continue;
    aligned_copies_.emplace_back((t.nbytes + 7) / 8);
    std::memcpy(aligned_copies_.back().data(), t.data, t.nbytes);
    t.data = reinterpret_cast<const uint8_t*>(aligned_copies_.back().data());
  }
}

const SafetensorsTensor* SafetensorsFile::find(const std::string& name) const {
  auto it = index_.find(name);
  return it == index_.end() ? nullptr : &tensors_[it->second];
}

SafetensorsModel::SafetensorsModel(const std::string& dir) : dir_(dir) {
  const std::string single = dir + "/model.safetensors";
  const std::string index_path = dir + "/model.safetensors.index.json";
  // Like transformers: a single model.safetensors wins over an index.
  if (file_exists(single)) {
    files_.push_back(std::make_unique<SafetensorsFile>(single));
    for (const auto& t : files_.back()->tensors()) by_name_[t.name] = &t;
    return;
  }
  if (!file_exists(index_path))
    fail(dir, ": no model.safetensors or model.safetensors.index.json in this directory");

  std::ifstream in(index_path, std::ios::binary);
  if (!in) fail(index_path, ": cannot open");
  std::stringstream ss;
  ss << in.rdbuf();
  const nlohmann::json index = nlohmann::json::parse(ss.str(), nullptr, false);
  if (index.is_discarded()) fail(index_path, ": not valid JSON");
  if (!index.is_object() || !index.contains("weight_map") || !index["weight_map"].is_object())
    fail(index_path, ": missing 'weight_map' object");

  // Open each shard once, in a stable order, then check that it holds what the index says.
  std::map<std::string, std::vector<std::string>> by_shard;
  for (auto it = index["weight_map"].begin(); it != index["weight_map"].end(); ++it) {
    if (!it.value().is_string()) fail(index_path, ": weight_map entry '", it.key(), "' is not a string");
    const std::string shard = it.value().get<std::string>();
    // Shards live beside the index; a path that leaves the directory is a broken or hostile file.
    if (shard.empty() || shard[0] == '/' || shard.find("..") != std::string::npos)
      fail(index_path, ": weight_map entry '", it.key(), "' names an invalid shard file '", shard, "'");
    by_shard[shard].push_back(it.key());
  }
  for (const auto& [shard, names] : by_shard) {
    const std::string shard_path = dir + "/" + shard;
    if (!file_exists(shard_path)) fail(index_path, ": shard file '", shard, "' does not exist");
    files_.push_back(std::make_unique<SafetensorsFile>(shard_path));
    for (const auto& name : names) {
      const SafetensorsTensor* t = files_.back()->find(name);
      if (t == nullptr)
        fail(index_path, ": tensor '", name, "' is listed for shard '", shard, "' but missing from it");
      by_name_[name] = t;
    }
  }
}

const SafetensorsTensor* SafetensorsModel::find(const std::string& name) const {
  auto it = by_name_.find(name);
  return it == by_name_.end() ? nullptr : it->second;
}

std::vector<std::string> SafetensorsModel::names() const {
  std::vector<std::string> out;
  out.reserve(by_name_.size());
  for (const auto& [name, t] : by_name_) out.push_back(name);
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace tsft
