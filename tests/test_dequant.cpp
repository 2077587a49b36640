// Dequantization: bit-exact against gguf-py's numpy output (tests/data/quant/goldens.bin, written
// by tools/make_quant_goldens.py), and the fast path bit-identical to the scalar reference.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <vector>

#include "backend/cpu/dequant.h"
#include "core/dtype.h"
#include "core/half.h"
#include "io/gguf.h"
#include "test_util.h"

namespace tsft {
namespace {

struct GoldenRecord {
  DType dtype;
  int64_t n;
  std::vector<uint8_t> raw;
  std::vector<float> expected;
};

std::vector<GoldenRecord> load_goldens() {
  const std::string path = std::string(TSFT_TEST_DATA_DIR) + "/quant/goldens.bin";
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in) << "missing " << path << " (run tools/make_quant_goldens.py)";
  std::vector<uint8_t> buf((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  size_t pos = 0;
  auto u32 = [&]() {
    uint32_t v = 0;
    if (pos + 4 > buf.size()) throw std::runtime_error("goldens.bin truncated");
    std::memcpy(&v, buf.data() + pos, 4);
    pos += 4;
    return v;
  };
  std::vector<GoldenRecord> out;
  if (buf.size() < 12 || std::memcmp(buf.data(), "TSQG", 4) != 0) return out;
  pos = 4;
  EXPECT_EQ(u32(), 1u);
  const uint32_t n_records = u32();
  for (uint32_t r = 0; r < n_records; ++r) {
    GoldenRecord rec;
    rec.dtype = static_cast<DType>(u32());
    rec.n = u32();
    const uint32_t n_bytes = u32();
    if (pos + n_bytes + rec.n * 4 > buf.size()) throw std::runtime_error("goldens.bin truncated");
    rec.raw.assign(buf.begin() + pos, buf.begin() + pos + n_bytes);
    pos += n_bytes;
    rec.expected.resize(rec.n);
    std::memcpy(rec.expected.data(), buf.data() + pos, rec.n * 4);
    pos += rec.n * 4;
    out.push_back(std::move(rec));
  }
  EXPECT_EQ(pos, buf.size());
  return out;
}

// Index of the first float whose bits differ, or -1: NaNs compare by their bits too.
int64_t first_mismatch(const float* a, const float* b, int64_t n) {
  for (int64_t i = 0; i < n; ++i)
    if (std::memcmp(a + i, b + i, 4) != 0) return i;
  return -1;
}

TEST(Dequant, GoldensBitExact) {
  const auto recs = load_goldens();
  ASSERT_EQ(recs.size(), 12u);
  for (const auto& rec : recs) {
    SCOPED_TRACE(std::string(dtype_name(rec.dtype)));
    ASSERT_EQ(dtype_bytes(rec.dtype, rec.n), rec.raw.size());
    std::vector<float> ref(rec.n), fast(rec.n);
    dequantize_row_ref(rec.dtype, rec.raw.data(), ref.data(), rec.n);
    dequantize_row(rec.dtype, rec.raw.data(), fast.data(), rec.n);
    const int64_t i = first_mismatch(ref.data(), rec.expected.data(), rec.n);
    EXPECT_EQ(i, -1) << "ref differs at " << i << ": " << ref[i < 0 ? 0 : i] << " vs "
                     << rec.expected[i < 0 ? 0 : i];
    EXPECT_EQ(std::memcmp(fast.data(), rec.expected.data(), rec.n * 4), 0);
  }
}

// Covers every type present in the goldens, so a new type added to dequant needs a golden too.
TEST(Dequant, GoldensCoverEveryType) {
  const auto recs = load_goldens();
  for (DType t : {DType::kF32, DType::kF16, DType::kBF16, DType::kQ4_0, DType::kQ4_1, DType::kQ8_0,
                  DType::kQ4_K, DType::kQ5_K, DType::kQ6_K}) {
    bool found = false;
    for (const auto& r : recs) found |= r.dtype == t;
    EXPECT_TRUE(found) << dtype_name(t);
  }
}

// Fully random bytes (any scale, NaN and inf included): fast and reference must agree bit for bit.
TEST(Dequant, FastEqualsReferenceOnRandomBytes) {
  std::mt19937_64 rng(42);
  for (DType t : {DType::kF32, DType::kF16, DType::kBF16, DType::kQ4_0, DType::kQ4_1, DType::kQ8_0,
                  DType::kQ4_K, DType::kQ5_K, DType::kQ6_K}) {
    SCOPED_TRACE(std::string(dtype_name(t)));
    const int64_t n = 256 * 37;
    std::vector<uint8_t> raw(dtype_bytes(t, n) + 1);
    for (auto& b : raw) b = static_cast<uint8_t>(rng());
    // Misaligned source: GGUF blocks of 18/20/34 bytes are never aligned.
    std::vector<float> ref(n), fast(n);
    dequantize_row_ref(t, raw.data() + 1, ref.data(), n);
    dequantize_row(t, raw.data() + 1, fast.data(), n);
    EXPECT_EQ(first_mismatch(ref.data(), fast.data(), n), -1);
  }
}

// Every half value converts exactly as numpy does (checked against the goldens' specials above);
// here: the conversion is monotonic and round-trips, which catches a broken table or shift.
TEST(Dequant, F16AllValuesRoundTrip) {
  std::vector<uint16_t> all(65536);
  for (int i = 0; i < 65536; ++i) all[i] = static_cast<uint16_t>(i);
  std::vector<float> ref(65536), fast(65536);
  dequantize_row_ref(DType::kF16, all.data(), ref.data(), 65536);
  dequantize_row(DType::kF16, all.data(), fast.data(), 65536);
  EXPECT_EQ(first_mismatch(ref.data(), fast.data(), 65536), -1);
  for (int i = 0; i < 65536; ++i) {
    if (ref[i] != ref[i]) continue;  // NaN
    EXPECT_EQ(f32_to_f16(ref[i]), all[i]) << i;
  }
}

TEST(Dequant, DefaultModelTensors) {
  const std::string path = tsft::testing::default_model_path();
  if (!std::ifstream(path)) GTEST_SKIP() << "model file not present: " << path;
  GgufFile f(path);
  int checked = 0;
  for (const auto& t : f.tensors()) {
    // One row of every tensor (the first row: full tensors would make the test slow for nothing).
    const int64_t n = t.ne[0];
    std::vector<float> ref(n), fast(n);
    dequantize_row_ref(t.dtype, t.data, ref.data(), n);
    dequantize_row(t.dtype, t.data, fast.data(), n);
    ASSERT_EQ(first_mismatch(ref.data(), fast.data(), n), -1) << t.name;
    for (float v : ref) ASSERT_TRUE(std::isfinite(v)) << t.name;
    ++checked;
  }
  EXPECT_EQ(checked, 272);
  // The whole embedding, fast against reference.
  const GgufTensorInfo* emb = f.find_tensor("token_embd.weight");
  ASSERT_NE(emb, nullptr);
  const int64_t n = emb->ne[0] * emb->ne[1];
  std::vector<float> ref(n), fast(n);
  dequantize_row_ref(emb->dtype, emb->data, ref.data(), n);
  dequantize_row(emb->dtype, emb->data, fast.data(), n);
  EXPECT_EQ(first_mismatch(ref.data(), fast.data(), n), -1);
}

// End to end: our GGUF reader + dequantizer against gguf-py reading the real model file
// (tests/data/quant/model_rows.bin, written by tools/make_quant_goldens.py).
TEST(Dequant, DefaultModelRowsMatchGgufPy) {
  const std::string path = tsft::testing::default_model_path();
  if (!std::ifstream(path)) GTEST_SKIP() << "model file not present: " << path;
  std::ifstream in(std::string(TSFT_TEST_DATA_DIR) + "/quant/model_rows.bin", std::ios::binary);
  ASSERT_TRUE(in) << "missing model_rows.bin (run tools/make_quant_goldens.py)";
  std::vector<uint8_t> buf((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  size_t pos = 0;
  auto u32 = [&]() {
    uint32_t v = 0;
    EXPECT_LE(pos + 4, buf.size());
    if (pos + 4 <= buf.size()) std::memcpy(&v, buf.data() + pos, 4);
    pos += 4;
    return v;
  };
  GgufFile f(path);
  const uint32_t n_rows = u32();
  ASSERT_EQ(n_rows, 5u);
  for (uint32_t r = 0; r < n_rows; ++r) {
    const uint32_t name_len = u32();
    ASSERT_LE(pos + name_len, buf.size());
    const std::string name(reinterpret_cast<const char*>(buf.data() + pos), name_len);
    pos += name_len;
    const uint32_t row = u32();
    const uint32_t n = u32();
    ASSERT_LE(pos + 4ull * n, buf.size());
    SCOPED_TRACE(name);
    const GgufTensorInfo* t = f.find_tensor(name);
    ASSERT_NE(t, nullptr);
    ASSERT_EQ(n, t->ne[0]);
    const size_t row_bytes = dtype_bytes(t->dtype, n);
    std::vector<float> ref(n), fast(n);
    dequantize_row_ref(t->dtype, t->data + row * row_bytes, ref.data(), n);
    dequantize_row(t->dtype, t->data + row * row_bytes, fast.data(), n);
    EXPECT_EQ(std::memcmp(ref.data(), buf.data() + pos, 4ull * n), 0);
    EXPECT_EQ(std::memcmp(fast.data(), buf.data() + pos, 4ull * n), 0);
    pos += 4ull * n;
  }
  EXPECT_EQ(pos, buf.size());
}

}  // namespace
}  // namespace tsft
