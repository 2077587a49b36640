#include "model/transformer.h"

#include <algorithm>
#include <cstring>

#include "backend/cpu/attention.h"
#include "backend/cpu/embedding.h"
#include "backend/cpu/rmsnorm.h"
#include "backend/cpu/rope.h"
#include "backend/cpu/swiglu.h"
#include "core/error.h"
#include "model/linear.h"
#include "model/vocab_resize.h"

namespace tsft {
namespace {

void grow(std::vector<float>& v, int64_t n) {
  if (static_cast<int64_t>(v.size()) < n) v.resize(static_cast<size_t>(n));
}

}  // namespace

Transformer::Transformer(ModelConfig cfg, ModelWeights weights)
    : cfg_(std::move(cfg)), w_(std::move(weights)) {
  inv_freq_.resize(cfg_.head_dim / 2);
  rope_inv_freq(inv_freq_.data(), cfg_.head_dim, cfg_.rope_theta, cfg_.rope_scaling);
}

void Transformer::grow_vocab(int64_t new_vocab) {
  w_ = tsft::grow_vocab(cfg_, w_, new_vocab);
  cfg_.vocab = new_vocab;
}

void Transformer::ensure_workspace(int64_t T, int64_t S) {
  const int64_t C = cfg_.hidden, Q = cfg_.q_dim(), F = cfg_.intermediate;
  grow(x_, T * C);
  grow(xn_, T * C);
  grow(q_, T * Q);
  grow(att_, T * Q);
  grow(gate_, T * F);
  grow(up_, T * F);
  grow(cos_, T * cfg_.head_dim / 2);
  grow(sin_, T * cfg_.head_dim / 2);
  grow(scratch_, attention_scratch_floats(T, S, cfg_.n_heads));
  if (static_cast<int64_t>(pos_.size()) < T) pos_.resize(T);
}

void Transformer::forward(const int32_t* tokens, int64_t T, KvCache& cache, float* logits,
                          int64_t n_logits) {
  TSFT_CHECK(T > 0 && n_logits >= 0 && n_logits <= T);
  const int64_t C = cfg_.hidden, Q = cfg_.q_dim(), KV = cfg_.kv_dim(), F = cfg_.intermediate,
                D = cfg_.head_dim, Hq = cfg_.n_heads, Hkv = cfg_.n_kv_heads, V = cfg_.vocab;
  const int64_t past = cache.size();
  if (past + T > cache.capacity())
    fail("context full: ", past, " + ", T, " tokens exceed the cache of ", cache.capacity());
  for (int64_t t = 0; t < T; ++t)
    if (tokens[t] < 0 || tokens[t] >= V)
      fail("token id ", tokens[t], " is outside the vocabulary (size ", V, ")");
  const int64_t S = past + T;
  ensure_workspace(T, S);
  for (int64_t t = 0; t < T; ++t) pos_[t] = static_cast<int32_t>(past + t);
  rope_cos_sin(cos_.data(), sin_.data(), pos_.data(), inv_freq_.data(), T, D);

  float* x = x_.data();
  float* xn = xn_.data();
  embedding_forward(x, tokens, w_.embed.f32(), T, C);

  for (int64_t l = 0; l < cfg_.n_layers; ++l) {
    const LayerWeights& lw = w_.layers[l];
    float* k_new = cache.k(l) + past * KV;  // (T, Hkv, D) rows of the cache
    float* v_new = cache.v(l) + past * KV;

    rmsnorm_forward(xn, x, lw.attn_norm.f32(), cfg_.rms_eps, T, C);
    linear(q_.data(), xn, lw.wq, lw.wq_q, lw.bq, T, C, Q);
    linear(k_new, xn, lw.wk, lw.wk_q, lw.bk, T, C, KV);
    linear(v_new, xn, lw.wv, lw.wv_q, lw.bv, T, C, KV);
    if (cfg_.qk_norm) {
      rmsnorm_forward(q_.data(), q_.data(), lw.q_norm.f32(), cfg_.rms_eps, T * Hq, D);
      rmsnorm_forward(k_new, k_new, lw.k_norm.f32(), cfg_.rms_eps, T * Hkv, D);
    }
    rope_forward(q_.data(), cos_.data(), sin_.data(), T, Hq, D);
    rope_forward(k_new, cos_.data(), sin_.data(), T, Hkv, D);
    attention_forward(att_.data(), q_.data(), cache.k(l), cache.v(l), pos_.data(), T, S, Hq, Hkv,
                      D, scratch_.data());
    // x += att @ wo^T: reuse xn for the projection, then add.
    linear(xn, att_.data(), lw.wo, lw.wo_q, Tensor{}, T, Q, C);
    for (int64_t i = 0; i < T * C; ++i) x[i] += xn[i];

    rmsnorm_forward(xn, x, lw.ffn_norm.f32(), cfg_.rms_eps, T, C);
    linear(gate_.data(), xn, lw.w_gate, lw.w_gate_q, Tensor{}, T, C, F);
    linear(up_.data(), xn, lw.w_up, lw.w_up_q, Tensor{}, T, C, F);
    swiglu_forward(gate_.data(), gate_.data(), up_.data(), T * F);
    linear(xn, gate_.data(), lw.w_down, lw.w_down_q, Tensor{}, T, F, C);
    for (int64_t i = 0; i < T * C; ++i) x[i] += xn[i];
  }
  cache.advance(T);

  if (n_logits == 0) return;
  const float* last = x + (T - n_logits) * C;
  rmsnorm_forward(xn, last, w_.final_norm.f32(), cfg_.rms_eps, n_logits, C);
  linear(logits, xn, w_.lm_head, w_.lm_head_q, Tensor{}, n_logits, C, V);
}

}  // namespace tsft
