#include "train/train_model.h"

#include <algorithm>
#include <cstring>

#include "backend/cpu/attention_train.h"
#include "backend/cpu/cross_entropy.h"
#include "backend/cpu/dequant.h"
#include "backend/cpu/embedding.h"
#include "backend/cpu/matmul.h"
#include "backend/cpu/rmsnorm.h"
#include "backend/cpu/rope.h"
#include "backend/cpu/swiglu.h"
#include "core/error.h"

namespace tsft {

// What one block keeps from forward for backward. The block input lives in xs_in_.
struct TrainableModel::Acts {
  std::vector<float> rstd1, xn1, q_raw, k_raw, rstd_q, rstd_k, q, k, v, att, lse, h, rstd2, xn2,
      g, u, act;
  std::vector<float> lora_xs[kNumLoraTargets];  // (N, r) scale * dropout(x) A^T
};

namespace {

void grow(std::vector<float>& v, int64_t n) {
  if (static_cast<int64_t>(v.size()) < n) v.resize(static_cast<size_t>(n));
}

const float* opt_ptr(const Tensor& t) { return t.data == nullptr ? nullptr : t.f32(); }
float* grad_ptr(Tensor& t) { return t.data == nullptr ? nullptr : t.f32(); }

void add_inplace(float* y, const float* x, int64_t n) {
#pragma omp parallel for simd schedule(static)
  for (int64_t i = 0; i < n; ++i) y[i] += x[i];
}

// A counter-based hash so a dropout mask is a pure function of where it is used: the same in
// forward, in backward and in a recomputed forward, whatever the thread schedule.
inline uint32_t mix(uint64_t z) {
  z += 0x9e3779b97f4a7c15ull;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return static_cast<uint32_t>((z ^ (z >> 31)) >> 32);
}

// out = x * mask / (1 - p) where mask drops with probability p.
void apply_dropout(float* out, const float* x, int64_t n, float p, uint64_t key) {
  const uint32_t threshold = static_cast<uint32_t>(static_cast<double>(p) * 4294967296.0);
  const float keep_scale = 1.0f / (1.0f - p);
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < n; ++i)
    out[i] = mix(key ^ (static_cast<uint64_t>(i) * 0xd1342543de82ef95ull)) >= threshold
                 ? x[i] * keep_scale
                 : 0.0f;
}

uint64_t dropout_key(uint64_t key, int64_t layer, LoraTarget t) {
  return mix(key * 1000003ull + static_cast<uint64_t>(layer) * 16 + static_cast<uint64_t>(t)) *
             0x100000001b3ull ^
         key;
}

bool no_decay_name(const std::string& name) {
  return name.find("bias") != std::string::npos || name.find("norm") != std::string::npos;
}

}  // namespace

TrainableModel::TrainableModel(const ModelConfig& cfg, ModelWeights& weights, LoraWeights* lora,
                               TrainModelOptions opt)
    : cfg_(cfg), w_(weights), lora_(lora), opt_(opt) {
  inv_freq_.resize(static_cast<size_t>(cfg_.head_dim / 2));
  rope_inv_freq(inv_freq_.data(), cfg_.head_dim, cfg_.rope_theta, cfg_.rope_scaling);
  if (lora_ == nullptr) {
    gw_ = ModelWeights::allocate(cfg_);
    std::vector<std::pair<std::string, Tensor>> vals, grads;
    w_.for_each(cfg_, [&](const std::string& n, Tensor& t, Tensor*) { vals.emplace_back(n, t); });
    gw_.for_each(cfg_, [&](const std::string& n, Tensor& t, Tensor*) { grads.emplace_back(n, t); });
    TSFT_CHECK(vals.size() == grads.size());
    for (size_t i = 0; i < vals.size(); ++i) {
      TSFT_CHECK(vals[i].second.numel() == grads[i].second.numel());
      params_.push_back(Param{vals[i].first, vals[i].second.f32(), grads[i].second.f32(),
                              vals[i].second.numel(), !no_decay_name(vals[i].first)});
    }
  } else {
    glora_ = LoraWeights::allocate(cfg_, lora_->config);
    std::vector<std::pair<std::string, Tensor>> vals, grads;
    lora_->for_each([&](const std::string& n, Tensor& t) { vals.emplace_back(n, t); });
    glora_.for_each([&](const std::string& n, Tensor& t) { grads.emplace_back(n, t); });
    TSFT_CHECK(vals.size() == grads.size());
    for (size_t i = 0; i < vals.size(); ++i)
      params_.push_back(Param{vals[i].first, vals[i].second.f32(), grads[i].second.f32(),
                              vals[i].second.numel(), true});
  }
  zero_grad();
}

