// The CUDA backend's ops (src/backend/cuda) against the CPU scalar references (src/backend/cpu,
// train/adamw), forward and backward, on random inputs of several shapes, including sizes that are
// not multiples of the kernels' tiles (8 rows and 32 keys in attention, 4096 vocabulary entries
// and 1024 rows in the LM head, 32 columns in the RMSNorm weight gradient, 256 threads elsewhere).
// Each case states its tolerance: the largest difference relative to the largest magnitude of the
// reference (rel_diff), or bitwise equality where the GPU does the same float operations in the
// same order as the reference (embedding backward, dequantization, the bf16 weight copy).
//
// Without a CUDA device (cudaGetDeviceCount fails or reports 0 devices) every test here calls
// GTEST_SKIP() with "no CUDA device: this CUDA op test did not run and is not counted as passed":
// gtest then reports it SKIPPED, not PASSED, and the CUDA numbers stay unverified on that machine.
// The test binary is built only when CMake enables the CUDA backend (TOOLSFT_CUDA).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "backend/cpu/attention.h"
#include "backend/cpu/attention_train.h"
#include "backend/cpu/cross_entropy.h"
#include "backend/cpu/dequant.h"
#include "backend/cpu/embedding.h"
#include "backend/cpu/matmul.h"
#include "backend/cpu/rmsnorm.h"
#include "backend/cpu/rope.h"
#include "backend/cpu/swiglu.h"
#include "backend/cuda/adamw.h"
#include "backend/cuda/attention.h"
#include "backend/cuda/context.h"
#include "backend/cuda/cross_entropy.h"
#include "backend/cuda/dequant.h"
#include "backend/cuda/embedding.h"
#include "backend/cuda/matmul.h"
#include "backend/cuda/memory.h"
#include "backend/cuda/rmsnorm.h"
#include "backend/cuda/rope.h"
#include "backend/cuda/swiglu.h"
#include "core/dtype.h"
#include "core/error.h"
#include "core/half.h"
#include "test_util.h"
#include "train/adamw.h"

namespace tsft {
namespace {

constexpr const char* kNoDevice =
    "no CUDA device: this CUDA op test did not run and is not counted as passed";

template <typename T>
using Buf = cuda::DeviceBuffer<T>;

// ---------------------------------------------------------------- helpers

using testing::bitwise_equal;
using testing::rand_ids;
using testing::randn;
using testing::rel_diff;

std::vector<uint16_t> to_bf16(const std::vector<float>& x) {
  std::vector<uint16_t> out(x.size());
  for (size_t i = 0; i < x.size(); ++i) out[i] = f32_to_bf16(x[i]);
  return out;
}
std::vector<float> from_bf16(const std::vector<uint16_t>& x) {
  std::vector<float> out(x.size());
  for (size_t i = 0; i < x.size(); ++i) out[i] = bf16_to_f32(x[i]);
  return out;
}

// Every test runs on device 0 with its own Context, or skips when there is no device.
class CudaOps : public ::testing::Test {
 protected:
  void SetUp() override {
    const cuda::DeviceStatus st = cuda::device_status();
    if (st.count == 0) GTEST_SKIP() << kNoDevice << " (" << st.reason << ")";
    ctx_ = std::make_unique<cuda::Context>(0);
  }
  const cuda::Context& ctx() const { return *ctx_; }
  template <typename T>
  Buf<T> up(const std::vector<T>& host) const {
    return Buf<T>::upload_sync(host, *ctx_);
  }
  template <typename T>
  std::vector<T> down(const Buf<T>& b) const {
    return b.download_sync(*ctx_);
  }

