// GGUF reader: a tiny in-test writer builds valid and broken files; every broken one must give a
// tsft::Error naming the file and the problem. Also parses the default model file.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <functional>
#include <fstream>
#include <string>
#include <vector>

#include "backend/cpu/dequant.h"
#include "core/error.h"
#include "core/half.h"
#include "io/gguf.h"
#include "test_util.h"

namespace tsft {
namespace {

// Little-endian GGUF byte builder. Positions of fields are returned so tests can corrupt them.
struct Builder {
  std::vector<uint8_t> b;

  template <typename T>
  size_t put(T v) {
    const size_t at = b.size();
    b.resize(at + sizeof(T));
    std::memcpy(b.data() + at, &v, sizeof(T));
    return at;
  }
  size_t str(const std::string& s) {
    const size_t at = put<uint64_t>(s.size());
    b.insert(b.end(), s.begin(), s.end());
    return at;
  }
  template <typename T>
  void patch(size_t at, T v) {
    std::memcpy(b.data() + at, &v, sizeof(T));
  }
  void pad_to(size_t align) {
    while (b.size() % align) b.push_back(0);
  }
};

struct TensorSpec {
  std::string name;
  uint32_t type;
  std::vector<int64_t> ne;
  uint64_t offset;
};

// Writes header, metadata written by `kvs`, tensor infos and `data_bytes` of data.
struct GgufSpec {
  uint32_t version = 3;
  size_t alignment = 32;
  std::vector<TensorSpec> tensors;
  size_t data_bytes = 0;
  // Each writes one key-value; the count is taken from the vector's size.
  std::vector<std::function<void(Builder&)>> kvs;
  // Field positions, filled by build().
  size_t pos_n_tensors = 0, pos_n_kv = 0, pos_first_tensor_type = 0, pos_data = 0;