TrainableModel::~TrainableModel() = default;

void TrainableModel::zero_grad() {
  // In parallel: a single-threaded memset of a 135M-parameter model's gradients is ~2% of a step.
  constexpr int64_t kChunk = 1 << 16;
  for (Param& p : params_) {
    const int64_t n_chunks = (p.numel + kChunk - 1) / kChunk;
#pragma omp parallel for schedule(static) if (n_chunks > 1)
    for (int64_t c = 0; c < n_chunks; ++c)
      std::memset(p.grad + c * kChunk, 0,
                  sizeof(float) * static_cast<size_t>(std::min(kChunk, p.numel - c * kChunk)));
  }
}

ActivationPlan TrainableModel::plan(int64_t N) const {
  const int64_t C = cfg_.hidden, Q = cfg_.q_dim(), KV = cfg_.kv_dim(), F = cfg_.intermediate,
                Hq = cfg_.n_heads, Hkv = cfg_.n_kv_heads, L = cfg_.n_layers;
  int64_t per_layer = 2 * N + 2 * N * C + 2 * N * KV + 2 * N * Q + N * Hq + N * C + 3 * N * F;
  if (cfg_.qk_norm) per_layer += N * Q + N * KV + N * Hq + N * Hkv;
  if (lora_ != nullptr) per_layer += kNumLoraTargets * N * lora_->config.rank;
  const int64_t n_acts = opt_.gradient_checkpointing ? 1 : L;
  ActivationPlan p;
  p.saved_bytes = 4 * ((L + 1) * N * C + n_acts * per_layer);
  p.scratch_bytes = 4 * (N * C * 2 + 3 * N * F + 2 * N * Q + 3 * N * KV + N * std::max(C, F));
  return p;
}

void TrainableModel::ensure(int64_t N) {
  if (N <= cap_) return;
  const int64_t C = cfg_.hidden, Q = cfg_.q_dim(), KV = cfg_.kv_dim(), F = cfg_.intermediate,
                Hq = cfg_.n_heads, Hkv = cfg_.n_kv_heads, L = cfg_.n_layers, D = cfg_.head_dim;
  const size_t n_acts = opt_.gradient_checkpointing ? 1 : static_cast<size_t>(L);
  acts_.resize(n_acts);
  for (Acts& a : acts_) {
    grow(a.rstd1, N), grow(a.xn1, N * C), grow(a.q, N * Q), grow(a.k, N * KV), grow(a.v, N * KV);
    grow(a.att, N * Q), grow(a.lse, N * Hq), grow(a.h, N * C), grow(a.rstd2, N);
    grow(a.xn2, N * C), grow(a.g, N * F), grow(a.u, N * F), grow(a.act, N * F);
    if (cfg_.qk_norm) {
      grow(a.q_raw, N * Q), grow(a.k_raw, N * KV), grow(a.rstd_q, N * Hq), grow(a.rstd_k, N * Hkv);
    }
    if (lora_ != nullptr)
      for (int t = 0; t < kNumLoraTargets; ++t)
        if (lora_->layers[0][t].enabled) grow(a.lora_xs[t], N * lora_->config.rank);
  }
  grow(xs_in_, (L + 1) * N * C);
  grow(cos_, N * D / 2), grow(sin_, N * D / 2);
  grow(dx_, N * C), grow(tmp_c_, N * C), grow(tmp_f_, N * F), grow(tmp_f2_, N * F);
  grow(tmp_f3_, N * F), grow(tmp_q_, N * Q), grow(tmp_q2_, N * Q), grow(tmp_kv_, N * KV);
  grow(tmp_kv2_, N * KV), grow(tmp_kv3_, N * KV);
  if (lora_ != nullptr) {
    grow(lora_d_, N * lora_->config.rank);
    if (lora_->config.dropout > 0) grow(drop_, N * std::max(C, std::max(F, Q)));
  }
  cap_ = N;
}