 private:
  std::unique_ptr<cuda::Context> ctx_;
};

// ---------------------------------------------------------------- context, memory, errors

TEST_F(CudaOps, FailuresNameTheOp) {
  // An allocation no device has: the message names what asked for it.
  const std::string msg = [&] {
    try {
      cuda::device_alloc(size_t{1} << 60, "rmsnorm_forward");
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("(no error)");
  }();
  EXPECT_EQ(msg.rfind("cuda: rmsnorm_forward: ", 0), 0u) << msg;
  // A head dimension the attention kernels do not take is refused before any launch.
  Buf<float> x(16);
  Buf<int32_t> st(2);
  const std::string attn = [&] {
    try {
      cuda::attention_train_forward(x.data(), x.data(), x.data(), x.data(), x.data(), st.data(), 1,
                                    1, 1, 1, 256, ctx());
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("(no error)");
  }();
  EXPECT_EQ(attn.rfind("cuda: attention_train_forward: head_dim 256", 0), 0u) << attn;
  // Types that are not weights are named.
  const std::string deq = [&] {
    try {
      cuda::dequantize(x.data(), x.data(), DType::kI32, 4, ctx());
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("(no error)");
  }();
  EXPECT_EQ(deq, "cuda: dequantize: cannot dequantize type I32 on the GPU");
}

TEST_F(CudaOps, Bf16ConversionRoundsToNearestEven) {
  // Exactly representable, halfway cases both ways, and ordinary values.
  std::vector<float> x = randn(1001, 1);
  x.push_back(1.0f + 1.0f / 256.0f);  // halfway, rounds down to even
  x.push_back(1.0f + 3.0f / 256.0f);  // halfway, rounds up to even
  auto bx = up(x);
  Buf<uint16_t> b(x.size());
  Buf<float> back(x.size());
  cuda::convert_f32_to_bf16(b.data(), bx.data(), static_cast<int64_t>(x.size()), ctx());
  cuda::convert_bf16_to_f32(back.data(), b.data(), static_cast<int64_t>(x.size()), ctx());
  EXPECT_EQ(down(b), to_bf16(x));  // bitwise, as core/half.h rounds
  EXPECT_TRUE(bitwise_equal(down(back), from_bf16(to_bf16(x))));
}

// ---------------------------------------------------------------- matmul

// Shapes (M, K, N), several not multiples of any GEMM tile.
const int64_t kMatmulShapes[][3] = {{1, 7, 5}, {3, 17, 33}, {37, 129, 65}, {64, 576, 192},
                                    {130, 64, 1}};

// float32 SGEMM (no TF32) against the double-accumulating reference: within 2e-5 relative.
TEST_F(CudaOps, MatmulFloat32ForwardBackward) {
  for (const auto& s : kMatmulShapes) {
    const int64_t M = s[0], K = s[1], N = s[2];
    for (bool with_bias : {false, true}) {
      const std::string what = "M=" + std::to_string(M) + " K=" + std::to_string(K) +
                               " N=" + std::to_string(N) + " bias=" + std::to_string(with_bias);
      auto x = randn(M * K, 1), w = randn(N * K, 2), b = randn(N, 3), dy = randn(M * N, 4);
      std::vector<float> y_ref(M * N);
      matmul_forward_ref(y_ref.data(), x.data(), w.data(), with_bias ? b.data() : nullptr, M, K, N);
      auto x_ = up(x), w_ = up(w), bias_ = up(b), dy_ = up(dy);
      Buf<float> y_(M * N);
      cuda::matmul_forward(y_.data(), x_.data(), w_.data(), with_bias ? bias_.data() : nullptr, M,
                           K, N, ctx());
      EXPECT_LT(rel_diff(down(y_), y_ref), 2e-5) << what;

      // Backward: dinp overwritten (starts as garbage), dweight and dbias accumulated.
      std::vector<float> dx_ref(M * K, 7.0f), dw_ref = randn(N * K, 5), dbias_ref = randn(N, 6);
      auto dx_g = up(std::vector<float>(M * K, -7.0f)), dw_g = up(dw_ref), dbias_g = up(dbias_ref);
      matmul_backward_ref(dx_ref.data(), dw_ref.data(), with_bias ? dbias_ref.data() : nullptr,
                          dy.data(), x.data(), w.data(), M, K, N);
      cuda::matmul_backward(dx_g.data(), dw_g.data(), with_bias ? dbias_g.data() : nullptr,
                            dy_.data(), x_.data(), w_.data(), M, K, N, ctx());
      EXPECT_LT(rel_diff(down(dx_g), dx_ref), 2e-5) << what;
      EXPECT_LT(rel_diff(down(dw_g), dw_ref), 2e-5) << what;
      EXPECT_LT(rel_diff(down(dbias_g), dbias_ref), 2e-5) << what;
    }
  }
}

// bfloat16 operands, float32 accumulation: compared with the reference run on the same
// bf16-rounded values, so only the summation differs (tensor-core accumulation order): 1e-4.
TEST_F(CudaOps, MatmulBf16ForwardBackward) {
  for (const auto& s : kMatmulShapes) {
    const int64_t M = s[0], K = s[1], N = s[2];
    const std::string what =
        "M=" + std::to_string(M) + " K=" + std::to_string(K) + " N=" + std::to_string(N);
    const auto xb = to_bf16(randn(M * K, 11)), wb = to_bf16(randn(N * K, 12)),
               dyb = to_bf16(randn(M * N, 13));
    const auto x = from_bf16(xb), w = from_bf16(wb), dy = from_bf16(dyb);
    const auto bias = randn(N, 14);
    std::vector<float> y_ref(M * N);
    matmul_forward_ref(y_ref.data(), x.data(), w.data(), bias.data(), M, K, N);
    auto x_ = up(xb), w_ = up(wb), dy_ = up(dyb);
    auto bias_ = up(bias);
    Buf<float> y_(M * N);
    cuda::matmul_forward_bf16(y_.data(), x_.data(), w_.data(), bias_.data(), M, K, N, ctx());
    EXPECT_LT(rel_diff(down(y_), y_ref), 1e-4) << what;

    std::vector<float> dx_ref(M * K), dw_ref = randn(N * K, 15);
    auto dx_g = up(std::vector<float>(M * K, 3.0f)), dw_g = up(dw_ref);
    matmul_backward_ref(dx_ref.data(), dw_ref.data(), nullptr, dy.data(), x.data(), w.data(), M, K,
                        N);
    cuda::matmul_backward_bf16(dx_g.data(), dw_g.data(), dy_.data(), x_.data(), w_.data(), M, K, N,
                               ctx());
    EXPECT_LT(rel_diff(down(dx_g), dx_ref), 1e-4) << what;
    EXPECT_LT(rel_diff(down(dw_g), dw_ref), 1e-4) << what;
  }
}

// ---------------------------------------------------------------- embedding

// Forward copies rows (bitwise); backward adds each id's rows in token order like the reference,
// so it is bitwise equal to it, with many repeated ids (V small) and odd widths.
TEST_F(CudaOps, EmbeddingForwardBackwardBitwise) {
  const int64_t cases[][3] = {{1, 1, 3}, {7, 7, 5}, {300, 3, 9}, {1500, 64, 40}, {33, 300, 1000}};
  for (const auto& c : cases) {
    const int64_t T = c[0], C = c[1], V = c[2];
    const std::string what =
        "T=" + std::to_string(T) + " C=" + std::to_string(C) + " V=" + std::to_string(V);
    const auto table = randn(V * C, 20), dout = randn(T * C, 21);
    const auto ids = rand_ids(T, static_cast<int32_t>(V), 22);
    std::vector<float> out_ref(T * C);
    embedding_forward(out_ref.data(), ids.data(), table.data(), T, C);
    auto table_ = up(table), dout_ = up(dout);
    auto ids_ = up(ids);
    Buf<float> out_(T * C);
    cuda::embedding_forward(out_.data(), ids_.data(), table_.data(), T, C, ctx());
    EXPECT_TRUE(bitwise_equal(down(out_), out_ref)) << what;

    auto dtable_ref = randn(V * C, 23);
    auto dtable_ = up(dtable_ref);
    embedding_backward_ref(dtable_ref.data(), ids.data(), dout.data(), T, C);
    cuda::embedding_backward(dtable_.data(), ids_.data(), dout_.data(), T, C, ctx());
    EXPECT_TRUE(bitwise_equal(down(dtable_), dtable_ref)) << what;
  }
}

// ---------------------------------------------------------------- RMSNorm

// Forward (out, rstd) and backward (dinp accumulated onto garbage, dweight accumulated, and the
// frozen-weight case) against the double references: within 1e-5 relative.
TEST_F(CudaOps, RmsNormForwardBackward) {
  const int64_t cases[][2] = {{1, 1}, {5, 7}, {67, 64}, {3, 576}, {9, 1000}, {130, 33}};
  for (const auto& c : cases) {
    const int64_t rows = c[0], C = c[1];
    const std::string what = "rows=" + std::to_string(rows) + " C=" + std::to_string(C);
    const auto x = randn(rows * C, 30, 3.0f), w = randn(C, 31), dy = randn(rows * C, 32);
    std::vector<float> y_ref(rows * C), rstd_ref(rows);
    rmsnorm_forward_train_ref(y_ref.data(), rstd_ref.data(), x.data(), w.data(), 1e-5f, rows, C);
    auto x_ = up(x), w_ = up(w), dy_ = up(dy);
    Buf<float> y_(rows * C), rstd_(rows);
    cuda::rmsnorm_forward(y_.data(), rstd_.data(), x_.data(), w_.data(), 1e-5f, rows, C, ctx());
    EXPECT_LT(rel_diff(down(y_), y_ref), 1e-5) << what;
    EXPECT_LT(rel_diff(down(rstd_), rstd_ref), 1e-5) << what;
    // Without rstd, and in place, the same bits.
    auto inplace = up(x);
    cuda::rmsnorm_forward(inplace.data(), nullptr, inplace.data(), w_.data(), 1e-5f, rows, C,
                          ctx());
    EXPECT_TRUE(bitwise_equal(down(inplace), down(y_))) << what;

    auto dx_ref = randn(rows * C, 33), dw_ref = randn(C, 34);
    auto dx_ = up(dx_ref), dw_ = up(dw_ref);
    rmsnorm_backward_ref(dx_ref.data(), dw_ref.data(), dy.data(), x.data(), w.data(),
                         rstd_ref.data(), rows, C);
    cuda::rmsnorm_backward(dx_.data(), dw_.data(), dy_.data(), x_.data(), w_.data(), rstd_.data(),
                           rows, C, ctx());
    EXPECT_LT(rel_diff(down(dx_), dx_ref), 1e-5) << what;
    EXPECT_LT(rel_diff(down(dw_), dw_ref), 1e-5) << what;
    cuda::rmsnorm_backward(dx_.data(), nullptr, dy_.data(), x_.data(), w_.data(), rstd_.data(),
                           rows, C, ctx());  // frozen weight: dinp only
    ctx().synchronize("rmsnorm_backward");
  }
}

// ---------------------------------------------------------------- RoPE

// Tables within 1e-6 absolute of the CPU's (angles up to ~300 rad, CUDA cosf/sinf within 2 ulp);
// rotation forward within 2e-5 of the reference (as the CPU's own test), backward within 1e-5 of
// rope_backward_ref on the same tables; backward undoes forward.
TEST_F(CudaOps, RopeForwardBackward) {
  for (int64_t D : {2, 16, 64, 128, 6}) {
    for (int64_t T : {1, 9, 257}) {
      const int64_t H = 3;
      const std::string what = "D=" + std::to_string(D) + " T=" + std::to_string(T);
      std::vector<int32_t> pos(T);
      for (int64_t t = 0; t < T; ++t) pos[t] = static_cast<int32_t>((t * 37 + 5) % 4096);
      RopeScaling rs;
      rs.type = RopeScaling::Type::kLlama3;
      rs.factor = 8.0f;
      rs.original_max_position = 64.0f;
      std::vector<float> inv(D / 2), cs(T * D / 2), sn(T * D / 2);
      rope_inv_freq(inv.data(), D, 10000.0f, rs);
      rope_cos_sin(cs.data(), sn.data(), pos.data(), inv.data(), T, D);
      auto pos_ = up(pos);
      auto inv_ = up(inv);
      Buf<float> cs_(T * D / 2), sn_(T * D / 2);
      cuda::rope_cos_sin(cs_.data(), sn_.data(), pos_.data(), inv_.data(), T, D, ctx());
      const auto cs_g = down(cs_), sn_g = down(sn_);
      for (size_t i = 0; i < cs.size(); ++i) {
        ASSERT_NEAR(cs_g[i], cs[i], 1e-6) << what << " cos " << i;
        ASSERT_NEAR(sn_g[i], sn[i], 1e-6) << what << " sin " << i;
      }

      const auto x = randn(T * H * D, 40);
      auto r = x;
      rope_forward_ref(r.data(), pos.data(), inv.data(), T, H, D);
      auto x_ = up(x);
      cuda::rope_forward(x_.data(), cs_.data(), sn_.data(), T, H, D, ctx());
      EXPECT_LT(rel_diff(down(x_), r), 2e-5) << what;

      // Backward on the CPU's tables, against rope_backward_ref on the same tables.
      auto dx = randn(T * H * D, 41), dx_ref = dx;
      auto dx_ = up(dx), csc_ = up(cs), snc_ = up(sn);
      rope_backward_ref(dx_ref.data(), cs.data(), sn.data(), T, H, D);
      cuda::rope_backward(dx_.data(), csc_.data(), snc_.data(), T, H, D, ctx());
      EXPECT_LT(rel_diff(down(dx_), dx_ref), 1e-5) << what;
      cuda::rope_forward(dx_.data(), csc_.data(), snc_.data(), T, H, D, ctx());
      EXPECT_LT(rel_diff(down(dx_), dx), 1e-5) << what << " (backward then forward)";
    }
  }
}

// ---------------------------------------------------------------- SwiGLU

// Against the double references, within 1e-5 relative; backward also with dgate aliasing gate
// and dup aliasing up (the documented in-place use).
TEST_F(CudaOps, SwigluForwardBackward) {
  for (int64_t n : {1, 7, 1000, 65537}) {
    const std::string what = "n=" + std::to_string(n);
    const auto g = randn(n, 50, 3.0f), u = randn(n, 51), dy = randn(n, 52);
    std::vector<float> y_ref(n), dg_ref(n), du_ref(n);
    swiglu_forward_ref(y_ref.data(), g.data(), u.data(), n);
    swiglu_backward_ref(dg_ref.data(), du_ref.data(), dy.data(), g.data(), u.data(), n);
    auto g_ = up(g), u_ = up(u), dy_ = up(dy);
    Buf<float> y_(n), dg_(n), du_(n);
    cuda::swiglu_forward(y_.data(), g_.data(), u_.data(), n, ctx());
    EXPECT_LT(rel_diff(down(y_), y_ref), 1e-5) << what;
    cuda::swiglu_backward(dg_.data(), du_.data(), dy_.data(), g_.data(), u_.data(), n, ctx());
    EXPECT_LT(rel_diff(down(dg_), dg_ref), 1e-5) << what;
    EXPECT_LT(rel_diff(down(du_), du_ref), 1e-5) << what;
    cuda::swiglu_backward(g_.data(), u_.data(), dy_.data(), g_.data(), u_.data(), n, ctx());
    EXPECT_TRUE(bitwise_equal(down(g_), down(dg_))) << what << " aliased";
    EXPECT_TRUE(bitwise_equal(down(u_), down(du_))) << what << " aliased";
  }
}

// ---------------------------------------------------------------- attention

struct AttnCase {
  std::vector<int32_t> lens;  // sequence lengths, packed end to end (0: an empty sequence)
  int64_t Hq, Hkv, D;
};

// Forward (out, lse) within 5e-5 and backward (dq, dk, dv, all overwritten) within 1e-4 of the
// double references; backward is bitwise repeatable. The cases cross the 8-row and 32-key tiles,
// pack several sequences (one empty), use GQA groups 1, 3 and 4, and odd head dimensions.
TEST_F(CudaOps, AttentionTrainForwardBackward) {
  const AttnCase cases[] = {
      {{1}, 2, 2, 8},
      {{5, 1, 70, 130}, 6, 2, 16},  // GQA group 3; rows cross tile boundaries
      {{64, 1, 3, 129}, 3, 3, 64},  // group 1
      {{200, 7}, 9, 3, 64},         // SmolLM2-135M heads
      {{33, 0, 40}, 4, 1, 128},     // an empty sequence; the largest head dimension
      {{17, 9}, 2, 1, 7},           // odd head dimension
      {{300}, 2, 2, 96},
  };
  uint32_t seed = 60;
  for (const auto& c : cases) {
    std::vector<int32_t> st(c.lens.size() + 1, 0);
    for (size_t i = 0; i < c.lens.size(); ++i) st[i + 1] = st[i] + c.lens[i];
    const int64_t S = static_cast<int64_t>(c.lens.size()), N = st.back();
    const int64_t nq = N * c.Hq * c.D, nk = N * c.Hkv * c.D;
    const std::string what = "N=" + std::to_string(N) + " Hq=" + std::to_string(c.Hq) +
                             " Hkv=" + std::to_string(c.Hkv) + " D=" + std::to_string(c.D);
    const auto q = randn(nq, seed++, 1.5f), k = randn(nk, seed++, 1.5f), v = randn(nk, seed++),
               dout = randn(nq, seed++);
    std::vector<float> out_ref(nq), lse_ref(N * c.Hq);
    attention_train_forward_ref(out_ref.data(), lse_ref.data(), q.data(), k.data(), v.data(),
                                st.data(), S, c.Hq, c.Hkv, c.D);
    auto q_ = up(q), k_ = up(k), v_ = up(v), dout_ = up(dout);
    auto st_ = up(st);
    Buf<float> out_(nq), lse_(N * c.Hq);
    cuda::attention_train_forward(out_.data(), lse_.data(), q_.data(), k_.data(), v_.data(),
                                  st_.data(), N, S, c.Hq, c.Hkv, c.D, ctx());
    const auto out = down(out_), lse = down(lse_);
    EXPECT_LT(rel_diff(out, out_ref), 5e-5) << what;
    EXPECT_LT(rel_diff(lse, lse_ref), 5e-5) << what;

    // The reference backward takes the GPU's own out/lse, as the CPU test does for its fast path.
    std::vector<float> dq_ref(nq), dk_ref(nk), dv_ref(nk);
    attention_train_backward_ref(dq_ref.data(), dk_ref.data(), dv_ref.data(), dout.data(), q.data(),
                                 k.data(), v.data(), out.data(), lse.data(), st.data(), S, c.Hq,
                                 c.Hkv, c.D);
    auto dq_ = up(std::vector<float>(nq, 5.0f)), dk_ = up(std::vector<float>(nk, 5.0f)),
         dv_ = up(std::vector<float>(nk, 5.0f));
    cuda::attention_train_backward(dq_.data(), dk_.data(), dv_.data(), dout_.data(), q_.data(),
                                   k_.data(), v_.data(), out_.data(), lse_.data(), st_.data(), N,
                                   S, c.Hq, c.Hkv, c.D, ctx());
    const auto dq = down(dq_), dk = down(dk_), dv = down(dv_);
    EXPECT_LT(rel_diff(dq, dq_ref), 1e-4) << what;
    EXPECT_LT(rel_diff(dk, dk_ref), 1e-4) << what;
    EXPECT_LT(rel_diff(dv, dv_ref), 1e-4) << what;

    cuda::attention_train_backward(dq_.data(), dk_.data(), dv_.data(), dout_.data(), q_.data(),
                                   k_.data(), v_.data(), out_.data(), lse_.data(), st_.data(), N,
                                   S, c.Hq, c.Hkv, c.D, ctx());
    EXPECT_TRUE(bitwise_equal(down(dq_), dq)) << what << " repeat";
    EXPECT_TRUE(bitwise_equal(down(dk_), dk)) << what << " repeat";
    EXPECT_TRUE(bitwise_equal(down(dv_), dv)) << what << " repeat";
  }
}

// Two sequences packed give, row for row, what each gives alone (no attention across the seam).
TEST_F(CudaOps, AttentionPackedEqualsSeparate) {
  const int64_t Hq = 6, Hkv = 2, D = 16;
  const std::vector<int32_t> lens = {70, 33};
  const int64_t N = 103;
  const auto q = randn(N * Hq * D, 70), k = randn(N * Hkv * D, 71), v = randn(N * Hkv * D, 72);
  const std::vector<int32_t> st = {0, 70, 103};
  auto q_ = up(q), k_ = up(k), v_ = up(v);
  auto st_ = up(st);
  Buf<float> out_(N * Hq * D), lse_(N * Hq);
  cuda::attention_train_forward(out_.data(), lse_.data(), q_.data(), k_.data(), v_.data(),
                                st_.data(), N, 2, Hq, Hkv, D, ctx());
  const auto out = down(out_);
  for (int s = 0; s < 2; ++s) {
    const int64_t r0 = st[s], len = lens[s];
    auto slice = [](const std::vector<float>& x, int64_t off, int64_t n) {
      return std::vector<float>(x.begin() + off, x.begin() + off + n);
    };
    auto qs = up(slice(q, r0 * Hq * D, len * Hq * D)), ks = up(slice(k, r0 * Hkv * D, len * Hkv * D)),
         vs = up(slice(v, r0 * Hkv * D, len * Hkv * D));
    auto one = up(std::vector<int32_t>{0, static_cast<int32_t>(len)});
    Buf<float> o(len * Hq * D), l(len * Hq);
    cuda::attention_train_forward(o.data(), l.data(), qs.data(), ks.data(), vs.data(), one.data(),
                                  len, 1, Hq, Hkv, D, ctx());
    // Tiles start at different rows when the sequence stands alone, so compare within rounding.
    EXPECT_LT(rel_diff(slice(out, r0 * Hq * D, len * Hq * D), down(o)), 2e-6) << "seq " << s;
  }
}

// Attention over a KV cache against attention_forward_ref: decoding (T = 1), prefill of a few rows
// after a cached prefix, and rows that see different prefixes; within 5e-5.
TEST_F(CudaOps, AttentionOverKvCache) {
  struct Case {
    int64_t T, S, Hq, Hkv, D;
  };
  const Case cases[] = {{1, 1, 2, 2, 8}, {1, 300, 9, 3, 64}, {5, 37, 4, 1, 128}, {19, 19, 6, 2, 7},
                        {40, 100, 3, 3, 96}};
  uint32_t seed = 75;
  for (const auto& c : cases) {
    const std::string what = "T=" + std::to_string(c.T) + " S=" + std::to_string(c.S) +
                             " D=" + std::to_string(c.D);
    const auto q = randn(c.T * c.Hq * c.D, seed++, 1.5f), k = randn(c.S * c.Hkv * c.D, seed++, 1.5f),
               v = randn(c.S * c.Hkv * c.D, seed++);
    // The last T cache positions are the queries' own; every third row sees a shorter prefix.
    std::vector<int32_t> pos(c.T);
    for (int64_t t = 0; t < c.T; ++t) {
      pos[t] = static_cast<int32_t>(c.S - c.T + t);
      if (t % 3 == 2) pos[t] = static_cast<int32_t>(pos[t] / 2);
    }
    std::vector<float> out_ref(c.T * c.Hq * c.D);
    attention_forward_ref(out_ref.data(), q.data(), k.data(), v.data(), pos.data(), c.T, c.S, c.Hq,
                          c.Hkv, c.D);
    auto q_ = up(q), k_ = up(k), v_ = up(v);
    auto pos_ = up(pos);
    Buf<float> out_(c.T * c.Hq * c.D);
    cuda::attention_forward(out_.data(), q_.data(), k_.data(), v_.data(), pos_.data(), c.T, c.S,
                            c.Hq, c.Hkv, c.D, ctx());
    EXPECT_LT(rel_diff(down(out_), out_ref), 5e-5) << what;
  }
}

// ---------------------------------------------------------------- LM head + cross-entropy

// Loss within 1e-5 relative, n_correct equal, dhidden (overwritten) and dweight (accumulated)
// within 1e-4 of the double reference. Shapes cross the 4096-entry vocabulary chunk (70000 =
// 17 chunks + 1168) and the 1024-row chunk (1100 rows).
TEST_F(CudaOps, LmHeadCrossEntropy) {
  const int64_t shapes[][3] = {{1, 8, 5}, {37, 24, 50}, {300, 16, 70}, {20, 32, 70000},
                               {1100, 8, 300}, {3, 5, 4097}};
  for (const auto& s : shapes) {
    const int64_t R = s[0], C = s[1], V = s[2];
    const std::string what =
        "R=" + std::to_string(R) + " C=" + std::to_string(C) + " V=" + std::to_string(V);
    const auto h = randn(R * C, 80), w = randn(V * C, 81, 0.5f);
    const auto t = rand_ids(R, static_cast<int32_t>(V), 82);
    const float gs = 0.25f;
    std::vector<float> dh_ref(R * C);
    auto dw_ref = randn(V * C, 83);
    auto h_ = up(h), w_ = up(w), dw_ = up(dw_ref);
    auto t_ = up(t);
    const auto ref = lm_head_cross_entropy_ref(dh_ref.data(), dw_ref.data(), h.data(), t.data(),
                                               w.data(), R, C, V, gs);
    Buf<float> dh_(R * C), ws(cuda::lm_head_cross_entropy_workspace_floats(R, V));
    Buf<cuda::CrossEntropyTotals> totals(1);
    cuda::lm_head_cross_entropy(totals.data(), dh_.data(), dw_.data(), h_.data(), t_.data(),
                                w_.data(), R, C, V, gs, ws.data(), ctx());
    const auto res = cuda::read_cross_entropy_totals_sync(totals.data(), ctx());
    EXPECT_NEAR(res.loss_sum, ref.loss_sum, 1e-5 * std::fabs(ref.loss_sum)) << what;
    EXPECT_EQ(res.n_correct, ref.n_correct) << what;
    EXPECT_LT(rel_diff(down(dh_), dh_ref), 1e-4) << what;
    EXPECT_LT(rel_diff(down(dw_), dw_ref), 1e-4) << what;
    // Loss only gives the same totals, bit for bit.
    cuda::lm_head_cross_entropy(totals.data(), nullptr, nullptr, h_.data(), t_.data(), w_.data(),
                                R, C, V, gs, ws.data(), ctx());
    const auto loss_only = cuda::read_cross_entropy_totals_sync(totals.data(), ctx());
    EXPECT_EQ(loss_only.loss_sum, res.loss_sum) << what;
    EXPECT_EQ(loss_only.n_correct, res.n_correct) << what;
  }
}

// Zero weight: every logit equal, loss log(V) per row, argmax index 0 (lowest index on ties, also
// across vocabulary chunks).
TEST_F(CudaOps, LmHeadCrossEntropyTies) {
  const int64_t R = 9, C = 4, V = 9000;
  const auto h = randn(R * C, 84);
  const std::vector<int32_t> t = {0, 3, 0, 8999, 4096, 0, 2, 2, 0};
  auto h_ = up(h), w_ = up(std::vector<float>(V * C, 0.0f));
  auto t_ = up(t);
  Buf<float> ws(cuda::lm_head_cross_entropy_workspace_floats(R, V));
  Buf<cuda::CrossEntropyTotals> totals(1);
  cuda::lm_head_cross_entropy(totals.data(), nullptr, nullptr, h_.data(), t_.data(), w_.data(), R,
                              C, V, 1.0f, ws.data(), ctx());
  const auto res = cuda::read_cross_entropy_totals_sync(totals.data(), ctx());
  EXPECT_NEAR(res.loss_sum, R * std::log(static_cast<double>(V)), 1e-4);
  EXPECT_EQ(res.n_correct, 4);
}

// Gather of the supervised rows and scatter-add of their gradient: exact.
TEST_F(CudaOps, GatherScatterRows) {
  const int64_t N = 50, C = 7;
  const std::vector<int32_t> rows = {3, 4, 5, 20, 49, 0};
  const int64_t R = static_cast<int64_t>(rows.size());
  const auto x = randn(N * C, 85), g = randn(R * C, 86);
  auto x_ = up(x), g_ = up(g);
  auto rows_ = up(rows);
  Buf<float> out_(R * C);
  cuda::gather_rows(out_.data(), x_.data(), rows_.data(), R, C, ctx());
  std::vector<float> expect(R * C);
  for (int64_t r = 0; r < R; ++r)
    for (int64_t c = 0; c < C; ++c) expect[r * C + c] = x[rows[r] * C + c];
  EXPECT_TRUE(bitwise_equal(down(out_), expect));
  cuda::scatter_add_rows(x_.data(), g_.data(), rows_.data(), R, C, ctx());
  auto added = x;
  for (int64_t r = 0; r < R; ++r)
    for (int64_t c = 0; c < C; ++c) added[rows[r] * C + c] += g[r * C + c];
  EXPECT_TRUE(bitwise_equal(down(x_), added));
}

// ---------------------------------------------------------------- AdamW

// Three steps against train/adamw.h's AdamW (torch's float32 update): parameters and moments
// within 1e-6 relative (the same float operations; the CPU compiler may contract a multiply-add);
// the bf16 copy is the master weight rounded to nearest even, bitwise. Both lerp branches of
// torch (beta1 = 0.9 and 0.4), decay on and off, odd sizes.
TEST_F(CudaOps, AdamWMatchesCpuOptimizer) {
  for (double beta1 : {0.9, 0.4}) {
    for (int64_t n : {1, 33, 70001}) {
      const std::string what = "beta1=" + std::to_string(beta1) + " n=" + std::to_string(n);
      auto w = randn(n, 90), b = randn(n, 91);
      std::vector<float> gw(n), gb(n);
      ParamList params = {{"w", w.data(), gw.data(), n, true}, {"b", b.data(), gb.data(), n, false}};
      AdamWConfig cfg;
      cfg.beta1 = beta1;
      cfg.beta2 = 0.95;
      cfg.eps = 1e-6;
      cfg.weight_decay = 0.1;
      AdamW opt(params, cfg);
      auto w_ = up(w), b_ = up(b);
      Buf<float> mw(n), vw(n), mb(n), vb(n);
      for (auto* buf : {&mw, &vw, &mb, &vb})
        cuda::fill_zero(buf->data(), n * sizeof(float), ctx(), "test");
      Buf<uint16_t> w16(n);
      const float lrs[3] = {1e-2f, 5e-3f, 2e-2f};
      for (int s = 0; s < 3; ++s) {
        // Copied into place: the optimizer holds pointers to gw and gb.
        const auto new_gw = randn(n, 100 + s), new_gb = randn(n, 200 + s, 2.0f);
        std::copy(new_gw.begin(), new_gw.end(), gw.begin());
        std::copy(new_gb.begin(), new_gb.end(), gb.begin());
        auto gw_ = up(gw), gb_ = up(gb);
        opt.step(lrs[s]);
        const auto sc = cuda::adamw_scalars(lrs[s], cfg.beta1, cfg.beta2, cfg.eps,
                                            cfg.weight_decay, s + 1);
        cuda::adamw_update(w_.data(), mw.data(), vw.data(), w16.data(), gw_.data(), n, sc, true,
                           ctx());
        cuda::adamw_update(b_.data(), mb.data(), vb.data(), nullptr, gb_.data(), n, sc, false,
                           ctx());
        ctx().synchronize("adamw test");
      }
      const auto wg = down(w_);
      EXPECT_LT(rel_diff(wg, w), 1e-6) << what;
      EXPECT_LT(rel_diff(down(b_), b), 1e-6) << what;
      EXPECT_LT(rel_diff(down(mw), opt.m(0)), 1e-6) << what;
      EXPECT_LT(rel_diff(down(vw), opt.v(0)), 1e-6) << what;
      EXPECT_LT(rel_diff(down(mb), opt.m(1)), 1e-6) << what;
      EXPECT_LT(rel_diff(down(vb), opt.v(1)), 1e-6) << what;
      EXPECT_EQ(down(w16), to_bf16(wg)) << what;
    }
  }
}

// ---------------------------------------------------------------- dequantization

// Random blocks (finite f16 scales, random quants and packed 6-bit scales) of every supported
// type: bitwise equal to dequantize_row_ref, for 1, 7 and 1000 blocks.
TEST_F(CudaOps, DequantizeBitwise) {
  std::mt19937 gen(95);
  std::uniform_int_distribution<int> byte(0, 255);
  std::normal_distribution<float> scale(0.0f, 0.05f);
  for (DType t : {DType::kQ4_0, DType::kQ4_1, DType::kQ8_0, DType::kQ4_K, DType::kQ5_K,
                  DType::kQ6_K, DType::kF16, DType::kBF16, DType::kF32}) {
    const DTypeInfo& info = dtype_info(t);
    for (int64_t blocks : {1, 7, 1000}) {
      const int64_t n = blocks * info.block_elems * (info.quantized ? 1 : 32);
      std::vector<uint8_t> raw(dtype_bytes(t, n));
      if (!info.quantized) {
        const auto x = randn(n, 96);
        for (int64_t i = 0; i < n; ++i) {
          if (t == DType::kF32) std::memcpy(raw.data() + 4 * i, &x[i], 4);
          const uint16_t h = t == DType::kF16 ? f32_to_f16(x[i]) : f32_to_bf16(x[i]);
          if (t != DType::kF32) std::memcpy(raw.data() + 2 * i, &h, 2);
        }
      } else {
        for (auto& b : raw) b = static_cast<uint8_t>(byte(gen));
        // The f16 scales as finite halves: d (and Q4_1's m, the K-quants' dmin) at the start of
        // each block, Q6_K's d at its end.
        const int64_t bb = info.block_bytes;
        const bool two = t == DType::kQ4_1 || t == DType::kQ4_K || t == DType::kQ5_K;
        const int64_t at = t == DType::kQ6_K ? 208 : 0;
        for (int64_t b = 0; b < blocks; ++b)
          for (int k = 0; k < (two ? 2 : 1); ++k) {
            const uint16_t h = f32_to_f16(scale(gen));
            std::memcpy(raw.data() + b * bb + at + 2 * k, &h, 2);
          }
      }
      std::vector<float> ref(n);
      dequantize_row_ref(t, raw.data(), ref.data(), n);
      auto raw_ = up(raw);
      Buf<float> out_(n);
      cuda::dequantize(out_.data(), raw_.data(), t, n, ctx());
      EXPECT_TRUE(bitwise_equal(down(out_), ref))
          << dtype_name(t) << " blocks=" << blocks;
    }
  }
}

}  // namespace
}  // namespace tsft
