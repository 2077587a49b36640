// safetensors writer round trips through the reader; fs_util's checks and atomic directory
// replacement; checkpoints: bitwise restore, resumed AdamW identical to an uninterrupted one,
// rotation, stale temp dirs, and clear errors for unwritable dirs and mismatched checkpoints.
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cmath>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/fs_util.h"
#include "core/rng.h"
#include "io/safetensors.h"
#include "io/safetensors_writer.h"
#include "train/adamw.h"
#include "train/checkpoint.h"

namespace fs = std::filesystem;

namespace tsft {
namespace {

class CheckpointTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("tsft_ckpt_" + std::to_string(getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }
  fs::path dir_;
};

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

Tensor view(DType dt, Shape shape, void* data) {
  Tensor t;
  t.dtype = dt;
  t.shape = shape;
  t.data = data;
  return t;
}

// A tiny model: two params, gradients that depend on the step and the weights.
struct Toy {
  std::vector<float> w, gw, b, gb;
  ParamList params;
  explicit Toy(int n = 37) : w(n), gw(n), b(5), gb(5) {
    for (int i = 0; i < n; ++i) w[i] = std::sin(0.3f * i);
    for (int i = 0; i < 5; ++i) b[i] = 0.1f * i;
    params = {{"model.w", w.data(), gw.data(), n, true},
              {"model.b", b.data(), gb.data(), 5, false}};
  }
  void make_grads(int step) {
    for (size_t i = 0; i < w.size(); ++i) gw[i] = std::cos(0.7f * i + step) * w[i] + 0.01f;
    for (size_t i = 0; i < b.size(); ++i) gb[i] = 0.2f * b[i] - 0.05f * step;
  }
};

AdamWConfig toy_config() {
  AdamWConfig c;
  c.weight_decay = 0.1;
  return c;
}

TEST_F(CheckpointTest, SafetensorsRoundTripAllDtypes) {
  std::vector<float> f32 = {1.5f, -2.0f, 3.25f, 0.0f, 7.0f, -8.5f};
  std::vector<uint16_t> f16 = {0x3c00, 0xc000, 0x7bff};
  std::vector<uint16_t> bf16 = {0x3f80, 0xbf80};
  std::vector<int32_t> i32 = {1, -2, 1 << 30};
  std::vector<int64_t> i64 = {int64_t{1} << 40, -3};
  const std::string p = path("t.safetensors");
  write_safetensors(p,
                    {{"a.f16", view(DType::kF16, {3}, f16.data())},
                     {"b.f32", view(DType::kF32, {2, 3}, f32.data())},
                     {"c.bf16", view(DType::kBF16, {1, 2}, bf16.data())},
                     {"d.i32", view(DType::kI32, {3}, i32.data())},
                     {"e.i64", view(DType::kI64, {2}, i64.data())},
                     {"f.empty", view(DType::kF32, {0}, nullptr)}},
                    {{"format", "pt"}, {"note", "quote \" and \\ ok"}});
  // Header length is a multiple of 8 and padded with spaces.
  std::ifstream in(p, std::ios::binary);
  uint64_t hlen = 0;
  in.read(reinterpret_cast<char*>(&hlen), 8);
  EXPECT_EQ(hlen % 8, 0u);
  std::string header(hlen, '\0');
  in.read(header.data(), static_cast<std::streamsize>(hlen));
  EXPECT_EQ(header.front(), '{');
  // Widest types first keeps every tensor aligned to its element size in the file.
  const nlohmann::json hj = nlohmann::json::parse(header);
  for (auto it = hj.begin(); it != hj.end(); ++it) {
    if (it.key() == "__metadata__" || it.key() == "f.empty") continue;  // empty: no bytes to align
    const std::string dt = it.value()["dtype"];
    const uint64_t width = dt == "I64" ? 8 : dt == "F32" || dt == "I32" ? 4 : 2;
    EXPECT_EQ(it.value()["data_offsets"][0].get<uint64_t>() % width, 0u) << it.key();
  }

  SafetensorsFile f(p);
  EXPECT_EQ(f.tensors().size(), 6u);
  EXPECT_EQ(f.metadata().at("format"), "pt");
  EXPECT_EQ(f.metadata().at("note"), "quote \" and \\ ok");
  auto check = [&](const char* name, DType dt, std::vector<int64_t> shape, const void* data,
                   size_t bytes) {
    const SafetensorsTensor* t = f.find(name);
    ASSERT_NE(t, nullptr) << name;
    EXPECT_EQ(t->dtype, dt) << name;
    EXPECT_EQ(t->shape, shape) << name;
    ASSERT_EQ(t->nbytes, bytes) << name;
    if (bytes == 0) return;
    EXPECT_EQ(std::memcmp(t->data, data, bytes), 0) << name;
  };
  check("a.f16", DType::kF16, {3}, f16.data(), 6);
  check("b.f32", DType::kF32, {2, 3}, f32.data(), 24);
  check("c.bf16", DType::kBF16, {1, 2}, bf16.data(), 4);
  check("d.i32", DType::kI32, {3}, i32.data(), 12);
  check("e.i64", DType::kI64, {2}, i64.data(), 16);
  check("f.empty", DType::kF32, {0}, nullptr, 0);
  // No temp file left behind.
  int files = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(dir_)) ++files;
  EXPECT_EQ(files, 1);
}

TEST_F(CheckpointTest, SafetensorsWriterErrors) {
  std::vector<float> x = {1.0f};
  // Cannot create: the parent is a regular file (fails for root too).
  std::ofstream(path("file")) << "x";
  const std::string bad = path("file") + "/t.safetensors";
  std::string msg = error_of([&] {
    write_safetensors(bad, {{"x", view(DType::kF32, {1}, x.data())}});
  });
  EXPECT_NE(msg.find(bad), std::string::npos) << msg;
  EXPECT_NE(msg.find("Not a directory"), std::string::npos) << msg;
  msg = error_of([&] {
    write_safetensors(path("d.safetensors"), {{"x", view(DType::kF32, {1}, x.data())},
                                              {"x", view(DType::kF32, {1}, x.data())}});
  });
  EXPECT_NE(msg.find("given twice"), std::string::npos) << msg;
  msg = error_of([&] {
    write_safetensors(path("q.safetensors"), {{"q", view(DType::kQ8_0, {32}, x.data())}});
  });
  EXPECT_NE(msg.find("Q8_0"), std::string::npos) << msg;
  EXPECT_FALSE(fs::exists(path("d.safetensors")));
}

// Makes writes past limit bytes fail with EFBIG (as a full disk fails with ENOSPC) for its
// lifetime.
class FileSizeLimit {
 public:
  explicit FileSizeLimit(rlim_t limit) {
    old_handler_ = std::signal(SIGXFSZ, SIG_IGN);
    getrlimit(RLIMIT_FSIZE, &old_);
    rlimit r = old_;
    r.rlim_cur = limit;
    setrlimit(RLIMIT_FSIZE, &r);
  }
  ~FileSizeLimit() {
    setrlimit(RLIMIT_FSIZE, &old_);
    std::signal(SIGXFSZ, old_handler_);
  }