const float* TrainableModel::base(const Tensor& w, const Tensor& wq) {
  if (w.data != nullptr) return w.f32();
  // A frozen base kept only as quantized blocks: dequantize this matrix for this use.
  TSFT_CHECK(wq.data != nullptr && lora_ != nullptr, "weight has neither float32 nor blocks");
  grow(wbuf_, w.numel());
  dequantize_row(wq.dtype, wq.data, wbuf_.data(), w.numel());
  return wbuf_.data();
}

void TrainableModel::linear_fwd(float* y, const float* x, const Tensor& w, const Tensor& wq,
                                const Tensor& b, int64_t N, int64_t in, int64_t out) {
  matmul_forward(y, x, base(w, wq), opt_ptr(b), N, in, out);
}

void TrainableModel::lora_forward(int64_t l, LoraTarget t, float* y, const float* x, float* xs,
                                  int64_t N, int64_t in, int64_t out, bool train, uint64_t key) {
  if (lora_ == nullptr) return;
  const LoraPair& p = lora_->layers[l][static_cast<int>(t)];
  if (!p.enabled) return;
  const int64_t r = lora_->config.rank;
  const float s = lora_->config.scale(), pdrop = lora_->config.dropout;
  const float* xin = x;
  if (train && pdrop > 0) {
    apply_dropout(drop_.data(), x, N * in, pdrop, dropout_key(key, l, t));
    xin = drop_.data();
  }
  gemm_nt(xs, r, xin, in, p.a.f32(), in, N, r, in, s, 0.0f);        // xs = s * x A^T  (N, r)
  gemm_nt(y, out, xs, r, p.b.f32(), r, N, out, r, 1.0f, 1.0f);      // y += xs B^T    (N, out)
}

void TrainableModel::lora_backward(int64_t l, LoraTarget t, float* dx, const float* dy,
                                   const float* x, const float* xs, int64_t N, int64_t in,
                                   int64_t out, uint64_t key) {
  if (lora_ == nullptr) return;
  const LoraPair& p = lora_->layers[l][static_cast<int>(t)];
  if (!p.enabled) return;
  LoraPair& g = glora_.layers[l][static_cast<int>(t)];
  const int64_t r = lora_->config.rank;
  const float s = lora_->config.scale(), pdrop = lora_->config.dropout;
  matmul_backward(nullptr, g.b.f32(), nullptr, dy, xs, p.b.f32(), N, r, out);  // dB += dy^T xs
  float* dxa = lora_d_.data();
  gemm_nn(dxa, r, dy, out, p.b.f32(), r, N, r, out, s, 0.0f);  // d(x A^T) = s dy B   (N, r)
  const float* xin = x;
  if (pdrop > 0) {
    apply_dropout(drop_.data(), x, N * in, pdrop, dropout_key(key, l, t));
    xin = drop_.data();
  }
  matmul_backward(nullptr, g.a.f32(), nullptr, dxa, xin, p.a.f32(), N, in, r);  // dA += dxa^T x
  if (pdrop == 0) {
    gemm_nn(dx, in, dxa, r, p.a.f32(), in, N, in, r, 1.0f, 1.0f);  // dx += dxa A
  } else {
    // dx += dropout'(dxa A): the same mask, applied to the gradient.
    float* tmp = drop_.data();
    gemm_nn(tmp, in, dxa, r, p.a.f32(), in, N, in, r, 1.0f, 0.0f);
    apply_dropout(tmp, tmp, N * in, pdrop, dropout_key(key, l, t));
    add_inplace(dx, tmp, N * in);
  }
}

