#include "io/safetensors_writer.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <nlohmann/json.hpp>
#include <set>

#include "core/error.h"
#include "core/fs_util.h"

namespace tsft {
namespace {

const char* st_dtype_name(DType t) {
  switch (t) {
    case DType::kF32:
      return "F32";
    case DType::kF16:
      return "F16";
    case DType::kBF16:
      return "BF16";
    case DType::kF64:
      return "F64";
    case DType::kI8:
      return "I8";
    case DType::kI16:
      return "I16";
    case DType::kI32:
      return "I32";
    case DType::kI64:
      return "I64";
    default:
      return nullptr;
  }
}

// Owns the temp file until commit(): on any failure the destructor closes and unlinks it.
class TempFile {
 public:
  explicit TempFile(const std::string& final_path) : final_(final_path) {
    std::string templ = final_path + ".tmp.XXXXXX";
    fd_ = ::mkstemp(templ.data());
    if (fd_ < 0) fail(final_path, ": cannot create a file there: ", std::strerror(errno));
    path_ = templ;
    ::fchmod(fd_, 0644);  // mkstemp gives 0600; these are ordinary output files
  }
  ~TempFile() {
    if (fd_ >= 0) ::close(fd_);
    if (!path_.empty()) ::unlink(path_.c_str());
  }
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;

  void write(const void* p, size_t n) {
    const auto* b = static_cast<const uint8_t*>(p);
    while (n > 0) {
      const ssize_t w = ::write(fd_, b, std::min<size_t>(n, size_t{1} << 30));
      if (w < 0) {
        if (errno == EINTR) continue;
        fail(final_, ": write failed: ", std::strerror(errno));
      }
      b += w;
      n -= static_cast<size_t>(w);
    }
  }

  void commit() {
    if (::fsync(fd_) != 0) fail(final_, ": fsync failed: ", std::strerror(errno));
    const int rc = ::close(fd_);
    fd_ = -1;
    if (rc != 0) fail(final_, ": close failed: ", std::strerror(errno));
    if (::rename(path_.c_str(), final_.c_str()) != 0)
      fail(final_, ": cannot rename the written file into place: ", std::strerror(errno));
    path_.clear();
    fsync_dir(parent_dir(final_));
  }

 private:
  std::string final_;
  std::string path_;
  int fd_ = -1;
};

}  // namespace

void write_safetensors(const std::string& path,
                       const std::vector<std::pair<std::string, Tensor>>& tensors,
                       const std::map<std::string, std::string>& metadata) {
  std::set<std::string> names;
  for (const auto& [name, t] : tensors) {
    if (name.empty() || name == "__metadata__") fail(path, ": invalid tensor name '", name, "'");
    if (!names.insert(name).second) fail(path, ": tensor '", name, "' is given twice");
    if (st_dtype_name(t.dtype) == nullptr)
      fail(path, ": tensor '", name, "': dtype ", dtype_name(t.dtype),
           " cannot be saved to safetensors");
    if (t.numel() > 0 && t.data == nullptr) fail(path, ": tensor '", name, "' has no data");
  }

  // Widest element first (then by name, as the reference writer does): with the 8-aligned header
  // every tensor then starts at a multiple of its element size. Empty tensors go last, at the end
  // offset, so that none shares its start with a non-empty one (our reader would call that
  // overlap).
  std::vector<const std::pair<std::string, Tensor>*> order;
  for (const auto& e : tensors) order.push_back(&e);
  std::stable_sort(order.begin(), order.end(), [](auto* a, auto* b) {
    const bool ea0 = a->second.numel() == 0, eb0 = b->second.numel() == 0;
    if (ea0 != eb0) return eb0;
    const int64_t ea = dtype_info(a->second.dtype).block_bytes;
    const int64_t eb = dtype_info(b->second.dtype).block_bytes;
    if (ea != eb) return ea > eb;
    return a->first < b->first;
  });

  nlohmann::json header = nlohmann::json::object();
  if (!metadata.empty()) {
    nlohmann::json meta = nlohmann::json::object();
    for (const auto& [k, v] : metadata) meta[k] = v;
    header["__metadata__"] = meta;
  }
  uint64_t offset = 0;
  for (const auto* e : order) {
    const Tensor& t = e->second;
    nlohmann::json shape = nlohmann::json::array();
    for (int i = 0; i < t.shape.ndim; ++i) shape.push_back(t.shape.dims[i]);
    const uint64_t n = t.nbytes();
    header[e->first] = {{"dtype", st_dtype_name(t.dtype)},
                        {"shape", shape},
                        {"data_offsets", {offset, offset + n}}};
    offset += n;
  }
  std::string hjson = header.dump();
  hjson.append((8 - hjson.size() % 8) % 8, ' ');
  const uint64_t hlen = hjson.size();  // little-endian on every host we build for

  check_free_space(parent_dir(path), 8 + hlen + offset, path);
  TempFile f(path);
  f.write(&hlen, 8);
  f.write(hjson.data(), hjson.size());
  for (const auto* e : order) f.write(e->second.data, e->second.nbytes());
  f.commit();
}

}  // namespace tsft