 private:
  rlimit old_{};
  void (*old_handler_)(int) = nullptr;
};

TEST_F(CheckpointTest, WriteFailureRemovesTempFile) {
  std::vector<float> big(1 << 18, 1.0f);  // 1 MiB
  const std::string p = path("big.safetensors");
  std::string msg;
  {
    FileSizeLimit limit(64 << 10);
    msg = error_of([&] {
      write_safetensors(p, {{"big", view(DType::kF32, {1 << 18}, big.data())}});
    });
  }
  EXPECT_NE(msg.find(p + ": write failed: File too large"), std::string::npos) << msg;
  EXPECT_TRUE(fs::is_empty(dir_)) << "temp file left behind";

  // The same failure inside a checkpoint leaves neither the checkpoint nor its temp dir.
  std::vector<float> g(big.size());
  ParamList params = {{"big", big.data(), g.data(), static_cast<int64_t>(big.size()), true}};
  AdamW opt(params);
  {
    FileSizeLimit limit(64 << 10);
    msg = error_of([&] { save_checkpoint(path("out"), 1, params, opt, {}, 0); });
  }
  EXPECT_NE(msg.find("params.safetensors: write failed"), std::string::npos) << msg;
  EXPECT_TRUE(fs::is_empty(path("out")));
}

TEST_F(CheckpointTest, FsUtil) {
  const std::string nested = path("a/b/c");
  ensure_writable_dir(nested);
  EXPECT_TRUE(fs::is_directory(nested));
  EXPECT_TRUE(fs::is_empty(nested));  // the probe file is gone
  EXPECT_GT(free_bytes(nested), 0u);
  check_free_space(nested, 1, "a byte");
  const std::string msg =
      error_of([&] { check_free_space(nested, uint64_t{1} << 62, "the model"); });
  EXPECT_NE(msg.find("not enough space in " + nested + " for the model: need 4398046511104 MiB, "),
            std::string::npos)
      << msg;
  std::ofstream(path("plain")) << "x";
  EXPECT_NE(error_of([&] { ensure_writable_dir(path("plain") + "/sub"); }).find(path("plain")),
            std::string::npos);
  EXPECT_NE(error_of([&] { ensure_writable_dir(path("plain")); }).find("not a directory"),
            std::string::npos);

  // atomic_rename_dir replaces an existing directory.
  fs::create_directories(path("final"));
  std::ofstream(path("final/old.txt")) << "old";
  fs::create_directories(path("tmp"));
  std::ofstream(path("tmp/new.txt")) << "new";
  atomic_rename_dir(path("tmp"), path("final"));
  EXPECT_TRUE(fs::exists(path("final/new.txt")));
  EXPECT_FALSE(fs::exists(path("final/old.txt")));
  EXPECT_FALSE(fs::exists(path("tmp")));
  EXPECT_FALSE(fs::exists(path("final.old")));
  fsync_dir(path("final"));
  remove_tree(path("final"));
  remove_tree(path("final"));  // missing is fine
  EXPECT_FALSE(fs::exists(path("final")));
}

TEST_F(CheckpointTest, SaveModifyLoadIsBitwise) {
  Toy toy;
  AdamW opt(toy.params, toy_config());
  for (int s = 0; s < 3; ++s) {
    toy.make_grads(s);
    opt.step(1e-2f);
  }
  const auto w0 = toy.w, b0 = toy.b, m0 = opt.m(0), v1 = opt.v(1);
  Rng rng(42);
  rng.next_u64();
  const auto rs = rng.state();
  nlohmann::json state = {
      {"step", 3}, {"epoch", 0.5}, {"rng", rs}, {"metrics", {{{"loss", 1.25}}}}};
  bool extra_called = false;
  save_checkpoint(dir_.string(), 3, toy.params, opt, state, 0, [&](const std::string& tmp) {
    extra_called = true;
    EXPECT_NE(tmp.find(".checkpoint-3.tmp"), std::string::npos);
    std::ofstream(fs::path(tmp) / "adapter_config.json") << "{}";
  });
  EXPECT_TRUE(extra_called);
  const std::string ck = path("checkpoint-3");
  EXPECT_TRUE(fs::exists(fs::path(ck) / "params.safetensors"));
  EXPECT_TRUE(fs::exists(fs::path(ck) / "optimizer.safetensors"));
  EXPECT_TRUE(fs::exists(fs::path(ck) / "trainer_state.json"));
  EXPECT_TRUE(fs::exists(fs::path(ck) / "adapter_config.json"));
  EXPECT_FALSE(fs::exists(path(".checkpoint-3.tmp")));

  // Disturb everything, then restore.
  for (int s = 0; s < 2; ++s) {
    toy.make_grads(10 + s);
    opt.step(1e-1f);
  }
  AdamW fresh(toy.params, toy_config());
  const nlohmann::json back = load_checkpoint(ck, toy.params, fresh);
  EXPECT_EQ(back, state);
  EXPECT_EQ((back["rng"].get<std::array<uint64_t, 4>>()), rs);
  EXPECT_EQ(std::memcmp(toy.w.data(), w0.data(), w0.size() * 4), 0);
  EXPECT_EQ(std::memcmp(toy.b.data(), b0.data(), b0.size() * 4), 0);
  EXPECT_EQ(fresh.m(0), m0);
  EXPECT_EQ(fresh.v(1), v1);
  EXPECT_EQ(fresh.steps_done(), 3);
  Rng r2;
  r2.set_state(back["rng"].get<std::array<uint64_t, 4>>());
  EXPECT_EQ(r2.next_u64(), rng.next_u64());
}

TEST_F(CheckpointTest, ResumedAdamWIsBitIdentical) {
  Toy straight;
  AdamW opt_a(straight.params, toy_config());
  for (int s = 0; s < 6; ++s) {
    straight.make_grads(s);
    opt_a.step(1e-2f * (s + 1));
  }

  Toy first;
  AdamW opt_b(first.params, toy_config());
  for (int s = 0; s < 3; ++s) {
    first.make_grads(s);
    opt_b.step(1e-2f * (s + 1));
  }
  save_checkpoint(dir_.string(), 3, first.params, opt_b, {{"step", 3}}, 0);

  Toy resumed;  // a new process: fresh weights and optimizer
  AdamW opt_c(resumed.params, toy_config());
  load_checkpoint(latest_checkpoint(dir_.string()), resumed.params, opt_c);
  for (int s = 3; s < 6; ++s) {
    resumed.make_grads(s);
    opt_c.step(1e-2f * (s + 1));
  }
  EXPECT_EQ(std::memcmp(resumed.w.data(), straight.w.data(), straight.w.size() * 4), 0);
  EXPECT_EQ(std::memcmp(resumed.b.data(), straight.b.data(), straight.b.size() * 4), 0);
  EXPECT_EQ(opt_c.m(0), opt_a.m(0));
  EXPECT_EQ(opt_c.v(0), opt_a.v(0));
  EXPECT_EQ(opt_c.steps_done(), 6);
}

TEST_F(CheckpointTest, RotationAndListing) {
  Toy toy;
  AdamW opt(toy.params);
  EXPECT_TRUE(list_checkpoints(dir_.string()).empty());
  EXPECT_EQ(latest_checkpoint(path("missing")), "");
  for (int step : {10, 20, 30, 40})
    save_checkpoint(dir_.string(), step, toy.params, opt, {{"step", step}}, 2);
  auto all = list_checkpoints(dir_.string());
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].first, 30);
  EXPECT_EQ(all[1].first, 40);
  EXPECT_EQ(latest_checkpoint(dir_.string()), path("checkpoint-40"));
  // Numeric, not lexicographic, order; unrelated names ignored.
  fs::create_directories(path("checkpoint-100"));
  fs::create_directories(path("checkpoint-x"));
  std::ofstream(path("checkpoint-7")) << "a file, not a checkpoint";
  all = list_checkpoints(dir_.string());
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all.back().first, 100);
  fs::remove_all(path("checkpoint-100"));

  // Saving an older step (a resume from an earlier checkpoint) never deletes what was just saved.
  save_checkpoint(dir_.string(), 5, toy.params, opt, {{"step", 5}}, 1);
  all = list_checkpoints(dir_.string());
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].first, 5);
  // Same step twice replaces it.
  save_checkpoint(dir_.string(), 5, toy.params, opt, {{"step", 55}}, 0);
  AdamW o2(toy.params);
  EXPECT_EQ(load_checkpoint(path("checkpoint-5"), toy.params, o2)["step"], 55);
  EXPECT_FALSE(fs::exists(path("checkpoint-5.old")));
}