  std::vector<uint8_t> build() {
    Builder w;
    w.put<uint32_t>(0x46554747);
    w.put<uint32_t>(version);
    pos_n_tensors = w.put<uint64_t>(tensors.size());
    pos_n_kv = w.put<uint64_t>(kvs.size());
    for (auto& kv : kvs) kv(w);
    for (size_t i = 0; i < tensors.size(); ++i) {
      const auto& t = tensors[i];
      w.str(t.name);
      w.put<uint32_t>(static_cast<uint32_t>(t.ne.size()));
      for (int64_t n : t.ne) w.put<int64_t>(n);
      const size_t at = w.put<uint32_t>(t.type);
      if (i == 0) pos_first_tensor_type = at;
      w.put<uint64_t>(t.offset);
    }
    w.pad_to(alignment);
    pos_data = w.b.size();
    for (size_t i = 0; i < data_bytes; ++i) w.b.push_back(static_cast<uint8_t>(i * 7 + 1));
    return w.b;
  }
};

std::function<void(Builder&)> kv_u32(const std::string& k, uint32_t v) {
  return [=](Builder& w) { w.str(k); w.put<uint32_t>(4); w.put<uint32_t>(v); };
}
std::function<void(Builder&)> kv_str(const std::string& k, const std::string& v) {
  return [=](Builder& w) { w.str(k); w.put<uint32_t>(8); w.str(v); };
}

class GgufTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("tsft_gguf_" + std::to_string(getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string write(const std::vector<uint8_t>& bytes, const std::string& name = "t.gguf") {
    const std::string p = (dir_ / name).string();
    std::ofstream out(p, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
    return p;
  }

  // Expects GgufFile(bytes) to fail with a message that starts with the path and contains `word`.
  void expect_error(const std::vector<uint8_t>& bytes, const std::string& word) {
    const std::string p = write(bytes);
    try {
      GgufFile f(p);
      ADD_FAILURE() << "no error; expected one containing '" << word << "'";
    } catch (const Error& e) {
      const std::string msg = e.what();
      EXPECT_EQ(msg.rfind(p + ": ", 0), 0u) << msg;
      EXPECT_NE(msg.find(word), std::string::npos) << "expected '" << word << "' in: " << msg;
      EXPECT_EQ(msg.find('\n'), std::string::npos) << msg;
    }
  }

  // A valid file: every value type, a nested array, an F32 (2x3 -> ne {3, 2}) and a Q8_0 tensor.
  static GgufSpec valid_spec() {
    GgufSpec s;
    s.kvs.push_back(kv_str("general.architecture", "llama"));
    s.kvs.push_back([](Builder& w) { w.str("u8"); w.put<uint32_t>(0); w.put<uint8_t>(200); });
    s.kvs.push_back([](Builder& w) { w.str("i8"); w.put<uint32_t>(1); w.put<int8_t>(-3); });
    s.kvs.push_back([](Builder& w) { w.str("u16"); w.put<uint32_t>(2); w.put<uint16_t>(60000); });
    s.kvs.push_back([](Builder& w) { w.str("i16"); w.put<uint32_t>(3); w.put<int16_t>(-300); });
    s.kvs.push_back(kv_u32("u32", 123456));
    s.kvs.push_back([](Builder& w) { w.str("i32"); w.put<uint32_t>(5); w.put<int32_t>(-70000); });
    s.kvs.push_back([](Builder& w) { w.str("f32"); w.put<uint32_t>(6); w.put<float>(0.5f); });
    s.kvs.push_back([](Builder& w) { w.str("bool"); w.put<uint32_t>(7); w.put<uint8_t>(1); });
    s.kvs.push_back([](Builder& w) { w.str("u64"); w.put<uint32_t>(10); w.put<uint64_t>(1ull << 40); });
    s.kvs.push_back([](Builder& w) { w.str("i64"); w.put<uint32_t>(11); w.put<int64_t>(-5); });
    s.kvs.push_back([](Builder& w) { w.str("f64"); w.put<uint32_t>(12); w.put<double>(2.25); });
    s.kvs.push_back([](Builder& w) {
      w.str("tokens"); w.put<uint32_t>(9); w.put<uint32_t>(8); w.put<uint64_t>(3);
      w.str("a"); w.str(""); w.str("<|im_end|>");
    });
    s.kvs.push_back([](Builder& w) {
      w.str("ids"); w.put<uint32_t>(9); w.put<uint32_t>(5); w.put<uint64_t>(2);
      w.put<int32_t>(7); w.put<int32_t>(-1);
    });
    s.kvs.push_back([](Builder& w) {  // [[1, 2], [3]] as arrays of u8
      w.str("nested"); w.put<uint32_t>(9); w.put<uint32_t>(9); w.put<uint64_t>(2);
      w.put<uint32_t>(0); w.put<uint64_t>(2); w.put<uint8_t>(1); w.put<uint8_t>(2);
      w.put<uint32_t>(0); w.put<uint64_t>(1); w.put<uint8_t>(3);
    });
    s.tensors.push_back({"w.f32", 0, {3, 2}, 0});    // 24 bytes
    s.tensors.push_back({"w.q8", 8, {64, 1}, 32});   // 2 blocks of 34 bytes
    s.data_bytes = 32 + 68;
    return s;
  }

  std::filesystem::path dir_;
};

TEST_F(GgufTest, ParsesEveryValueType) {
  GgufSpec s = valid_spec();
  auto bytes = s.build();
  // Real values in the F32 tensor, and a Q8_0 block with d = 0.5.
  for (int i = 0; i < 6; ++i) {
    const float v = static_cast<float>(i) - 1.5f;
    std::memcpy(bytes.data() + s.pos_data + 4 * i, &v, 4);
  }
  const uint16_t half = f32_to_f16(0.5f);
  std::memcpy(bytes.data() + s.pos_data + 32, &half, 2);
  const std::string p = write(bytes);
  GgufFile f(p);
  EXPECT_EQ(f.version(), 3u);
  EXPECT_EQ(f.alignment(), 32u);
  EXPECT_EQ(f.keys().size(), 15u);
  EXPECT_EQ(f.keys()[0], "general.architecture");
  EXPECT_EQ(f.get_string("general.architecture"), "llama");
  EXPECT_EQ(f.get_uint("u8"), 200u);
  EXPECT_EQ(f.get_int("i8"), -3);
  EXPECT_EQ(f.get_uint("u16"), 60000u);
  EXPECT_EQ(f.get_int("i16"), -300);
  EXPECT_EQ(f.get_uint("u32"), 123456u);
  EXPECT_EQ(f.get_int("i32"), -70000);
  EXPECT_EQ(f.get_float("f32"), 0.5);
  EXPECT_TRUE(f.get_bool("bool"));
  EXPECT_EQ(f.get_uint("u64"), 1ull << 40);
  EXPECT_EQ(f.get_int("i64"), -5);
  EXPECT_EQ(f.get_float("f64"), 2.25);
  EXPECT_EQ(f.get_float("u32"), 123456.0);
  EXPECT_EQ(f.get_string_array("tokens"), (std::vector<std::string>{"a", "", "<|im_end|>"}));
  EXPECT_EQ(f.get_int_array("ids"), (std::vector<int64_t>{7, -1}));
  EXPECT_EQ(f.get_float_array("ids"), (std::vector<double>{7, -1}));
  const GgufValue* nested = f.find("nested");
  ASSERT_NE(nested, nullptr);
  const auto& outer = std::get<std::shared_ptr<GgufArray>>(nested->v);
  ASSERT_EQ(outer->elem_type, GgufValueType::kArray);
  ASSERT_EQ(outer->items.size(), 2u);
  const auto& inner1 = std::get<std::shared_ptr<GgufArray>>(outer->items[1].v);
  ASSERT_EQ(inner1->items.size(), 1u);
  EXPECT_EQ(std::get<uint64_t>(inner1->items[0].v), 3u);
  EXPECT_EQ(f.get_string_or("absent", "x"), "x");
  EXPECT_EQ(f.get_uint_or("absent", 9), 9u);
  EXPECT_EQ(f.get_uint_or("u8", 9), 200u);
  EXPECT_EQ(f.get_bool_or("absent", false), false);
  EXPECT_EQ(f.get_float_or("absent", 1.5), 1.5);

  ASSERT_EQ(f.tensors().size(), 2u);
  const GgufTensorInfo* t = f.find_tensor("w.f32");
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(t->ne, (std::vector<int64_t>{3, 2}));
  EXPECT_EQ(t->nbytes, 24u);
  const Tensor v = t->view();
  EXPECT_EQ(v.shape, (Shape{2, 3}));  // PyTorch order
  EXPECT_EQ(v.f32()[5], 3.5f);
  const GgufTensorInfo* q = f.find_tensor("w.q8");
  ASSERT_NE(q, nullptr);
  EXPECT_EQ(q->dtype, DType::kQ8_0);
  EXPECT_EQ(q->nbytes, 68u);
  EXPECT_EQ(q->data, t->data + 32);
  float out[64];
  dequantize_row(q->dtype, q->data, out, 64);
  EXPECT_EQ(out[0], 0.5f * static_cast<float>(static_cast<int8_t>(bytes[s.pos_data + 34])));
  EXPECT_EQ(f.find_tensor("nope"), nullptr);
}

TEST_F(GgufTest, GetterErrorsNameKeyAndType) {
  const std::string p = write(valid_spec().build());
  GgufFile f(p);
  auto expect = [&](auto fn, const std::string& word) {
    try {
      fn();
      ADD_FAILURE() << "no error, expected " << word;
    } catch (const Error& e) {
      const std::string msg = e.what();
      EXPECT_EQ(msg.rfind(p + ": ", 0), 0u) << msg;
      EXPECT_NE(msg.find(word), std::string::npos) << msg;
    }
  };
  expect([&] { f.get_string("absent"); }, "'absent' missing");
  expect([&] { f.get_string("u8"); }, "has type u8, expected string");
  expect([&] { f.get_uint("i8"); }, "non-negative");
  expect([&] { f.get_bool("u8"); }, "expected bool");
  expect([&] { f.get_int("general.architecture"); }, "has type string");
  expect([&] { f.get_string_array("ids"); }, "array of i32");
  expect([&] { f.get_int_array("tokens"); }, "array of string");
  expect([&] { f.get_float("tokens"); }, "expected a number");
}

TEST_F(GgufTest, TruncatedAtEveryOffset) {
  const auto bytes = valid_spec().build();
  for (size_t len = 0; len < bytes.size(); ++len) {
    SCOPED_TRACE(len);
    std::vector<uint8_t> cut(bytes.begin(), bytes.begin() + len);
    const std::string p = write(cut);
    try {
      GgufFile f(p);
      ADD_FAILURE() << "truncated file of " << len << " bytes parsed";
    } catch (const Error& e) {
      const std::string msg = e.what();
      EXPECT_EQ(msg.rfind(p + ": ", 0), 0u) << msg;
      // Truncation shows as a short read, or as a count or data range the file cannot hold.
      EXPECT_TRUE(msg.find("truncated") != std::string::npos ||
                  msg.find("exceeds the file size") != std::string::npos)
          << msg;
    }
  }
}

TEST_F(GgufTest, WrongMagic) {
  auto bytes = valid_spec().build();
  bytes[0] = 'X';
  expect_error(bytes, "magic");
}

TEST_F(GgufTest, Version1Rejected) {
  GgufSpec s = valid_spec();
  s.version = 1;
  expect_error(s.build(), "version 1 is not supported");
}

TEST_F(GgufTest, UnknownVersion) {
  GgufSpec s = valid_spec();
  s.version = 4;
  expect_error(s.build(), "unsupported GGUF version 4");
  s.version = 0x03000000;  // a big-endian v3 file
  expect_error(s.build(), "big-endian");
}

TEST_F(GgufTest, Version2Accepted) {
  GgufSpec s = valid_spec();
  s.version = 2;
  GgufFile f(write(s.build()));
  EXPECT_EQ(f.version(), 2u);
}

TEST_F(GgufTest, TensorDataOutOfBounds) {
  GgufSpec s = valid_spec();
  s.data_bytes = 32 + 67;  // one byte short
  expect_error(s.build(), "out of bounds");
  s = valid_spec();
  s.tensors[1].offset = 1ull << 62;
  expect_error(s.build(), "out of bounds");
}

TEST_F(GgufTest, UnknownTensorType) {
  GgufSpec s = valid_spec();
  s.tensors[0].type = 99;
  expect_error(s.build(), "unknown or unsupported tensor type 99");
  s.tensors[0].type = 6;  // Q5_0: a real GGML type we do not support
  expect_error(s.build(), "tensor type 6");
}

TEST_F(GgufTest, UnknownValueType) {
  GgufSpec s = valid_spec();
  s.kvs.push_back([](Builder& w) { w.str("bad"); w.put<uint32_t>(13); w.put<uint32_t>(0); });
  expect_error(s.build(), "unknown value type 13");
  s = valid_spec();  // inside an array
  s.kvs.push_back([](Builder& w) { w.str("bad"); w.put<uint32_t>(9); w.put<uint32_t>(77); w.put<uint64_t>(1); });
  expect_error(s.build(), "unknown value type 77");
}

TEST_F(GgufTest, HugeCounts) {
  GgufSpec s = valid_spec();
  auto bytes = s.build();
  auto b2 = bytes;
  const uint64_t big = 1ull << 62;
  std::memcpy(b2.data() + s.pos_n_kv, &big, 8);
  expect_error(b2, "metadata count");
  b2 = bytes;
  const uint64_t huge = ~0ull;
  std::memcpy(b2.data() + s.pos_n_tensors, &huge, 8);
  expect_error(b2, "tensor count");
  s = valid_spec();
  s.kvs.push_back([](Builder& w) { w.str("arr"); w.put<uint32_t>(9); w.put<uint32_t>(6); w.put<uint64_t>(1ull << 61); });
  expect_error(s.build(), "array count");
  s = valid_spec();
  s.kvs.push_back([](Builder& w) { w.str("s"); w.put<uint32_t>(8); w.put<uint64_t>(~0ull); });
  expect_error(s.build(), "string length");
  s = valid_spec();
  s.tensors[0].ne = {1ll << 40, 1ll << 40};
  expect_error(s.build(), "overflows");
}

TEST_F(GgufTest, BadShapes) {
  GgufSpec s = valid_spec();
  s.tensors[1].ne = {48, 1};  // Q8_0 rows must be multiples of 32
  expect_error(s.build(), "block size");
  s = valid_spec();
  s.tensors[0].ne = {3, 0};
  expect_error(s.build(), "dimension 0");
  s.tensors[0].ne = {3, -2};
  expect_error(s.build(), "dimension -2");
  s.tensors[0].ne = {};
  expect_error(s.build(), "0 dimensions");
  s.tensors[0].ne = {1, 1, 1, 1, 3};
  expect_error(s.build(), "5 dimensions");
}

TEST_F(GgufTest, DuplicateAndOverlappingTensors) {
  GgufSpec s = valid_spec();
  s.tensors[1].name = "w.f32";
  expect_error(s.build(), "duplicate tensor name");
  s = valid_spec();
  s.tensors[0].ne = {16, 2};  // 128 bytes: runs into w.q8 at 32
  s.data_bytes = 256;
  expect_error(s.build(), "overlap");
  s = valid_spec();
  s.kvs.push_back(kv_u32("u32", 1));
  expect_error(s.build(), "duplicate metadata key");
}

TEST_F(GgufTest, Alignment) {
  GgufSpec s = valid_spec();
  s.tensors[1].offset = 40;  // not a multiple of 32
  s.data_bytes = 200;
  expect_error(s.build(), "alignment");
  s = valid_spec();
  s.kvs.push_back(kv_u32("general.alignment", 24));
  expect_error(s.build(), "power of two");
  s = valid_spec();
  s.kvs.push_back(kv_str("general.alignment", "x"));
  expect_error(s.build(), "general.alignment has type string");
  // A custom alignment moves the data section.
  s = valid_spec();
  s.alignment = 64;
  s.kvs.push_back(kv_u32("general.alignment", 64));
  s.tensors[1].offset = 64;
  s.data_bytes = 64 + 68;
  const auto bytes = s.build();
  GgufFile f(write(bytes));
  EXPECT_EQ(f.alignment(), 64u);
  EXPECT_EQ(f.tensors()[1].data - f.tensors()[0].data, 64);
  EXPECT_EQ(f.tensors()[0].data[0], bytes[s.pos_data]);
  EXPECT_EQ(s.pos_data % 64, 0u);
}

// general.alignment 1 is legal, and can leave an F32 tensor at an odd address: the reader copies
// it so the view can be read as floats.
TEST_F(GgufTest, SmallAlignmentGivesAlignedViews) {
  GgufSpec s = valid_spec();
  s.alignment = 1;
  s.kvs.push_back(kv_u32("general.alignment", 1));
  s.tensors[0].offset = 1;   // 24 bytes at 1..25
  s.tensors[1].offset = 27;  // Q8_0 blocks are read bytewise: stays in the mapping
  s.data_bytes = 27 + 68;
  auto bytes = s.build();
  const float v = 42.5f;
  std::memcpy(bytes.data() + s.pos_data + 1 + 4, &v, 4);
  GgufFile f(write(bytes));
  const GgufTensorInfo* t = f.find_tensor("w.f32");
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(t->data) % alignof(float), 0u);
  EXPECT_EQ(t->view().f32()[1], 42.5f);
  EXPECT_EQ(f.find_tensor("w.q8")->data[2], bytes[s.pos_data + 27 + 2]);
}

TEST_F(GgufTest, BadBoolAndDeepNesting) {
  GgufSpec s = valid_spec();
  s.kvs.push_back([](Builder& w) { w.str("b2"); w.put<uint32_t>(7); w.put<uint8_t>(5); });
  expect_error(s.build(), "bool value 5");
  s = valid_spec();
  s.kvs.push_back([](Builder& w) {
    w.str("deep"); w.put<uint32_t>(9);
    for (int i = 0; i < 40; ++i) { w.put<uint32_t>(9); w.put<uint64_t>(1); }
    w.put<uint32_t>(0); w.put<uint64_t>(0);
  });
  expect_error(s.build(), "nested deeper");
}

TEST_F(GgufTest, MissingFile) {
  const std::string p = (dir_ / "absent.gguf").string();
  try {
    GgufFile f(p);
    ADD_FAILURE();
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()).rfind(p, 0), 0u) << e.what();
  }
}

TEST(GgufModel, DefaultModelParses) {
  const std::string path = tsft::testing::default_model_path();
  if (!std::ifstream(path)) GTEST_SKIP() << "model file not present: " << path;
  GgufFile f(path);
  EXPECT_EQ(f.version(), 3u);
  EXPECT_EQ(f.tensors().size(), 272u);
  EXPECT_EQ(f.get_string("general.architecture"), "llama");
  EXPECT_EQ(f.get_string_array("tokenizer.ggml.tokens").size(), 49152u);
  EXPECT_EQ(f.get_uint("llama.embedding_length"), 576u);
  EXPECT_EQ(f.get_uint("llama.block_count"), 30u);
  EXPECT_GT(f.get_float("llama.rope.freq_base"), 0.0);
  EXPECT_FALSE(f.get_string("tokenizer.chat_template").empty());
  const GgufTensorInfo* emb = f.find_tensor("token_embd.weight");
  ASSERT_NE(emb, nullptr);
  EXPECT_EQ(emb->dtype, DType::kQ8_0);
  EXPECT_EQ(emb->ne, (std::vector<int64_t>{576, 49152}));
  EXPECT_EQ(emb->view().shape, (Shape{49152, 576}));
  EXPECT_EQ(emb->nbytes, 49152u * 576 / 32 * 34);
  int n_q41 = 0, n_f32 = 0;
  for (const auto& t : f.tensors()) {
    n_q41 += t.dtype == DType::kQ4_1;
    n_f32 += t.dtype == DType::kF32;
  }
  EXPECT_EQ(n_q41, 210);
  EXPECT_EQ(n_f32, 61);
}

}  // namespace
}  // namespace tsft
