// GGUF v2/v3 reader. The file is untrusted input: every read goes through a bounds-checked
// cursor, every count is checked against the bytes left before anything is allocated, and every
// size computation is checked for overflow, so a malformed file is a tsft::Error, never UB.
#include "io/gguf.h"

#include <algorithm>
#include <cstring>
#include <limits>

#include "core/error.h"

namespace tsft {
namespace {

constexpr uint32_t kGgufMagic = 0x46554747;  // "GGUF" read as little-endian u32
constexpr int kMaxArrayDepth = 8;            // real files nest at most one level
constexpr size_t kMaxNameLen = 64 * 1024;    // tensor names; llama.cpp allows only 64

// Reads little-endian values from [data, data + size); any read past the end fails with the
// path and what was being read, so truncation at any offset gives a clear message.
class Cursor {
 public:
  Cursor(const std::string& path, const uint8_t* data, size_t size)
      : path_(path), data_(data), size_(size) {}

  size_t pos() const { return pos_; }
  size_t left() const { return size_ - pos_; }

  void need(size_t n, const char* what) const {
    if (n > left())
      fail(path_, ": truncated file: ", what, " at offset ", pos_, " needs ", n,
           " bytes but only ", left(), " remain");
  }

  template <typename T>
  T read(const char* what) {
    need(sizeof(T), what);
    T v;
    std::memcpy(&v, data_ + pos_, sizeof(T));
    pos_ += sizeof(T);
    return v;
  }

  std::string read_string(const char* what) {
    const uint64_t len = read<uint64_t>(what);
    if (len > left())
      fail(path_, ": truncated file or bad string length: ", what, " at offset ", pos_ - 8,
           " has length ", len, " but only ", left(), " bytes remain");
    std::string s(reinterpret_cast<const char*>(data_ + pos_), static_cast<size_t>(len));
    pos_ += static_cast<size_t>(len);
    return s;
  }

 private:
  const std::string& path_;
  const uint8_t* data_;
  size_t size_;
  size_t pos_ = 0;
};

// Smallest encoding of one value of type t, used to reject counts the file cannot hold.
size_t min_value_size(GgufValueType t) {
  switch (t) {
    case GgufValueType::kU8: case GgufValueType::kI8: case GgufValueType::kBool: return 1;
    case GgufValueType::kU16: case GgufValueType::kI16: return 2;
    case GgufValueType::kU32: case GgufValueType::kI32: case GgufValueType::kF32: return 4;
    case GgufValueType::kU64: case GgufValueType::kI64: case GgufValueType::kF64: return 8;
    case GgufValueType::kString: return 8;              // length
    case GgufValueType::kArray: return 12;              // element type + count
  }
  return 1;
}

bool valid_value_type(uint32_t t) { return t <= static_cast<uint32_t>(GgufValueType::kF64); }

bool is_unsigned(GgufValueType t) {
  return t == GgufValueType::kU8 || t == GgufValueType::kU16 || t == GgufValueType::kU32 ||
         t == GgufValueType::kU64;
}
bool is_signed(GgufValueType t) {
  return t == GgufValueType::kI8 || t == GgufValueType::kI16 || t == GgufValueType::kI32 ||
         t == GgufValueType::kI64;
}
bool is_integer(GgufValueType t) { return is_unsigned(t) || is_signed(t); }
bool is_float(GgufValueType t) { return t == GgufValueType::kF32 || t == GgufValueType::kF64; }

class Parser {
 public:
  Parser(const std::string& path, Cursor& cur) : path_(path), cur_(cur) {}