void TrainableModel::layer_forward(int64_t l, const float* x, Acts& a, int64_t N, bool train,
                                   uint64_t key) {
  const int64_t C = cfg_.hidden, Q = cfg_.q_dim(), KV = cfg_.kv_dim(), F = cfg_.intermediate,
                D = cfg_.head_dim, Hq = cfg_.n_heads, Hkv = cfg_.n_kv_heads;
  const float eps = cfg_.rms_eps;
  const LayerWeights& lw = w_.layers[l];
  float* x_next = xs_in_.data() + (l + 1) * N * C;
  float* xs[kNumLoraTargets] = {};
  for (int t = 0; t < kNumLoraTargets; ++t) xs[t] = a.lora_xs[t].data();

  rmsnorm_forward_train(a.xn1.data(), a.rstd1.data(), x, lw.attn_norm.f32(), eps, N, C);
  float* q_out = cfg_.qk_norm ? a.q_raw.data() : a.q.data();
  float* k_out = cfg_.qk_norm ? a.k_raw.data() : a.k.data();
  linear_fwd(q_out, a.xn1.data(), lw.wq, lw.wq_q, lw.bq, N, C, Q);
  lora_forward(l, LoraTarget::kQ, q_out, a.xn1.data(), xs[0], N, C, Q, train, key);
  linear_fwd(k_out, a.xn1.data(), lw.wk, lw.wk_q, lw.bk, N, C, KV);
  lora_forward(l, LoraTarget::kK, k_out, a.xn1.data(), xs[1], N, C, KV, train, key);
  linear_fwd(a.v.data(), a.xn1.data(), lw.wv, lw.wv_q, lw.bv, N, C, KV);
  lora_forward(l, LoraTarget::kV, a.v.data(), a.xn1.data(), xs[2], N, C, KV, train, key);
  if (cfg_.qk_norm) {
    rmsnorm_forward_train(a.q.data(), a.rstd_q.data(), a.q_raw.data(), lw.q_norm.f32(), eps,
                          N * Hq, D);
    rmsnorm_forward_train(a.k.data(), a.rstd_k.data(), a.k_raw.data(), lw.k_norm.f32(), eps,
                          N * Hkv, D);
  }
  rope_forward(a.q.data(), cos_.data(), sin_.data(), N, Hq, D);
  rope_forward(a.k.data(), cos_.data(), sin_.data(), N, Hkv, D);
  attention_train_forward(a.att.data(), a.lse.data(), a.q.data(), a.k.data(), a.v.data(),
                          batch_->seq_start.data(), batch_->num_sequences(), Hq, Hkv, D);
  linear_fwd(a.h.data(), a.att.data(), lw.wo, lw.wo_q, Tensor{}, N, Q, C);
  lora_forward(l, LoraTarget::kO, a.h.data(), a.att.data(), xs[3], N, Q, C, train, key);
  add_inplace(a.h.data(), x, N * C);

  rmsnorm_forward_train(a.xn2.data(), a.rstd2.data(), a.h.data(), lw.ffn_norm.f32(), eps, N, C);
  linear_fwd(a.g.data(), a.xn2.data(), lw.w_gate, lw.w_gate_q, Tensor{}, N, C, F);
  lora_forward(l, LoraTarget::kGate, a.g.data(), a.xn2.data(), xs[4], N, C, F, train, key);
  linear_fwd(a.u.data(), a.xn2.data(), lw.w_up, lw.w_up_q, Tensor{}, N, C, F);
  lora_forward(l, LoraTarget::kUp, a.u.data(), a.xn2.data(), xs[5], N, C, F, train, key);
  swiglu_forward(a.act.data(), a.g.data(), a.u.data(), N * F);
  linear_fwd(x_next, a.act.data(), lw.w_down, lw.w_down_q, Tensor{}, N, F, C);
  lora_forward(l, LoraTarget::kDown, x_next, a.act.data(), xs[6], N, F, C, train, key);
  add_inplace(x_next, a.h.data(), N * C);
}

