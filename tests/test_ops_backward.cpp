// Backward passes of the CPU ops: each fast path against its scalar reference, each reference
// against central finite differences of its forward, plus packing, accumulation and determinism.
#include <gtest/gtest.h>
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "backend/cpu/attention_train.h"
#include "backend/cpu/cross_entropy.h"
#include "backend/cpu/embedding.h"
#include "backend/cpu/matmul.h"
#include "backend/cpu/rmsnorm.h"
#include "backend/cpu/rope.h"
#include "backend/cpu/swiglu.h"

#include "test_util.h"

namespace tsft {
namespace {

using testing::bitwise_equal;
using testing::rand_ids;
using testing::randn;
using testing::rel_diff;

// L = sum(out * w) in double: the scalar loss whose gradient wrt out is w.
double dot(const std::vector<float>& out, const std::vector<float>& w) {
  double s = 0.0;
  for (size_t i = 0; i < out.size(); ++i) s += static_cast<double>(out[i]) * w[i];
  return s;
}

// Central differences of loss() on up to `samples` entries of x against the analytic grad.
void expect_grad_matches_fd(std::vector<float>& x, const std::vector<float>& grad,
                            const std::function<double()>& loss, const std::string& what,
                            size_t samples = 40, uint32_t seed = 99) {
  ASSERT_EQ(x.size(), grad.size()) << what;
  std::vector<size_t> idx(x.size());
  for (size_t i = 0; i < idx.size(); ++i) idx[i] = i;
  std::shuffle(idx.begin(), idx.end(), std::mt19937(seed));
  if (idx.size() > samples) idx.resize(samples);
  const float eps = 1e-3f;
  for (size_t i : idx) {
    const float saved = x[i];
    x[i] = saved + eps;
    const double step_up = static_cast<double>(x[i]) - saved;
    const double lp = loss();
    x[i] = saved - eps;
    const double step_down = saved - static_cast<double>(x[i]);
    const double lm = loss();
    x[i] = saved;
    const double fd = (lp - lm) / (step_up + step_down);
    EXPECT_NEAR(grad[i], fd, 1e-3 + 1e-2 * std::fabs(fd)) << what << " entry " << i;
  }
}

// ---------------------------------------------------------------- RMSNorm

TEST(RmsNormBackward, TrainForwardMatchesInferenceForward) {
  for (int64_t C : {1, 7, 64, 576}) {
    for (int64_t rows : {1, 5, 67}) {
      auto x = randn(rows * C, 1, 3.0f), w = randn(C, 2);
      std::vector<float> y(rows * C), yt(rows * C), yr(rows * C), rstd(rows), rstd_ref(rows);
      rmsnorm_forward(y.data(), x.data(), w.data(), 1e-5f, rows, C);
      rmsnorm_forward_train(yt.data(), rstd.data(), x.data(), w.data(), 1e-5f, rows, C);
      rmsnorm_forward_train_ref(yr.data(), rstd_ref.data(), x.data(), w.data(), 1e-5f, rows, C);
      EXPECT_TRUE(bitwise_equal(y, yt)) << "C=" << C << " rows=" << rows;
      EXPECT_LT(rel_diff(yt, yr), 1e-5) << "C=" << C;
      EXPECT_LT(rel_diff(rstd, rstd_ref), 1e-5) << "C=" << C;
    }
  }
}

TEST(RmsNormBackward, MatchesReferenceAndAccumulates) {
  // (67*3, 64) is q/k-norm: rows = tokens * heads, C = head_dim.
  const int64_t shapes[][2] = {{1, 7}, {5, 1}, {67, 576}, {201, 64}, {130, 33}};
  for (const auto& s : shapes) {
    const int64_t rows = s[0], C = s[1];
    auto x = randn(rows * C, 3, 2.0f), w = randn(C, 4), dy = randn(rows * C, 5);
    std::vector<float> y(rows * C), rstd(rows);
    rmsnorm_forward_train(y.data(), rstd.data(), x.data(), w.data(), 1e-6f, rows, C);
    // Both gradients start non-zero: both must accumulate.
    auto dx = randn(rows * C, 6), dw = randn(C, 7);
    auto dx_ref = dx, dw_ref = dw;
    rmsnorm_backward(dx.data(), dw.data(), dy.data(), x.data(), w.data(), rstd.data(), rows, C);
    rmsnorm_backward_ref(dx_ref.data(), dw_ref.data(), dy.data(), x.data(), w.data(), rstd.data(),
                         rows, C);
    EXPECT_LT(rel_diff(dx, dx_ref), 1e-5) << "rows=" << rows << " C=" << C;
    EXPECT_LT(rel_diff(dw, dw_ref), 1e-5) << "rows=" << rows << " C=" << C;
    // Frozen weight: dinp unchanged by the missing dweight.
    auto dx2 = randn(rows * C, 6);
    rmsnorm_backward(dx2.data(), nullptr, dy.data(), x.data(), w.data(), rstd.data(), rows, C);
    EXPECT_TRUE(bitwise_equal(dx2, dx));
  }
}

TEST(RmsNormBackward, ReferenceMatchesFiniteDifferences) {
  const int64_t rows = 5, C = 13;
  const float eps = 1e-5f;
  auto x = randn(rows * C, 8, 1.5f), w = randn(C, 9), r = randn(rows * C, 10);
  std::vector<float> y(rows * C), rstd(rows);
  rmsnorm_forward_train_ref(y.data(), rstd.data(), x.data(), w.data(), eps, rows, C);
  std::vector<float> dx(rows * C, 0.0f), dw(C, 0.0f);
  rmsnorm_backward_ref(dx.data(), dw.data(), r.data(), x.data(), w.data(), rstd.data(), rows, C);
  auto loss = [&] {
    rmsnorm_forward_ref(y.data(), x.data(), w.data(), eps, rows, C);
    return dot(y, r);
  };
  expect_grad_matches_fd(x, dx, loss, "rmsnorm dinp");
  expect_grad_matches_fd(w, dw, loss, "rmsnorm dweight");
}

// ---------------------------------------------------------------- RoPE

TEST(RopeBackward, MatchesReferenceAndInvertsForward) {
  for (int64_t D : {2, 16, 64}) {
    const int64_t T = 11, H = 3;
    std::vector<int32_t> pos(T);
    for (int64_t t = 0; t < T; ++t) pos[t] = static_cast<int32_t>(t * 13 + 2);
    std::vector<float> inv(D / 2), cs(T * D / 2), sn(T * D / 2);
    rope_inv_freq(inv.data(), D, 10000.0f, RopeScaling{});
    rope_cos_sin(cs.data(), sn.data(), pos.data(), inv.data(), T, D);
    auto g = randn(T * H * D, 11), g_ref = g;
    rope_backward(g.data(), cs.data(), sn.data(), T, H, D);
    rope_backward_ref(g_ref.data(), cs.data(), sn.data(), T, H, D);
    EXPECT_LT(rel_diff(g, g_ref), 1e-6) << "D=" << D;
    // The rotation is orthogonal: its transpose undoes it.
    auto x = randn(T * H * D, 12), x0 = x;
    rope_forward(x.data(), cs.data(), sn.data(), T, H, D);
    rope_backward(x.data(), cs.data(), sn.data(), T, H, D);
    EXPECT_LT(rel_diff(x, x0), 1e-6) << "D=" << D;
  }
}

TEST(RopeBackward, ReferenceMatchesFiniteDifferences) {
  const int64_t T = 4, H = 2, D = 8;
  std::vector<int32_t> pos = {0, 3, 7, 100};
  std::vector<float> inv(D / 2), cs(T * D / 2), sn(T * D / 2);
  rope_inv_freq(inv.data(), D, 10000.0f, RopeScaling{});
  rope_cos_sin(cs.data(), sn.data(), pos.data(), inv.data(), T, D);
  auto x = randn(T * H * D, 13), r = randn(T * H * D, 14);
  auto dx = r;
  rope_backward_ref(dx.data(), cs.data(), sn.data(), T, H, D);
  auto loss = [&] {
    auto y = x;
    rope_forward_ref(y.data(), pos.data(), inv.data(), T, H, D);
    return dot(y, r);
  };
  expect_grad_matches_fd(x, dx, loss, "rope dx", 64);
}

// ---------------------------------------------------------------- SwiGLU

TEST(SwigluBackward, MatchesReferenceAndAllowsAliasing) {
  for (int64_t n : {1, 17, 1000, 70001}) {
    auto g = randn(n, 15, 3.0f), u = randn(n, 16), dy = randn(n, 17);
    std::vector<float> dg(n), du(n), dg_ref(n), du_ref(n);
    swiglu_backward(dg.data(), du.data(), dy.data(), g.data(), u.data(), n);
    swiglu_backward_ref(dg_ref.data(), du_ref.data(), dy.data(), g.data(), u.data(), n);
    EXPECT_LT(rel_diff(dg, dg_ref), 1e-5) << "n=" << n;
    EXPECT_LT(rel_diff(du, du_ref), 1e-5) << "n=" << n;
    // In place: dgate over gate, dup over up.
    auto g2 = g, u2 = u;
    swiglu_backward(g2.data(), u2.data(), dy.data(), g2.data(), u2.data(), n);
    EXPECT_TRUE(bitwise_equal(g2, dg));
    EXPECT_TRUE(bitwise_equal(u2, du));
  }
}

TEST(SwigluBackward, ReferenceMatchesFiniteDifferences) {
  const int64_t n = 50;
  auto g = randn(n, 18, 2.5f), u = randn(n, 19), r = randn(n, 20);
  std::vector<float> dg(n), du(n), y(n);
  swiglu_backward_ref(dg.data(), du.data(), r.data(), g.data(), u.data(), n);
  auto loss = [&] {
    swiglu_forward_ref(y.data(), g.data(), u.data(), n);
    return dot(y, r);
  };
  expect_grad_matches_fd(g, dg, loss, "swiglu dgate", n);
  expect_grad_matches_fd(u, du, loss, "swiglu dup", n);
}

// ---------------------------------------------------------------- Embedding

TEST(EmbeddingBackward, MatchesReferenceWithRepeatedIds) {
  const int64_t V = 11, C = 300, T = 257;  // C spans two column blocks; ids repeat
  auto ids = rand_ids(T, V, 21);
  auto dy = randn(T * C, 22);
  auto dt = randn(V * C, 23), dt_ref = dt;
  embedding_backward(dt.data(), ids.data(), dy.data(), T, C);
  embedding_backward_ref(dt_ref.data(), ids.data(), dy.data(), T, C);
  EXPECT_LT(rel_diff(dt, dt_ref), 1e-6);
}

TEST(EmbeddingBackward, MatchesFiniteDifferences) {
  const int64_t V = 6, C = 5, T = 9;
  auto ids = rand_ids(T, V, 24);
  auto table = randn(V * C, 25), r = randn(T * C, 26);
  std::vector<float> dt(V * C, 0.0f), y(T * C);
  embedding_backward_ref(dt.data(), ids.data(), r.data(), T, C);
  auto loss = [&] {
    embedding_forward(y.data(), ids.data(), table.data(), T, C);
    return dot(y, r);
  };
  expect_grad_matches_fd(table, dt, loss, "embedding dtable", V * C);
}

// ---------------------------------------------------------------- Linear

TEST(MatmulBackward, MatchesReferenceWithNullsAndAccumulation) {
  const int64_t shapes[][3] = {{1, 7, 5}, {3, 17, 33}, {37, 129, 65}, {64, 64, 200}};
  for (const auto& s : shapes) {
    const int64_t M = s[0], K = s[1], N = s[2];
    auto x = randn(M * K, 27), w = randn(N * K, 28), dy = randn(M * N, 29);
    auto dx = randn(M * K, 30), dw = randn(N * K, 31), db = randn(N, 32);  // dx is overwritten
    std::vector<float> dx_ref(M * K), dw_ref = dw, db_ref = db;
    matmul_backward(dx.data(), dw.data(), db.data(), dy.data(), x.data(), w.data(), M, K, N);
    matmul_backward_ref(dx_ref.data(), dw_ref.data(), db_ref.data(), dy.data(), x.data(), w.data(),
                        M, K, N);
    EXPECT_LT(rel_diff(dx, dx_ref), 1e-5) << "M=" << M << " K=" << K << " N=" << N;
    EXPECT_LT(rel_diff(dw, dw_ref), 1e-5) << "M=" << M << " K=" << K << " N=" << N;
    EXPECT_LT(rel_diff(db, db_ref), 1e-5) << "M=" << M << " K=" << K << " N=" << N;
    // Only dinp (frozen layer inside a LoRA model), only dweight.
    std::vector<float> dx2(M * K, 7.0f);
    matmul_backward(dx2.data(), nullptr, nullptr, dy.data(), x.data(), w.data(), M, K, N);
    EXPECT_TRUE(bitwise_equal(dx2, dx));
    auto dw2 = randn(N * K, 31);
    matmul_backward(nullptr, dw2.data(), nullptr, dy.data(), x.data(), w.data(), M, K, N);
    EXPECT_TRUE(bitwise_equal(dw2, dw));
  }
}

TEST(MatmulBackward, ReferenceMatchesFiniteDifferences) {
  const int64_t M = 4, K = 6, N = 5;
  auto x = randn(M * K, 33), w = randn(N * K, 34), b = randn(N, 35), r = randn(M * N, 36);
  std::vector<float> dx(M * K), dw(N * K, 0.0f), db(N, 0.0f), y(M * N);
  matmul_backward_ref(dx.data(), dw.data(), db.data(), r.data(), x.data(), w.data(), M, K, N);
  auto loss = [&] {
    matmul_forward_ref(y.data(), x.data(), w.data(), b.data(), M, K, N);
    return dot(y, r);
  };
  expect_grad_matches_fd(x, dx, loss, "matmul dinp");
  expect_grad_matches_fd(w, dw, loss, "matmul dweight");
  expect_grad_matches_fd(b, db, loss, "matmul dbias");
}

// ---------------------------------------------------------------- Attention

struct AttnCase {
  std::vector<int32_t> lens;
  int64_t Hq, Hkv, D;
};

std::vector<int32_t> starts_of(const std::vector<int32_t>& lens) {
  std::vector<int32_t> st(lens.size() + 1, 0);
  for (size_t i = 0; i < lens.size(); ++i) st[i + 1] = st[i] + lens[i];
  return st;
}

struct AttnData {
  int64_t N, S;
  std::vector<int32_t> st;
  std::vector<float> q, k, v, dout;
};

AttnData make_attn(const AttnCase& c, uint32_t seed) {
  AttnData a;
  a.st = starts_of(c.lens);
  a.S = static_cast<int64_t>(c.lens.size());
  a.N = a.st.back();
  a.q = randn(a.N * c.Hq * c.D, seed, 1.5f);
  a.k = randn(a.N * c.Hkv * c.D, seed + 1, 1.5f);
  a.v = randn(a.N * c.Hkv * c.D, seed + 2);
  a.dout = randn(a.N * c.Hq * c.D, seed + 3);
  return a;
}

TEST(AttentionTrain, MatchesReference) {
  const AttnCase cases[] = {
      {{1}, 2, 2, 8},
      {{5, 1, 70, 130}, 6, 2, 16},   // GQA group 3; blocks cross 64-row boundaries
      {{64, 1, 3, 129}, 3, 3, 64},   // group 1
      {{200, 7}, 9, 3, 64},          // SmolLM2-135M heads
  };
  for (const auto& c : cases) {
    const auto a = make_attn(c, 40);
    const int64_t nq = a.N * c.Hq * c.D, nk = a.N * c.Hkv * c.D;
    std::vector<float> out(nq), lse(a.N * c.Hq), out_ref(nq), lse_ref(a.N * c.Hq);
    attention_train_forward(out.data(), lse.data(), a.q.data(), a.k.data(), a.v.data(),
                            a.st.data(), a.S, c.Hq, c.Hkv, c.D);
    attention_train_forward_ref(out_ref.data(), lse_ref.data(), a.q.data(), a.k.data(), a.v.data(),
                                a.st.data(), a.S, c.Hq, c.Hkv, c.D);
    EXPECT_LT(rel_diff(out, out_ref), 1e-5) << "N=" << a.N << " Hq=" << c.Hq;
    EXPECT_LT(rel_diff(lse, lse_ref), 1e-5) << "N=" << a.N << " Hq=" << c.Hq;
    // Outputs start as garbage: all three must be overwritten.
    std::vector<float> dq(nq, 5.0f), dk(nk, 5.0f), dv(nk, 5.0f);
    std::vector<float> dq_ref(nq, -5.0f), dk_ref(nk, -5.0f), dv_ref(nk, -5.0f);
    attention_train_backward(dq.data(), dk.data(), dv.data(), a.dout.data(), a.q.data(),
                             a.k.data(), a.v.data(), out.data(), lse.data(), a.st.data(), a.S,
                             c.Hq, c.Hkv, c.D);
    attention_train_backward_ref(dq_ref.data(), dk_ref.data(), dv_ref.data(), a.dout.data(),
                                 a.q.data(), a.k.data(), a.v.data(), out.data(), lse.data(),
                                 a.st.data(), a.S, c.Hq, c.Hkv, c.D);
    EXPECT_LT(rel_diff(dq, dq_ref), 1e-5) << "N=" << a.N << " Hq=" << c.Hq;
    EXPECT_LT(rel_diff(dk, dk_ref), 1e-5) << "N=" << a.N << " Hq=" << c.Hq;
    EXPECT_LT(rel_diff(dv, dv_ref), 1e-5) << "N=" << a.N << " Hq=" << c.Hq;
  }
}

TEST(AttentionTrain, ReferenceMatchesFiniteDifferences) {
  const AttnCase cases[] = {{{3, 1, 5}, 2, 2, 4}, {{4, 6}, 6, 2, 8}};
  for (const auto& c : cases) {
    auto a = make_attn(c, 50);
    const int64_t nq = a.N * c.Hq * c.D, nk = a.N * c.Hkv * c.D;
    std::vector<float> out(nq), lse(a.N * c.Hq);
    attention_train_forward_ref(out.data(), lse.data(), a.q.data(), a.k.data(), a.v.data(),
                                a.st.data(), a.S, c.Hq, c.Hkv, c.D);
    std::vector<float> dq(nq), dk(nk), dv(nk);
    attention_train_backward_ref(dq.data(), dk.data(), dv.data(), a.dout.data(), a.q.data(),
                                 a.k.data(), a.v.data(), out.data(), lse.data(), a.st.data(), a.S,
                                 c.Hq, c.Hkv, c.D);
    auto loss = [&] {
      std::vector<float> o(nq), l(a.N * c.Hq);
      attention_train_forward_ref(o.data(), l.data(), a.q.data(), a.k.data(), a.v.data(),
                                  a.st.data(), a.S, c.Hq, c.Hkv, c.D);
      return dot(o, a.dout);
    };
    expect_grad_matches_fd(a.q, dq, loss, "attention dq", 60);
    expect_grad_matches_fd(a.k, dk, loss, "attention dk", 60);
    expect_grad_matches_fd(a.v, dv, loss, "attention dv", 60);
  }
}

// Packed sequences never see each other: two sequences packed give what each gives alone.
TEST(AttentionTrain, PackedEqualsSeparate) {
  const int64_t Hq = 6, Hkv = 2, D = 16;
  const AttnCase packed{{70, 33}, Hq, Hkv, D};
  const auto a = make_attn(packed, 60);
  const int64_t N = a.N, nq = N * Hq * D, nk = N * Hkv * D;
  std::vector<float> out(nq), lse(N * Hq), dq(nq), dk(nk), dv(nk);
  attention_train_forward(out.data(), lse.data(), a.q.data(), a.k.data(), a.v.data(), a.st.data(),
                          a.S, Hq, Hkv, D);
  attention_train_backward(dq.data(), dk.data(), dv.data(), a.dout.data(), a.q.data(), a.k.data(),
                           a.v.data(), out.data(), lse.data(), a.st.data(), a.S, Hq, Hkv, D);
  for (int s = 0; s < 2; ++s) {
    const int64_t r0 = a.st[s], len = a.st[s + 1] - a.st[s];
    const int32_t st[2] = {0, static_cast<int32_t>(len)};
    const int64_t oq = r0 * Hq * D, ok = r0 * Hkv * D;
    std::vector<float> o(len * Hq * D), l(len * Hq), gq(len * Hq * D), gk(len * Hkv * D),
        gv(len * Hkv * D);
    attention_train_forward(o.data(), l.data(), a.q.data() + oq, a.k.data() + ok,
                            a.v.data() + ok, st, 1, Hq, Hkv, D);
    attention_train_backward(gq.data(), gk.data(), gv.data(), a.dout.data() + oq, a.q.data() + oq,
                             a.k.data() + ok, a.v.data() + ok, o.data(), l.data(), st, 1, Hq, Hkv,
                             D);
    auto slice = [](const std::vector<float>& x, int64_t off, int64_t n) {
      return std::vector<float>(x.begin() + off, x.begin() + off + n);
    };
    EXPECT_TRUE(bitwise_equal(slice(out, oq, len * Hq * D), o)) << "seq " << s;
    EXPECT_TRUE(bitwise_equal(slice(lse, r0 * Hq, len * Hq), l)) << "seq " << s;
    EXPECT_TRUE(bitwise_equal(slice(dq, oq, len * Hq * D), gq)) << "seq " << s;
    EXPECT_TRUE(bitwise_equal(slice(dk, ok, len * Hkv * D), gk)) << "seq " << s;
    EXPECT_TRUE(bitwise_equal(slice(dv, ok, len * Hkv * D), gv)) << "seq " << s;
  }
  // The same through the reference: packed equals separate, so a leak would show in both.
  std::vector<float> out_ref(nq), lse_ref(N * Hq);
  attention_train_forward_ref(out_ref.data(), lse_ref.data(), a.q.data(), a.k.data(), a.v.data(),
                              a.st.data(), a.S, Hq, Hkv, D);
  EXPECT_LT(rel_diff(out, out_ref), 1e-5);
}

// ---------------------------------------------------------------- LM head + cross-entropy

TEST(CrossEntropy, MatchesReference) {
  const int64_t shapes[][3] = {{1, 8, 5}, {37, 24, 50}, {300, 16, 70}, {20, 32, 70000}};
  for (const auto& s : shapes) {
    const int64_t R = s[0], C = s[1], V = s[2];
    auto h = randn(R * C, 70), w = randn(V * C, 71, 0.5f);
    auto t = rand_ids(R, static_cast<int32_t>(V), 72);
    const float gs = 0.25f;
    std::vector<float> dh(R * C, 9.0f), dh_ref(R * C, -9.0f);  // overwritten
    auto dw = randn(V * C, 73), dw_ref = dw;                    // accumulated
    const auto res = lm_head_cross_entropy(dh.data(), dw.data(), h.data(), t.data(), w.data(), R, C,
                                           V, gs);
    const auto ref = lm_head_cross_entropy_ref(dh_ref.data(), dw_ref.data(), h.data(), t.data(),
                                               w.data(), R, C, V, gs);
    EXPECT_NEAR(res.loss_sum, ref.loss_sum, 1e-5 * std::fabs(ref.loss_sum)) << "R=" << R;
    EXPECT_EQ(res.n_correct, ref.n_correct) << "R=" << R;
    EXPECT_LT(rel_diff(dh, dh_ref), 1e-5) << "R=" << R << " V=" << V;
    EXPECT_LT(rel_diff(dw, dw_ref), 1e-5) << "R=" << R << " V=" << V;
    // Loss only, and each gradient alone, give the same numbers.
    const auto loss_only =
        lm_head_cross_entropy(nullptr, nullptr, h.data(), t.data(), w.data(), R, C, V, gs);
    EXPECT_EQ(loss_only.loss_sum, res.loss_sum);
    EXPECT_EQ(loss_only.n_correct, res.n_correct);
    std::vector<float> dh2(R * C);
    lm_head_cross_entropy(dh2.data(), nullptr, h.data(), t.data(), w.data(), R, C, V, gs);
    EXPECT_TRUE(bitwise_equal(dh2, dh));
  }
}

TEST(CrossEntropy, TiesAndUniformLogits) {
  // Zero weight: all logits equal, loss log(V) per row, argmax is index 0.
  const int64_t R = 9, C = 4, V = 10;
  auto h = randn(R * C, 74);
  std::vector<float> w(V * C, 0.0f);
  std::vector<int32_t> t = {0, 3, 0, 9, 1, 0, 2, 2, 0};
  for (auto fn : {&lm_head_cross_entropy, &lm_head_cross_entropy_ref}) {
    const auto res = fn(nullptr, nullptr, h.data(), t.data(), w.data(), R, C, V, 1.0f);
    EXPECT_NEAR(res.loss_sum, R * std::log(static_cast<double>(V)), 1e-5);
    EXPECT_EQ(res.n_correct, 4);
  }
}

TEST(CrossEntropy, ReferenceMatchesFiniteDifferences) {
  const int64_t R = 3, C = 5, V = 7;
  auto h = randn(R * C, 75), w = randn(V * C, 76);
  auto t = rand_ids(R, V, 77);
  std::vector<float> dh(R * C), dw(V * C, 0.0f);
  lm_head_cross_entropy_ref(dh.data(), dw.data(), h.data(), t.data(), w.data(), R, C, V, 1.0f);
  auto loss = [&] {
    return lm_head_cross_entropy_ref(nullptr, nullptr, h.data(), t.data(), w.data(), R, C, V, 1.0f)
        .loss_sum;
  };
  expect_grad_matches_fd(h, dh, loss, "cross-entropy dhidden", R * C);
  expect_grad_matches_fd(w, dw, loss, "cross-entropy dweight", V * C);
}

// ---------------------------------------------------------------- Determinism

// Gradient reductions use fixed chunking, not atomics: reruns give the same bits, and so do
// different thread counts where no BLAS call sits between (BLAS may split work by thread count).
TEST(Determinism, BackwardIsBitwiseRepeatable) {
  const int max_threads = omp_get_max_threads();
  auto with_threads = [&](int n, const std::function<void()>& f) {
    omp_set_num_threads(n);
    f();
    omp_set_num_threads(max_threads);
  };
  {
    const int64_t rows = 333, C = 96;
    auto x = randn(rows * C, 80), w = randn(C, 81), dy = randn(rows * C, 82);
    std::vector<float> y(rows * C), rstd(rows);
    rmsnorm_forward_train(y.data(), rstd.data(), x.data(), w.data(), 1e-5f, rows, C);
    auto run = [&] {
      std::vector<float> dx(rows * C, 0.0f), dw(C, 0.0f);
      rmsnorm_backward(dx.data(), dw.data(), dy.data(), x.data(), w.data(), rstd.data(), rows, C);
      dx.insert(dx.end(), dw.begin(), dw.end());
      return dx;
    };
    std::vector<float> a, b, c;
    with_threads(1, [&] { a = run(); });
    with_threads(max_threads, [&] { b = run(); });
    with_threads(3, [&] { c = run(); });
    EXPECT_TRUE(bitwise_equal(a, b));
    EXPECT_TRUE(bitwise_equal(a, c));
  }
  {
    const int64_t V = 13, C = 520, T = 400;
    auto ids = rand_ids(T, V, 83);
    auto dy = randn(T * C, 84);
    auto run = [&] {
      std::vector<float> dt(V * C, 0.0f);
      embedding_backward(dt.data(), ids.data(), dy.data(), T, C);
      return dt;
    };
    std::vector<float> a, b;
    with_threads(1, [&] { a = run(); });
    with_threads(max_threads, [&] { b = run(); });
    EXPECT_TRUE(bitwise_equal(a, b));
  }
  {
    const AttnCase c{{64, 1, 200, 31}, 9, 3, 64};
    const auto d = make_attn(c, 85);
    const int64_t nq = d.N * c.Hq * c.D, nk = d.N * c.Hkv * c.D;
    std::vector<float> out(nq), lse(d.N * c.Hq);
    attention_train_forward(out.data(), lse.data(), d.q.data(), d.k.data(), d.v.data(),
                            d.st.data(), d.S, c.Hq, c.Hkv, c.D);
    auto run = [&] {
      std::vector<float> dq(nq), dk(nk), dv(nk);
      attention_train_backward(dq.data(), dk.data(), dv.data(), d.dout.data(), d.q.data(),
                               d.k.data(), d.v.data(), out.data(), lse.data(), d.st.data(), d.S,
                               c.Hq, c.Hkv, c.D);
      dq.insert(dq.end(), dk.begin(), dk.end());
      dq.insert(dq.end(), dv.begin(), dv.end());
      return dq;
    };
    std::vector<float> a = run(), b = run(), e;
    with_threads(3, [&] { e = run(); });
    EXPECT_TRUE(bitwise_equal(a, b));
    EXPECT_TRUE(bitwise_equal(a, e));
  }
  {
    const int64_t M = 77, K = 96, N = 130;
    auto x = randn(M * K, 86), w = randn(N * K, 87), dy = randn(M * N, 88);
    auto run = [&] {
      std::vector<float> dx(M * K), dw(N * K, 0.0f), db(N, 0.0f);
      matmul_backward(dx.data(), dw.data(), db.data(), dy.data(), x.data(), w.data(), M, K, N);
      dx.insert(dx.end(), dw.begin(), dw.end());
      dx.insert(dx.end(), db.begin(), db.end());
      return dx;
    };
    EXPECT_TRUE(bitwise_equal(run(), run()));
  }
  {
    const int64_t R = 150, C = 32, V = 3000;
    auto h = randn(R * C, 89), w = randn(V * C, 90, 0.3f);
    auto t = rand_ids(R, V, 91);
    auto run = [&] {
      std::vector<float> dh(R * C), dw(V * C, 0.0f);
      const auto res =
          lm_head_cross_entropy(dh.data(), dw.data(), h.data(), t.data(), w.data(), R, C, V, 1.0f);
      dh.insert(dh.end(), dw.begin(), dw.end());
      dh.push_back(static_cast<float>(res.loss_sum));
      return dh;
    };
    EXPECT_TRUE(bitwise_equal(run(), run()));
  }
}

}  // namespace
}  // namespace tsft