TEST_F(CheckpointTest, StaleTempDirIgnoredAndCleaned) {
  Toy toy;
  AdamW opt(toy.params);
  fs::create_directories(path(".checkpoint-50.tmp"));
  std::ofstream(path(".checkpoint-50.tmp/params.safetensors")) << "half written";
  EXPECT_TRUE(list_checkpoints(dir_.string()).empty());
  EXPECT_EQ(latest_checkpoint(dir_.string()), "");
  save_checkpoint(dir_.string(), 60, toy.params, opt, {{"step", 60}}, 0);
  EXPECT_FALSE(fs::exists(path(".checkpoint-50.tmp")));
  EXPECT_EQ(latest_checkpoint(dir_.string()), path("checkpoint-60"));
}

TEST_F(CheckpointTest, ExtraFilesFailureLeavesNoCheckpoint) {
  Toy toy;
  AdamW opt(toy.params);
  EXPECT_THROW(save_checkpoint(dir_.string(), 9, toy.params, opt, {}, 0,
                               [](const std::string&) { fail("export failed"); }),
               Error);
  EXPECT_FALSE(fs::exists(path("checkpoint-9")));
  EXPECT_FALSE(fs::exists(path(".checkpoint-9.tmp")));
}

TEST_F(CheckpointTest, UnwritableOutputDirIsClearError) {
  Toy toy;
  AdamW opt(toy.params);
  std::ofstream(path("regular_file")) << "x";
  const std::string out = path("regular_file") + "/run";  // fails even for root
  const std::string msg = error_of([&] { save_checkpoint(out, 1, toy.params, opt, {}, 0); });
  EXPECT_NE(msg.find(out), std::string::npos) << msg;
  EXPECT_NE(msg.find("cannot create"), std::string::npos) << msg;
}