void TrainableModel::layer_backward(int64_t l, float* dx, const Acts& a, int64_t N, uint64_t key) {
  const int64_t C = cfg_.hidden, Q = cfg_.q_dim(), KV = cfg_.kv_dim(), F = cfg_.intermediate,
                D = cfg_.head_dim, Hq = cfg_.n_heads, Hkv = cfg_.n_kv_heads;
  const bool full = lora_ == nullptr;
  const LayerWeights& lw = w_.layers[l];
  LayerWeights* gl = full ? &gw_.layers[l] : nullptr;
  auto gw = [&](Tensor LayerWeights::*m) -> float* { return full ? grad_ptr(gl->*m) : nullptr; };
  const float* x = xs_in_.data() + l * N * C;
  auto xs = [&](LoraTarget t) { return a.lora_xs[static_cast<int>(t)].data(); };

  // MLP: dx holds d(x_next), which is also d(h) through the residual.
  float* da = tmp_f_.data();
  matmul_backward(da, gw(&LayerWeights::w_down), nullptr, dx, a.act.data(), base(lw.w_down, lw.w_down_q), N, F,
                  C);
  lora_backward(l, LoraTarget::kDown, da, dx, a.act.data(), xs(LoraTarget::kDown), N, F, C, key);
  float* dg = tmp_f2_.data();
  float* du = tmp_f3_.data();
  swiglu_backward(dg, du, da, a.g.data(), a.u.data(), N * F);
  float* dxn = tmp_c_.data();
  matmul_backward(dxn, gw(&LayerWeights::w_gate), nullptr, dg, a.xn2.data(), base(lw.w_gate, lw.w_gate_q), N, C,
                  F);
  lora_backward(l, LoraTarget::kGate, dxn, dg, a.xn2.data(), xs(LoraTarget::kGate), N, C, F, key);
  gemm_nn(dxn, C, du, F, base(lw.w_up, lw.w_up_q), C, N, C, F, 1.0f, 1.0f);
  if (full)
    matmul_backward(nullptr, gw(&LayerWeights::w_up), nullptr, du, a.xn2.data(), base(lw.w_up, lw.w_up_q), N,
                    C, F);
  lora_backward(l, LoraTarget::kUp, dxn, du, a.xn2.data(), xs(LoraTarget::kUp), N, C, F, key);
  rmsnorm_backward(dx, gw(&LayerWeights::ffn_norm), dxn, a.h.data(), lw.ffn_norm.f32(),
                   a.rstd2.data(), N, C);

  // Attention: dx now holds d(h), which is also d(x) through the residual.
  float* datt = tmp_q_.data();
  matmul_backward(datt, gw(&LayerWeights::wo), nullptr, dx, a.att.data(), base(lw.wo, lw.wo_q), N, Q, C);
  lora_backward(l, LoraTarget::kO, datt, dx, a.att.data(), xs(LoraTarget::kO), N, Q, C, key);
  float* dq = tmp_q2_.data();
  float* dk = tmp_kv_.data();
  float* dv = tmp_kv2_.data();
  attention_train_backward(dq, dk, dv, datt, a.q.data(), a.k.data(), a.v.data(), a.att.data(),
                           a.lse.data(), batch_->seq_start.data(), batch_->num_sequences(), Hq, Hkv,
                           D);
  rope_backward(dq, cos_.data(), sin_.data(), N, Hq, D);
  rope_backward(dk, cos_.data(), sin_.data(), N, Hkv, D);
  if (cfg_.qk_norm) {
    float* dq_raw = tmp_q_.data();  // datt is no longer needed
    float* dk_raw = tmp_kv3_.data();
    std::memset(dq_raw, 0, sizeof(float) * static_cast<size_t>(N * Q));
    std::memset(dk_raw, 0, sizeof(float) * static_cast<size_t>(N * KV));
    rmsnorm_backward(dq_raw, gw(&LayerWeights::q_norm), dq, a.q_raw.data(), lw.q_norm.f32(),
                     a.rstd_q.data(), N * Hq, D);
    rmsnorm_backward(dk_raw, gw(&LayerWeights::k_norm), dk, a.k_raw.data(), lw.k_norm.f32(),
                     a.rstd_k.data(), N * Hkv, D);
    dq = dq_raw;
    dk = dk_raw;
  }
  matmul_backward(dxn, gw(&LayerWeights::wq), gw(&LayerWeights::bq), dq, a.xn1.data(),
                  base(lw.wq, lw.wq_q), N, C, Q);
  lora_backward(l, LoraTarget::kQ, dxn, dq, a.xn1.data(), xs(LoraTarget::kQ), N, C, Q, key);
  gemm_nn(dxn, C, dk, KV, base(lw.wk, lw.wk_q), C, N, C, KV, 1.0f, 1.0f);
  gemm_nn(dxn, C, dv, KV, base(lw.wv, lw.wv_q), C, N, C, KV, 1.0f, 1.0f);
  if (full) {
    matmul_backward(nullptr, gw(&LayerWeights::wk), gw(&LayerWeights::bk), dk, a.xn1.data(),
                    base(lw.wk, lw.wk_q), N, C, KV);
    matmul_backward(nullptr, gw(&LayerWeights::wv), gw(&LayerWeights::bv), dv, a.xn1.data(),
                    base(lw.wv, lw.wv_q), N, C, KV);
  }
  lora_backward(l, LoraTarget::kK, dxn, dk, a.xn1.data(), xs(LoraTarget::kK), N, C, KV, key);
  lora_backward(l, LoraTarget::kV, dxn, dv, a.xn1.data(), xs(LoraTarget::kV), N, C, KV, key);
  rmsnorm_backward(dx, gw(&LayerWeights::attn_norm), dxn, x, lw.attn_norm.f32(), a.rstd1.data(), N,
                   C);
}

