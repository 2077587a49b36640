// safetensors reader: files written here (8-byte header length, JSON header, data), single and
// sharded model directories, and every kind of malformed header giving a clear tsft::Error.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/half.h"
#include "io/safetensors.h"

namespace tsft {
namespace {

std::vector<uint8_t> st_bytes(const std::string& header, const std::vector<uint8_t>& data,
                              uint64_t header_len_override = 0) {
  const uint64_t len = header_len_override ? header_len_override : header.size();
  std::vector<uint8_t> out(8 + header.size() + data.size());
  std::memcpy(out.data(), &len, 8);
  std::memcpy(out.data() + 8, header.data(), header.size());
  if (!data.empty()) std::memcpy(out.data() + 8 + header.size(), data.data(), data.size());
  return out;
}

template <typename T>
std::vector<uint8_t> as_bytes(const std::vector<T>& v) {
  std::vector<uint8_t> out(v.size() * sizeof(T));
  std::memcpy(out.data(), v.data(), out.size());
  return out;
}

class SafetensorsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("tsft_st_" + std::to_string(getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string write(const std::vector<uint8_t>& bytes, const std::string& name = "t.safetensors") {
    const std::string p = (dir_ / name).string();
    std::ofstream out(p, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
    return p;
  }
  std::string write_text(const std::string& text, const std::string& name) {
    return write(std::vector<uint8_t>(text.begin(), text.end()), name);
  }

  template <typename Fn>
  void expect_error(Fn fn, const std::string& path, const std::vector<std::string>& words) {
    try {
      fn();
      ADD_FAILURE() << "no error; expected one containing '" << words[0] << "'";
    } catch (const Error& e) {
      const std::string msg = e.what();
      EXPECT_EQ(msg.rfind(path + ": ", 0), 0u) << msg;
      for (const auto& w : words) EXPECT_NE(msg.find(w), std::string::npos) << "expected '" << w << "' in: " << msg;
      EXPECT_EQ(msg.find('\n'), std::string::npos) << msg;
    }
  }
  void expect_file_error(const std::vector<uint8_t>& bytes, const std::vector<std::string>& words) {
    const std::string p = write(bytes);
    expect_error([&] { SafetensorsFile f(p); }, p, words);
  }

  std::filesystem::path dir_;
};

TEST_F(SafetensorsTest, ParsesAllDtypes) {
  std::vector<uint8_t> data;
  auto add = [&](const std::vector<uint8_t>& b) {
    const size_t at = data.size();
    data.insert(data.end(), b.begin(), b.end());
    return "[" + std::to_string(at) + ", " + std::to_string(data.size()) + "]";
  };
  const std::string f32 = add(as_bytes(std::vector<float>{1, 2, 3, 4, 5, 6}));
  const std::string f16 = add(as_bytes(std::vector<uint16_t>{f32_to_f16(1.5f), f32_to_f16(-2)}));
  const std::string bf16 = add(as_bytes(std::vector<uint16_t>{f32_to_bf16(3.0f)}));
  const std::string f64 = add(as_bytes(std::vector<double>{0.25}));
  const std::string i8 = add(as_bytes(std::vector<int8_t>{-1, 2}));
  const std::string i16 = add(as_bytes(std::vector<int16_t>{-300}));
  const std::string i32 = add(as_bytes(std::vector<int32_t>{7}));
  const std::string i64 = add(as_bytes(std::vector<int64_t>{1ll << 40}));
  const std::string header =
      R"({"__metadata__": {"format": "pt", "note": "x"},)"
      R"("w": {"dtype": "F32", "shape": [2, 3], "data_offsets": )" + f32 + "}," +
      R"("h": {"dtype": "F16", "shape": [2], "data_offsets": )" + f16 + "}," +
      R"("b": {"dtype": "BF16", "shape": [1, 1, 1, 1], "data_offsets": )" + bf16 + "}," +
      R"("d": {"dtype": "F64", "shape": [], "data_offsets": )" + f64 + "}," +
      R"("i8": {"dtype": "I8", "shape": [2], "data_offsets": )" + i8 + "}," +
      R"("i16": {"dtype": "I16", "shape": [1], "data_offsets": )" + i16 + "}," +
      R"("i32": {"dtype": "I32", "shape": [1], "data_offsets": )" + i32 + "}," +
      R"("i64": {"dtype": "I64", "shape": [1], "data_offsets": )" + i64 + "}," +
      R"("empty": {"dtype": "F32", "shape": [0, 4], "data_offsets": [)" + std::to_string(data.size()) +
      ", " + std::to_string(data.size()) + "]}}";
  SafetensorsFile f(write(st_bytes(header, data)));
  EXPECT_EQ(f.tensors().size(), 9u);
  EXPECT_EQ(f.metadata().at("format"), "pt");
  EXPECT_EQ(f.metadata().size(), 2u);
  const SafetensorsTensor* w = f.find("w");
  ASSERT_NE(w, nullptr);
  EXPECT_EQ(w->dtype, DType::kF32);
  EXPECT_EQ(w->shape, (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(w->nbytes, 24u);
  const Tensor v = w->view();
  EXPECT_EQ(v.shape, (Shape{2, 3}));
  EXPECT_EQ(v.f32()[5], 6.0f);
  uint16_t h;
  std::memcpy(&h, f.find("h")->data + 2, 2);
  EXPECT_EQ(f16_to_f32(h), -2.0f);
  EXPECT_EQ(f.find("b")->dtype, DType::kBF16);
  EXPECT_EQ(f.find("d")->dtype, DType::kF64);
  EXPECT_EQ(f.find("d")->view().shape.ndim, 0);
  EXPECT_EQ(f.find("i8")->dtype, DType::kI8);
  EXPECT_EQ(f.find("i16")->dtype, DType::kI16);
  EXPECT_EQ(f.find("i32")->dtype, DType::kI32);
  EXPECT_EQ(f.find("i64")->dtype, DType::kI64);
  EXPECT_EQ(f.find("empty")->nbytes, 0u);
  EXPECT_EQ(f.find("nope"), nullptr);
}

TEST_F(SafetensorsTest, UnknownDtypeNamesTensorAndDtype) {
  expect_file_error(st_bytes(R"({"weird": {"dtype": "U8", "shape": [2], "data_offsets": [0, 2]}})", {1, 2}),
                    {"'weird'", "unsupported dtype U8"});
  expect_file_error(st_bytes(R"({"f8": {"dtype": "F8_E4M3", "shape": [1], "data_offsets": [0, 1]}})", {1}),
                    {"'f8'", "F8_E4M3"});
}

TEST_F(SafetensorsTest, BadHeaderLength) {
  const std::string header = R"({"w": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}})";
  expect_file_error(st_bytes(header, {0, 0, 0, 0}, header.size() + 100), {"header length", "exceeds the file size"});
  expect_file_error(st_bytes(header, {}, 1ull << 40), {"header length", "limit"});
  expect_file_error(st_bytes(header, {}, ~0ull), {"header length"});
  expect_file_error({1, 2, 3}, {"truncated"});
  expect_file_error({}, {"truncated"});
}

TEST_F(SafetensorsTest, BadJson) {
  expect_file_error(st_bytes("{not json", {}), {"not valid JSON"});
  expect_file_error(st_bytes("[1, 2]", {}), {"not a JSON object"});
  expect_file_error(st_bytes(R"({"w": 3})", {}), {"'w'", "not a JSON object"});
  expect_file_error(st_bytes(R"({"w": {"shape": [1], "data_offsets": [0, 4]}})", {0, 0, 0, 0}), {"'w'", "dtype"});
  expect_file_error(st_bytes(R"({"w": {"dtype": "F32", "data_offsets": [0, 4]}})", {0, 0, 0, 0}), {"'w'", "shape"});
  expect_file_error(st_bytes(R"({"w": {"dtype": "F32", "shape": [1]}})", {0, 0, 0, 0}), {"'w'", "data_offsets"});
  expect_file_error(st_bytes(R"({"w": {"dtype": "F32", "shape": [-1], "data_offsets": [0, 4]}})", {0, 0, 0, 0}),
                    {"'w'", "non-negative"});
  expect_file_error(st_bytes(R"({"w": {"dtype": "F32", "shape": [1.5], "data_offsets": [0, 4]}})", {0, 0, 0, 0}),
                    {"'w'", "non-negative integers"});
  expect_file_error(st_bytes(R"({"__metadata__": {"a": 1}})", {}), {"__metadata__"});
  expect_file_error(st_bytes(R"({"__metadata__": []})", {}), {"__metadata__"});
}

TEST_F(SafetensorsTest, OffsetsOutOfBoundsOrInconsistent) {
  expect_file_error(st_bytes(R"({"w": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}})", {0, 0, 0, 0}),
                    {"'w'", "out of bounds"});
  expect_file_error(st_bytes(R"({"w": {"dtype": "F32", "shape": [1], "data_offsets": [4, 0]}})", {0, 0, 0, 0}),
                    {"'w'", "out of bounds"});
  expect_file_error(st_bytes(R"({"w": {"dtype": "F32", "shape": [2], "data_offsets": [0, 4]}})", {0, 0, 0, 0}),
                    {"'w'", "span 4 bytes", "needs 8"});
  expect_file_error(
      st_bytes(R"({"w": {"dtype": "F32", "shape": [4294967296, 4294967296], "data_offsets": [0, 4]}})", {0, 0, 0, 0}),
      {"'w'", "overflows"});
  expect_file_error(st_bytes(R"({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},)"
                             R"( "b": {"dtype": "F32", "shape": [1], "data_offsets": [4, 8]}})",
                             std::vector<uint8_t>(8)),
                    {"overlap"});
}

TEST_F(SafetensorsTest, TruncatedAtEveryOffset) {
  const std::string header = R"({"w": {"dtype": "F32", "shape": [2, 2], "data_offsets": [0, 16]}})";
  const auto bytes = st_bytes(header, std::vector<uint8_t>(16, 1));
  for (size_t len = 0; len < bytes.size(); ++len) {
    const std::string p = write(std::vector<uint8_t>(bytes.begin(), bytes.begin() + len));
    try {
      SafetensorsFile f(p);
      ADD_FAILURE() << "truncated file of " << len << " bytes parsed";
    } catch (const Error& e) {
      EXPECT_EQ(std::string(e.what()).rfind(p + ": ", 0), 0u) << e.what();
    }
  }
}

// Writers other than the reference one may leave tensors misaligned (an unpadded header, or an
// I8 tensor before an F32 one): the reader copies those so views are always aligned.
TEST_F(SafetensorsTest, MisalignedTensorsAreAligned) {
  std::vector<uint8_t> data = {7};
  const float vals[2] = {1.25f, -3.5f};
  data.insert(data.end(), reinterpret_cast<const uint8_t*>(vals), reinterpret_cast<const uint8_t*>(vals) + 8);
  const std::string header = R"({"i": {"dtype": "I8", "shape": [1], "data_offsets": [0, 1]},)"
                             R"( "f": {"dtype": "F32", "shape": [2], "data_offsets": [1, 9]}})";
  SafetensorsFile f(write(st_bytes(header, data)));
  const SafetensorsTensor* t = f.find("f");
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(t->data) % alignof(float), 0u);
  EXPECT_EQ(t->view().f32()[0], 1.25f);
  EXPECT_EQ(t->view().f32()[1], -3.5f);
  EXPECT_EQ(static_cast<int8_t>(f.find("i")->data[0]), 7);
}

TEST_F(SafetensorsTest, ViewRejectsMoreThanFourDims) {
  SafetensorsFile f(write(st_bytes(R"({"x": {"dtype": "I8", "shape": [1,1,1,1,2], "data_offsets": [0, 2]}})", {1, 2})));
  ASSERT_EQ(f.tensors().size(), 1u);
  EXPECT_THROW(f.tensors()[0].view(), Error);
}

TEST_F(SafetensorsTest, SingleFileModel) {
  write(st_bytes(R"({"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}})", {0, 0, 128, 63}),
        "model.safetensors");
  SafetensorsModel m(dir_.string());
  EXPECT_EQ(m.names(), std::vector<std::string>{"a"});
  ASSERT_NE(m.find("a"), nullptr);
  EXPECT_EQ(m.find("a")->view().f32()[0], 1.0f);
  EXPECT_EQ(m.find("b"), nullptr);
}

TEST_F(SafetensorsTest, ShardedModel) {
  write(st_bytes(R"({"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]},)"
                 R"( "c": {"dtype": "F32", "shape": [1], "data_offsets": [4, 8]}})",
                 {0, 0, 128, 63, 0, 0, 0, 64}),
        "model-00001-of-00002.safetensors");
  write(st_bytes(R"({"__metadata__": {"format": "pt"}, "b": {"dtype": "BF16", "shape": [1], "data_offsets": [0, 2]}})",
                 {0x40, 0x40}),
        "model-00002-of-00002.safetensors");
  write_text(R"({"metadata": {"total_size": 10}, "weight_map": {)"
             R"("a": "model-00001-of-00002.safetensors", "c": "model-00001-of-00002.safetensors",)"
             R"("b": "model-00002-of-00002.safetensors"}})",
             "model.safetensors.index.json");
  SafetensorsModel m(dir_.string());
  EXPECT_EQ(m.names(), (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(m.find("c")->view().f32()[0], 2.0f);
  EXPECT_EQ(m.find("b")->dtype, DType::kBF16);
  EXPECT_EQ(m.dir(), dir_.string());
}

TEST_F(SafetensorsTest, ShardMissingTensor) {
  write(st_bytes(R"({"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}})", {0, 0, 0, 0}),
        "model-00001-of-00001.safetensors");
  const std::string idx = write_text(
      R"({"weight_map": {"a": "model-00001-of-00001.safetensors", "ghost": "model-00001-of-00001.safetensors"}})",
      "model.safetensors.index.json");
  expect_error([&] { SafetensorsModel m(dir_.string()); }, idx, {"'ghost'", "missing"});
}

TEST_F(SafetensorsTest, BadIndex) {
  const std::string idx = (dir_ / "model.safetensors.index.json").string();
  write_text(R"({"weight_map": {"a": "nowhere.safetensors"}})", "model.safetensors.index.json");
  expect_error([&] { SafetensorsModel m(dir_.string()); }, idx, {"'nowhere.safetensors'", "does not exist"});
  write_text(R"({"weight_map": {"a": "../etc/passwd"}})", "model.safetensors.index.json");
  expect_error([&] { SafetensorsModel m(dir_.string()); }, idx, {"invalid shard"});
  write_text(R"({"nothing": 1})", "model.safetensors.index.json");
  expect_error([&] { SafetensorsModel m(dir_.string()); }, idx, {"weight_map"});
  write_text("{oops", "model.safetensors.index.json");
  expect_error([&] { SafetensorsModel m(dir_.string()); }, idx, {"not valid JSON"});
}

TEST_F(SafetensorsTest, EmptyDirectory) {
  expect_error([&] { SafetensorsModel m(dir_.string()); }, dir_.string(), {"no model.safetensors"});
}

}  // namespace
}  // namespace tsft