  GgufValue read_value(GgufValueType t, const std::string& key, int depth) {
    GgufValue v;
    v.type = t;
    switch (t) {
      case GgufValueType::kU8: v.v = uint64_t{cur_.read<uint8_t>("u8 value")}; break;
      case GgufValueType::kI8: v.v = int64_t{cur_.read<int8_t>("i8 value")}; break;
      case GgufValueType::kU16: v.v = uint64_t{cur_.read<uint16_t>("u16 value")}; break;
      case GgufValueType::kI16: v.v = int64_t{cur_.read<int16_t>("i16 value")}; break;
      case GgufValueType::kU32: v.v = uint64_t{cur_.read<uint32_t>("u32 value")}; break;
      case GgufValueType::kI32: v.v = int64_t{cur_.read<int32_t>("i32 value")}; break;
      case GgufValueType::kU64: v.v = cur_.read<uint64_t>("u64 value"); break;
      case GgufValueType::kI64: v.v = cur_.read<int64_t>("i64 value"); break;
      case GgufValueType::kF32: v.v = double{cur_.read<float>("f32 value")}; break;
      case GgufValueType::kF64: v.v = cur_.read<double>("f64 value"); break;
      case GgufValueType::kBool: {
        const uint8_t b = cur_.read<uint8_t>("bool value");
        if (b > 1) fail(path_, ": metadata key '", key, "': bool value ", int{b}, " is not 0 or 1");
        v.v = b == 1;
        break;
      }
      case GgufValueType::kString: v.v = cur_.read_string("string value"); break;
      case GgufValueType::kArray: v.v = read_array(key, depth); break;
    }
    return v;
  }

  GgufValueType read_type(const std::string& key, const char* what) {
    const size_t at = cur_.pos();
    const uint32_t t = cur_.read<uint32_t>(what);
    if (!valid_value_type(t))
      fail(path_, ": metadata key '", key, "': unknown value type ", t, " at offset ", at);
    return static_cast<GgufValueType>(t);
  }

 private:
  std::shared_ptr<GgufArray> read_array(const std::string& key, int depth) {
    if (depth >= kMaxArrayDepth)
      fail(path_, ": metadata key '", key, "': arrays nested deeper than ", kMaxArrayDepth);
    auto arr = std::make_shared<GgufArray>();
    arr->elem_type = read_type(key, "array element type");
    const uint64_t count = cur_.read<uint64_t>("array length");
    // Every element takes at least min_value_size bytes, so a count the rest of the file
    // cannot hold is rejected before reserving anything.
    if (count > cur_.left() / min_value_size(arr->elem_type))
      fail(path_, ": metadata key '", key, "': array count ", count,
           " exceeds the file size (", cur_.left(), " bytes remain)");
    arr->items.reserve(static_cast<size_t>(count));
    for (uint64_t i = 0; i < count; ++i) arr->items.push_back(read_value(arr->elem_type, key, depth + 1));
    return arr;
  }