LossStats TrainableModel::head_loss(const Batch& b, const float* x_last, float grad_scale,
                                    float* dx_last) {
  const int64_t C = cfg_.hidden, V = cfg_.vocab, N = b.num_tokens();
  head_rows_.clear();
  head_tgt_.clear();
  for (int64_t t = 0; t < N; ++t)
    if (b.targets[t] >= 0) {
      if (b.targets[t] >= V) fail("target token id ", b.targets[t], " is outside the vocabulary (size ", V, ")");
      head_rows_.push_back(static_cast<int32_t>(t));
      head_tgt_.push_back(b.targets[t]);
    }
  const int64_t R = static_cast<int64_t>(head_rows_.size());
  LossStats st;
  st.loss_tokens = R;
  if (dx_last != nullptr) std::memset(dx_last, 0, sizeof(float) * static_cast<size_t>(N * C));
  if (R == 0) return st;
  grow(head_x_, 2 * R * C), grow(head_dx_, 2 * R * C), grow(head_rstd_, R);
  float* hx = head_x_.data();
  float* hn = head_x_.data() + R * C;
  for (int64_t i = 0; i < R; ++i)
    std::memcpy(hx + i * C, x_last + static_cast<int64_t>(head_rows_[i]) * C, sizeof(float) * C);
  rmsnorm_forward_train(hn, head_rstd_.data(), hx, w_.final_norm.f32(), cfg_.rms_eps, R, C);
  const bool full = lora_ == nullptr;
  float* dhn = dx_last != nullptr ? head_dx_.data() : nullptr;
  float* dw_head = (full && dx_last != nullptr) ? gw_.lm_head.f32() : nullptr;
  CrossEntropyResult ce = lm_head_cross_entropy(dhn, dw_head, hn, head_tgt_.data(),
                                                w_.lm_head.f32(), R, C, V, grad_scale);
  st.loss_sum = ce.loss_sum;
  st.correct = ce.n_correct;
  if (dx_last == nullptr) return st;
  float* dhx = head_dx_.data() + R * C;
  std::memset(dhx, 0, sizeof(float) * static_cast<size_t>(R * C));
  rmsnorm_backward(dhx, full ? gw_.final_norm.f32() : nullptr, dhn, hx, w_.final_norm.f32(),
                   head_rstd_.data(), R, C);
  for (int64_t i = 0; i < R; ++i)
    std::memcpy(dx_last + static_cast<int64_t>(head_rows_[i]) * C, dhx + i * C, sizeof(float) * C);
  return st;
}