TEST_F(CheckpointTest, MismatchesNameFileAndTensor) {
  Toy toy;
  AdamW opt(toy.params);
  save_checkpoint(dir_.string(), 1, toy.params, opt, {{"step", 1}}, 0);
  const std::string ck = path("checkpoint-1");
  const std::string params_file = ck + "/params.safetensors";
  const std::string opt_file = ck + "/optimizer.safetensors";

  // Wrong size.
  Toy bigger(40);
  AdamW ob(bigger.params);
  std::string msg = error_of([&] { load_checkpoint(ck, bigger.params, ob); });
  EXPECT_NE(msg.find(params_file), std::string::npos) << msg;
  EXPECT_NE(msg.find("'model.w'"), std::string::npos) << msg;
  EXPECT_NE(msg.find("37"), std::string::npos) << msg;
  EXPECT_EQ(bigger.w[0], std::sin(0.0f));  // nothing was written on failure

  // Missing tensor.
  std::vector<float> extra(3), gextra(3);
  ParamList more = toy.params;
  more.push_back({"model.extra", extra.data(), gextra.data(), 3, true});
  AdamW om(more);
  msg = error_of([&] { load_checkpoint(ck, more, om); });
  EXPECT_NE(msg.find(params_file), std::string::npos) << msg;
  EXPECT_NE(msg.find("'model.extra' is missing"), std::string::npos) << msg;

  // Unknown extra tensor.
  ParamList fewer = {toy.params[0]};
  AdamW of(fewer);
  msg = error_of([&] { load_checkpoint(ck, fewer, of); });
  EXPECT_NE(msg.find("'model.b' is not a trainable parameter"), std::string::npos) << msg;

  // Optimizer file missing a moment.
  std::vector<float> m(37);
  write_safetensors(opt_file, {{"m.model.w", view(DType::kF32, {37}, m.data())}}, {{"step", "1"}});
  AdamW o2(toy.params);
  msg = error_of([&] { load_checkpoint(ck, toy.params, o2); });
  EXPECT_NE(msg.find(opt_file), std::string::npos) << msg;
  EXPECT_NE(msg.find("'m.model.b'"), std::string::npos) << msg;

  // Corrupt files.
  std::ofstream(opt_file, std::ios::trunc) << "garbage";
  msg = error_of([&] { load_checkpoint(ck, toy.params, o2); });
  EXPECT_NE(msg.find(opt_file), std::string::npos) << msg;
  std::ofstream(ck + "/trainer_state.json", std::ios::trunc) << "{\"step\": ";
  msg = error_of([&] { load_checkpoint(ck, toy.params, o2); });
  EXPECT_NE(msg.find("trainer_state.json"), std::string::npos) << msg;
  fs::remove(params_file);
  std::ofstream(ck + "/trainer_state.json", std::ios::trunc) << "{}";
  msg = error_of([&] { load_checkpoint(ck, toy.params, o2); });
  EXPECT_NE(msg.find(params_file), std::string::npos) << msg;
  EXPECT_NE(error_of([&] { load_checkpoint(path("nope"), toy.params, o2); }).find("nope"),
            std::string::npos);
}

}  // namespace
}  // namespace tsft
