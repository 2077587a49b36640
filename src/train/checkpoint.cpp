#include "train/checkpoint.h"

#include <algorithm>
#include <charconv>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>

#include "core/error.h"
#include "core/fs_util.h"
#include "io/safetensors.h"
#include "io/safetensors_writer.h"

namespace fs = std::filesystem;

namespace tsft {
namespace {

constexpr const char* kCkptPrefix = "checkpoint-";
constexpr const char* kTmpPrefix = ".checkpoint-";
constexpr const char* kTmpSuffix = ".tmp";

// Parses "checkpoint-<digits>" -> step; -1 for any other name.
int64_t parse_checkpoint_name(const std::string& name) {
  const size_t plen = std::strlen(kCkptPrefix);
  if (name.size() <= plen || name.compare(0, plen, kCkptPrefix) != 0) return -1;
  int64_t step = -1;
  const char* b = name.data() + plen;
  const char* e = name.data() + name.size();
  if (!std::all_of(b, e, [](char c) { return c >= '0' && c <= '9'; })) return -1;
  const auto r = std::from_chars(b, e, step);
  if (r.ec != std::errc() || r.ptr != e) return -1;
  return step;
}

bool has_prefix_suffix(const std::string& name, const char* prefix, const char* suffix) {
  const size_t plen = std::strlen(prefix), slen = std::strlen(suffix);
  return name.size() > plen + slen && name.compare(0, plen, prefix) == 0 &&
         name.compare(name.size() - slen, slen, suffix) == 0;
}

// Leftovers of a killed save: the temp dir, or the previous version moved aside by
// atomic_rename_dir (".old") when the same step was saved twice.
bool is_stale_tmp(const std::string& name) {
  return has_prefix_suffix(name, kTmpPrefix, kTmpSuffix) ||
         has_prefix_suffix(name, kCkptPrefix, ".old");
}

Tensor flat_f32(const float* data, int64_t n) {
  Tensor t;
  t.dtype = DType::kF32;
  t.shape = Shape{n};
  t.data = const_cast<float*>(data);  // only read by the writer
  return t;
}

void write_json_file(const std::string& path, const nlohmann::json& j) {
  {
    std::ofstream f(path, std::ios::binary | std::ios::trunc);
    if (!f) fail(path, ": cannot create: ", std::strerror(errno));
    f << j.dump(2) << '\n';
    f.flush();
    if (!f) fail(path, ": write failed (disk full?)");
  }
  fsync_file(path);
}

// Checks that file holds exactly the tensors in expected (name -> numel), all F32.
void check_tensor_set(const SafetensorsFile& file, const std::map<std::string, int64_t>& expected) {
  for (const auto& [name, numel] : expected) {
    const SafetensorsTensor* t = file.find(name);
    if (t == nullptr) fail(file.path(), ": tensor '", name, "' is missing from the checkpoint");
    if (t->dtype != DType::kF32)
      fail(file.path(), ": tensor '", name, "' is ", dtype_name(t->dtype), ", expected F32");
    if (t->nbytes != static_cast<size_t>(numel) * sizeof(float))
      fail(file.path(), ": tensor '", name, "' has ", t->nbytes / sizeof(float),
           " elements, the model has ", numel,
           " (checkpoint from a different model or LoRA config?)");
  }
  for (const auto& t : file.tensors())
    if (!expected.count(t.name))
      fail(file.path(), ": tensor '", t.name,
           "' is not a trainable parameter of this model "
           "(checkpoint from a different model or LoRA config?)");
}

}  // namespace

std::vector<std::pair<int64_t, std::string>> list_checkpoints(const std::string& output_dir) {
  std::vector<std::pair<int64_t, std::string>> out;
  std::error_code ec;
  if (!fs::is_directory(output_dir, ec)) return out;
  for (const auto& e : fs::directory_iterator(output_dir, ec)) {
    const int64_t step = parse_checkpoint_name(e.path().filename().string());
    if (step >= 0 && e.is_directory(ec)) out.emplace_back(step, e.path().string());
  }
  if (ec) fail(output_dir, ": cannot list the directory: ", ec.message());
  std::sort(out.begin(), out.end());
  return out;
}

std::string latest_checkpoint(const std::string& output_dir) {
  const auto all = list_checkpoints(output_dir);
  return all.empty() ? std::string() : all.back().second;
}

void save_checkpoint(const std::string& output_dir, int64_t step, const ParamList& params,
                     const AdamW& opt, const nlohmann::json& trainer_state, int save_total_limit,
                     const std::function<void(const std::string& tmp_dir)>& extra_files) {
  TSFT_CHECK(step >= 0);
  TSFT_CHECK(opt.num_params() == params.size(), "optimizer built over other params");
  ensure_writable_dir(output_dir);

  // A killed save leaves only a temp dir, which no listing sees; clear them before writing.
  std::error_code ec;
  std::vector<std::string> stale;
  for (const auto& e : fs::directory_iterator(output_dir, ec))
    if (is_stale_tmp(e.path().filename().string())) stale.push_back(e.path().string());
  for (const auto& p : stale) remove_tree(p);

  uint64_t need = 0;
  for (const Param& p : params) need += 3 * static_cast<uint64_t>(p.numel) * sizeof(float);
  check_free_space(output_dir, need + (1u << 20), str("checkpoint-", step));

  const std::string tmp = (fs::path(output_dir) / str(kTmpPrefix, step, kTmpSuffix)).string();
  const std::string final_dir = (fs::path(output_dir) / str(kCkptPrefix, step)).string();
  remove_tree(tmp);
  fs::create_directory(tmp, ec);
  if (ec) fail(tmp, ": cannot create the directory: ", ec.message());
  try {
    std::vector<std::pair<std::string, Tensor>> tensors;
    for (const Param& p : params) tensors.emplace_back(p.name, flat_f32(p.value, p.numel));
    write_safetensors((fs::path(tmp) / kCkptParamsFile).string(), tensors,
                      {{"format", "pt"}, {"tsft.step", std::to_string(step)}});

    tensors.clear();
    for (size_t i = 0; i < opt.num_params(); ++i) {
      const Param& p = opt.param(i);
      TSFT_CHECK(p.name == params[i].name, "optimizer param ", i, " is ", p.name, ", not ",
                 params[i].name);
      tensors.emplace_back("m." + p.name, flat_f32(opt.m(i).data(), p.numel));
      tensors.emplace_back("v." + p.name, flat_f32(opt.v(i).data(), p.numel));
    }
    const AdamWConfig& c = opt.config();
    write_safetensors((fs::path(tmp) / kCkptOptimizerFile).string(), tensors,
                      {{"optimizer", "adamw"},
                       {"step", std::to_string(opt.steps_done())},
                       {"beta1", str(c.beta1)},
                       {"beta2", str(c.beta2)},
                       {"eps", str(c.eps)},
                       {"weight_decay", str(c.weight_decay)}});

    write_json_file((fs::path(tmp) / kCkptStateFile).string(), trainer_state);
    if (extra_files) extra_files(tmp);
    fsync_dir(tmp);
    atomic_rename_dir(tmp, final_dir);
  } catch (...) {
    fs::remove_all(tmp, ec);
    throw;
  }

  if (save_total_limit > 0) {
    auto all = list_checkpoints(output_dir);
    std::erase_if(all, [&](const auto& c) { return c.first == step; });
    const size_t keep_others = static_cast<size_t>(save_total_limit - 1);
    if (all.size() > keep_others) {
      for (size_t i = 0; i < all.size() - keep_others; ++i) remove_tree(all[i].second);
      fsync_dir(output_dir);
    }
  }
}

nlohmann::json load_checkpoint(const std::string& ckpt_dir, const ParamList& params, AdamW& opt) {
  TSFT_CHECK(opt.num_params() == params.size(), "optimizer built over other params");
  std::error_code ec;
  if (!fs::is_directory(ckpt_dir, ec)) fail(ckpt_dir, ": checkpoint directory not found");

  // trainer_state.json
  const std::string state_path = (fs::path(ckpt_dir) / kCkptStateFile).string();
  std::ifstream sf(state_path, std::ios::binary);
  if (!sf) fail(state_path, ": cannot open: ", std::strerror(errno));
  nlohmann::json state = nlohmann::json::parse(sf, nullptr, false);
  if (state.is_discarded()) fail(state_path, ": not valid JSON (corrupt checkpoint?)");

  // params.safetensors
  const SafetensorsFile pfile((fs::path(ckpt_dir) / kCkptParamsFile).string());
  std::map<std::string, int64_t> expected;
  for (const Param& p : params) expected[p.name] = p.numel;
  check_tensor_set(pfile, expected);

  // optimizer.safetensors
  const SafetensorsFile ofile((fs::path(ckpt_dir) / kCkptOptimizerFile).string());
  std::map<std::string, int64_t> expected_opt;
  for (const Param& p : params) {
    expected_opt["m." + p.name] = p.numel;
    expected_opt["v." + p.name] = p.numel;
  }
  check_tensor_set(ofile, expected_opt);
  const auto it = ofile.metadata().find("step");
  if (it == ofile.metadata().end()) fail(ofile.path(), ": __metadata__ has no 'step'");
  int64_t opt_step = -1;
  const std::string& s = it->second;
  const auto r = std::from_chars(s.data(), s.data() + s.size(), opt_step);
  if (r.ec != std::errc() || r.ptr != s.data() + s.size() || opt_step < 0)
    fail(ofile.path(), ": __metadata__ 'step' is not a non-negative integer: '", s, "'");

  // Everything checked: copy.
  for (size_t i = 0; i < params.size(); ++i) {
    const Param& p = params[i];
    const int64_t oi = opt.index_of(p.name);
    TSFT_CHECK(oi >= 0, "param ", p.name, " is not in the optimizer");
    const size_t bytes = static_cast<size_t>(p.numel) * sizeof(float);
    if (bytes == 0) continue;
    std::memcpy(p.value, pfile.find(p.name)->data, bytes);
    std::memcpy(opt.m(oi).data(), ofile.find("m." + p.name)->data, bytes);
    std::memcpy(opt.v(oi).data(), ofile.find("v." + p.name)->data, bytes);
  }
  opt.set_steps_done(opt_step);
  return state;
}

}  // namespace tsft