namespace {

// Tokens after the last loss position of a sequence cannot change any loss (attention is causal),
// so they are dropped before any work; a sequence without loss positions goes entirely.
// Returns false when nothing needs trimming (the batch is used as it is).
bool trim_to_loss(const Batch& b, Batch& out) {
  bool trimmed = false;
  std::vector<int32_t> keep_end(b.num_sequences());
  for (int64_t s = 0; s < b.num_sequences(); ++s) {
    int32_t end = b.seq_start[s];
    for (int32_t t = b.seq_start[s]; t < b.seq_start[s + 1]; ++t)
      if (b.targets[t] >= 0) end = t + 1;
    keep_end[s] = end;
    trimmed |= end != b.seq_start[s + 1];
  }
  if (!trimmed) return false;
  out = Batch{};
  out.rows = b.rows;
  out.seq_start.push_back(0);
  for (int64_t s = 0; s < b.num_sequences(); ++s) {
    if (keep_end[s] == b.seq_start[s]) continue;
    for (int32_t t = b.seq_start[s]; t < keep_end[s]; ++t) {
      out.tokens.push_back(b.tokens[t]);
      out.positions.push_back(b.positions[t]);
      out.targets.push_back(b.targets[t]);
    }
    out.seq_start.push_back(static_cast<int32_t>(out.tokens.size()));
  }
  return true;
}

void check_batch(const Batch& b, int64_t V) {
  const int64_t N = b.num_tokens();
  TSFT_CHECK(N > 0 && b.num_sequences() >= 1 && b.seq_start.front() == 0 &&
                 b.seq_start.back() == N && static_cast<int64_t>(b.positions.size()) == N &&
                 static_cast<int64_t>(b.targets.size()) == N,
             "malformed batch");
  for (int64_t t = 0; t < N; ++t)
    if (b.tokens[t] < 0 || b.tokens[t] >= V)
      fail("token id ", b.tokens[t], " is outside the vocabulary (size ", V, ")");
}
}  // namespace

const Batch* TrainableModel::begin(const Batch& batch, Batch& trimmed, bool train, uint64_t key) {
  check_batch(batch, cfg_.vocab);
  const Batch* b = &batch;
  if (trim_to_loss(batch, trimmed)) {
    if (trimmed.num_tokens() == 0) return nullptr;
    b = &trimmed;
  }
  const int64_t N = b->num_tokens(), C = cfg_.hidden;
  ensure(N);
  batch_ = b;
  rope_cos_sin(cos_.data(), sin_.data(), b->positions.data(), inv_freq_.data(), N, cfg_.head_dim);
  embedding_forward(xs_in_.data(), b->tokens.data(), w_.embed.f32(), N, C);
  // With recomputation (and in evaluation) one set of activations serves every layer.
  const bool one_set = !train || opt_.gradient_checkpointing;
  for (int64_t l = 0; l < cfg_.n_layers; ++l)
    layer_forward(l, xs_in_.data() + l * N * C, acts_[one_set ? 0 : l], N, train, key);
  return b;
}

LossStats TrainableModel::forward_backward(const Batch& batch, float grad_scale, uint64_t key) {
  Batch trimmed;
  const Batch* bp = begin(batch, trimmed, true, key);
  if (bp == nullptr) return LossStats{};
  const Batch& b = *bp;
  const int64_t N = b.num_tokens(), C = cfg_.hidden, L = cfg_.n_layers;
  LossStats st = head_loss(b, xs_in_.data() + L * N * C, grad_scale, dx_.data());
  const bool ckpt = opt_.gradient_checkpointing;
  for (int64_t l = L - 1; l >= 0; --l) {
    Acts& a = acts_[ckpt ? 0 : l];
    if (ckpt) layer_forward(l, xs_in_.data() + l * N * C, a, N, true, key);
    layer_backward(l, dx_.data(), a, N, key);
  }
  if (lora_ == nullptr) embedding_backward(gw_.embed.f32(), b.tokens.data(), dx_.data(), N, C);
  batch_ = nullptr;
  return st;
}

LossStats TrainableModel::forward_loss(const Batch& batch) {
  Batch trimmed;
  const Batch* b = begin(batch, trimmed, false, 0);
  if (b == nullptr) return LossStats{};
  const LossStats st =
      head_loss(*b, xs_in_.data() + cfg_.n_layers * b->num_tokens() * cfg_.hidden, 0.0f, nullptr);
  batch_ = nullptr;
  return st;
}

}  // namespace tsft