  const std::string& path_;
  Cursor& cur_;
};

std::string type_name(const GgufValue& v) {
  if (v.type == GgufValueType::kArray) {
    const auto& a = std::get<std::shared_ptr<GgufArray>>(v.v);
    return str("array of ", gguf_value_type_name(a->elem_type));
  }
  return gguf_value_type_name(v.type);
}

}  // namespace

const char* gguf_value_type_name(GgufValueType t) {
  switch (t) {
    case GgufValueType::kU8: return "u8";
    case GgufValueType::kI8: return "i8";
    case GgufValueType::kU16: return "u16";
    case GgufValueType::kI16: return "i16";
    case GgufValueType::kU32: return "u32";
    case GgufValueType::kI32: return "i32";
    case GgufValueType::kF32: return "f32";
    case GgufValueType::kBool: return "bool";
    case GgufValueType::kString: return "string";
    case GgufValueType::kArray: return "array";
    case GgufValueType::kU64: return "u64";
    case GgufValueType::kI64: return "i64";
    case GgufValueType::kF64: return "f64";
  }
  return "unknown";
}

Tensor GgufTensorInfo::view() const {
  Tensor t;
  t.dtype = dtype;
  std::vector<int64_t> dims(ne.rbegin(), ne.rend());
  t.shape = Shape::from(dims);
  t.data = const_cast<uint8_t*>(data);  // read-only mapping: callers must not write through it
  return t;
}

GgufFile::GgufFile(const std::string& path) : file_(std::make_unique<MappedFile>(path)) {
  Cursor cur(path, file_->data(), file_->size());
  Parser parser(path, cur);

  if (file_->size() < 4) fail(path, ": truncated file: ", file_->size(), " bytes, not a GGUF file");
  const uint32_t magic = cur.read<uint32_t>("magic");
  if (magic != kGgufMagic) fail(path, ": bad magic: not a GGUF file");
  version_ = cur.read<uint32_t>("version");
  if (version_ == 1) fail(path, ": GGUF version 1 is not supported (only versions 2 and 3)");
  if (version_ != 2 && version_ != 3) {
    // A big-endian file reads its version byte-swapped, e.g. 0x03000000.
    fail(path, ": unsupported GGUF version ", version_, " (only versions 2 and 3",
         (version_ & 0xffff) == 0 ? "; big-endian files are not supported)" : ")");
  }
  const uint64_t n_tensors = cur.read<uint64_t>("tensor count");
  const uint64_t n_kv = cur.read<uint64_t>("metadata count");
  // Minimum sizes: a key-value is key length (8) + type (4) + 1 byte of value; a tensor info is
  // name length (8) + n_dims (4) + one dim (8) + type (4) + offset (8).
  if (n_kv > cur.left() / 13)
    fail(path, ": metadata count ", n_kv, " exceeds the file size");
  if (n_tensors > cur.left() / 32)
    fail(path, ": tensor count ", n_tensors, " exceeds the file size");

  for (uint64_t i = 0; i < n_kv; ++i) {
    std::string key = cur.read_string("metadata key");
    if (kv_.count(key)) fail(path, ": duplicate metadata key '", key, "'");
    const GgufValueType t = parser.read_type(key, "metadata value type");
    GgufValue v = parser.read_value(t, key, 0);
    key_order_.push_back(key);
    kv_.emplace(std::move(key), std::move(v));
  }

  if (const GgufValue* a = find("general.alignment")) {
    if (!is_integer(a->type)) fail(path, ": general.alignment has type ", type_name(*a), ", expected u32");
    const uint64_t al = get_uint("general.alignment");
    if (al == 0 || (al & (al - 1)) != 0 || al > (1u << 30))
      fail(path, ": general.alignment ", al, " is not a power of two (up to 2^30)");
    alignment_ = static_cast<size_t>(al);
  }

  tensors_.reserve(static_cast<size_t>(n_tensors));
  for (uint64_t i = 0; i < n_tensors; ++i) {
    GgufTensorInfo ti;
    ti.name = cur.read_string("tensor name");
    if (ti.name.size() > kMaxNameLen) fail(path, ": tensor name of ", ti.name.size(), " bytes is too long");
    if (tensor_index_.count(ti.name)) fail(path, ": duplicate tensor name '", ti.name, "'");
    const uint32_t n_dims = cur.read<uint32_t>("tensor dimension count");
    if (n_dims == 0 || n_dims > static_cast<uint32_t>(kMaxDims))
      fail(path, ": tensor '", ti.name, "' has ", n_dims, " dimensions (1 to ", kMaxDims, " supported)");
    int64_t numel = 1;
    for (uint32_t d = 0; d < n_dims; ++d) {
      const int64_t n = cur.read<int64_t>("tensor dimension");
      if (n <= 0) fail(path, ": tensor '", ti.name, "' has dimension ", n, " (must be positive)");
      if (__builtin_mul_overflow(numel, n, &numel))
        fail(path, ": tensor '", ti.name, "' element count overflows");
      ti.ne.push_back(n);
    }
    const uint32_t type_id = cur.read<uint32_t>("tensor type");
    const DTypeInfo* info = dtype_info(type_id);
    if (info == nullptr) fail(path, ": tensor '", ti.name, "' has unknown or unsupported tensor type ", type_id);
    ti.dtype = static_cast<DType>(type_id);
    if (ti.ne[0] % info->block_elems != 0)
      fail(path, ": tensor '", ti.name, "' (", info->name, ") row of ", ti.ne[0],
           " elements is not a multiple of the block size ", info->block_elems);
    const uint64_t blocks = static_cast<uint64_t>(numel / info->block_elems);
    uint64_t nbytes = 0;
    if (__builtin_mul_overflow(blocks, static_cast<uint64_t>(info->block_bytes), &nbytes) ||
        nbytes > std::numeric_limits<size_t>::max())
      fail(path, ": tensor '", ti.name, "' byte size overflows");
    ti.nbytes = static_cast<size_t>(nbytes);
    ti.offset = cur.read<uint64_t>("tensor offset");
    if (ti.offset % alignment_ != 0)
      fail(path, ": tensor '", ti.name, "' offset ", ti.offset, " is not a multiple of the alignment ", alignment_);
    tensor_index_.emplace(ti.name, tensors_.size());
    tensors_.push_back(std::move(ti));
  }

  // The data section starts at the next multiple of the alignment after the tensor infos.
  const size_t data_start = (cur.pos() + alignment_ - 1) / alignment_ * alignment_;
  const size_t data_size = data_start <= file_->size() ? file_->size() - data_start : 0;
  if (!tensors_.empty() && data_start > file_->size())
    fail(path, ": truncated file: data section at offset ", data_start, " is past the end (",
         file_->size(), " bytes)");
  for (auto& ti : tensors_) {
    if (ti.offset > data_size || ti.nbytes > data_size - ti.offset)
      fail(path, ": tensor '", ti.name, "' data out of bounds: offset ", ti.offset, " + ", ti.nbytes,
           " bytes exceeds the data section of ", data_size, " bytes (truncated file?)");
    ti.data = file_->data() + data_start + ti.offset;
  }
  align_plain_tensors();

  // Tensors must not share bytes: a writer bug or a crafted file would otherwise alias weights.
  std::vector<const GgufTensorInfo*> by_offset;
  for (const auto& ti : tensors_) by_offset.push_back(&ti);
  std::sort(by_offset.begin(), by_offset.end(),
            [](const GgufTensorInfo* a, const GgufTensorInfo* b) { return a->offset < b->offset; });
  for (size_t i = 1; i < by_offset.size(); ++i) {
    const GgufTensorInfo* prev = by_offset[i - 1];
    if (prev->offset + prev->nbytes > by_offset[i]->offset)
      fail(path, ": tensors '", prev->name, "' and '", by_offset[i]->name, "' overlap in the data section");
  }
}

void GgufFile::align_plain_tensors() {
  // The mmap is page-aligned, so only an alignment below 8 can leave an F32/I64/... tensor at an
  // address its dtype cannot be read from without undefined behaviour. Quantized blocks are
  // read bytewise (memcpy), so they stay in place.
  for (auto& ti : tensors_) {
    const DTypeInfo& info = dtype_info(ti.dtype);
    if (info.quantized || reinterpret_cast<uintptr_t>(ti.data) % static_cast<uintptr_t>(info.block_bytes) == 0)
      continue;
    aligned_copies_.emplace_back((ti.nbytes + 7) / 8);
    std::memcpy(aligned_copies_.back().data(), ti.data, ti.nbytes);
    ti.data = reinterpret_cast<const uint8_t*>(aligned_copies_.back().data());
  }
}

const GgufValue* GgufFile::find(const std::string& key) const {
  auto it = kv_.find(key);
  return it == kv_.end() ? nullptr : &it->second;
}

const GgufTensorInfo* GgufFile::find_tensor(const std::string& name) const {
  auto it = tensor_index_.find(name);
  return it == tensor_index_.end() ? nullptr : &tensors_[it->second];
}

namespace {

const GgufValue& must_find(const GgufFile& f, const std::string& key) {
  const GgufValue* v = f.find(key);
  if (v == nullptr) fail(f.path(), ": metadata key '", key, "' missing");
  return *v;
}

[[noreturn]] void wrong_type(const GgufFile& f, const std::string& key, const GgufValue& v,
                             const char* expected) {
  fail(f.path(), ": metadata key '", key, "' has type ", type_name(v), ", expected ", expected);
}

uint64_t as_uint(const GgufFile& f, const std::string& key, const GgufValue& v) {
  if (is_unsigned(v.type)) return std::get<uint64_t>(v.v);
  if (is_signed(v.type)) {
    const int64_t i = std::get<int64_t>(v.v);
    if (i < 0) fail(f.path(), ": metadata key '", key, "' is ", i, ", expected a non-negative integer");
    return static_cast<uint64_t>(i);
  }
  wrong_type(f, key, v, "an unsigned integer");
}

int64_t as_int(const GgufFile& f, const std::string& key, const GgufValue& v) {
  if (is_signed(v.type)) return std::get<int64_t>(v.v);
  if (is_unsigned(v.type)) {
    const uint64_t u = std::get<uint64_t>(v.v);
    if (u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
      fail(f.path(), ": metadata key '", key, "' value ", u, " is out of range for int64");
    return static_cast<int64_t>(u);
  }
  wrong_type(f, key, v, "an integer");
}

double as_float(const GgufFile& f, const std::string& key, const GgufValue& v) {
  if (is_float(v.type)) return std::get<double>(v.v);
  if (is_signed(v.type)) return static_cast<double>(std::get<int64_t>(v.v));
  if (is_unsigned(v.type)) return static_cast<double>(std::get<uint64_t>(v.v));
  wrong_type(f, key, v, "a number");
}

const GgufArray& as_array(const GgufFile& f, const std::string& key, const GgufValue& v,
                          const char* expected) {
  if (v.type != GgufValueType::kArray) wrong_type(f, key, v, expected);
  return *std::get<std::shared_ptr<GgufArray>>(v.v);
}

}  // namespace

std::string GgufFile::get_string(const std::string& key) const {
  const GgufValue& v = must_find(*this, key);
  if (v.type != GgufValueType::kString) wrong_type(*this, key, v, "string");
  return std::get<std::string>(v.v);
}

uint64_t GgufFile::get_uint(const std::string& key) const {
  return as_uint(*this, key, must_find(*this, key));
}

int64_t GgufFile::get_int(const std::string& key) const {
  return as_int(*this, key, must_find(*this, key));
}

double GgufFile::get_float(const std::string& key) const {
  return as_float(*this, key, must_find(*this, key));
}

bool GgufFile::get_bool(const std::string& key) const {
  const GgufValue& v = must_find(*this, key);
  if (v.type != GgufValueType::kBool) wrong_type(*this, key, v, "bool");
  return std::get<bool>(v.v);
}

std::vector<std::string> GgufFile::get_string_array(const std::string& key) const {
  const GgufValue& v = must_find(*this, key);
  const GgufArray& a = as_array(*this, key, v, "array of string");
  if (a.elem_type != GgufValueType::kString) wrong_type(*this, key, v, "array of string");
  std::vector<std::string> out;
  out.reserve(a.items.size());
  for (const auto& item : a.items) out.push_back(std::get<std::string>(item.v));
  return out;
}

std::vector<int64_t> GgufFile::get_int_array(const std::string& key) const {
  const GgufValue& v = must_find(*this, key);
  const GgufArray& a = as_array(*this, key, v, "array of integers");
  if (!is_integer(a.elem_type)) wrong_type(*this, key, v, "array of integers");
  std::vector<int64_t> out;
  out.reserve(a.items.size());
  for (const auto& item : a.items) out.push_back(as_int(*this, key, item));
  return out;
}

std::vector<double> GgufFile::get_float_array(const std::string& key) const {
  const GgufValue& v = must_find(*this, key);
  const GgufArray& a = as_array(*this, key, v, "array of numbers");
  if (!is_integer(a.elem_type) && !is_float(a.elem_type)) wrong_type(*this, key, v, "array of numbers");
  std::vector<double> out;
  out.reserve(a.items.size());
  for (const auto& item : a.items) out.push_back(as_float(*this, key, item));
  return out;
}

std::string GgufFile::get_string_or(const std::string& key, const std::string& def) const {
  return has(key) ? get_string(key) : def;
}
uint64_t GgufFile::get_uint_or(const std::string& key, uint64_t def) const {
  return has(key) ? get_uint(key) : def;
}
double GgufFile::get_float_or(const std::string& key, double def) const {
  return has(key) ? get_float(key) : def;
}
bool GgufFile::get_bool_or(const std::string& key, bool def) const {
  return has(key) ? get_bool(key) : def;
}

}  // namespace tsft
