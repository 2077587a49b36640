#include "model/transformer.h"

#include <algorithm>
#include <cstring>
#include <string>

#include "backend/cpu/attention.h"
#include "backend/cpu/embedding.h"
#include "backend/cpu/matmul.h"
#include "backend/cpu/rmsnorm.h"
#include "backend/cpu/rope.h"
#include "backend/cpu/swiglu.h"
#include "core/error.h"
#include "core/threads.h"
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

void Transformer::ensure_workspace(int64_t T, int64_t scratch_floats) {
  const int64_t C = cfg_.hidden, Q = cfg_.q_dim(), KV = cfg_.kv_dim(), F = cfg_.intermediate;
  grow(x_, T * C);
  grow(xn_, T * C);
  grow(q_, T * Q);
  grow(k_, T * KV);
  grow(v_, T * KV);
  grow(att_, T * Q);
  grow(gate_, T * F);
  grow(up_, T * F);
  grow(cos_, T * cfg_.head_dim / 2);
  grow(sin_, T * cfg_.head_dim / 2);
  grow(scratch_, scratch_floats);
  if (static_cast<int64_t>(pos_.size()) < T) pos_.resize(T);
}

void Transformer::add_lora(float* out, const float* in, const std::vector<BatchSeq>& seqs,
                           int64_t layer, LoraTarget target, int64_t K, int64_t N) {
  int64_t row = 0;
  for (size_t i = 0; i < seqs.size();) {
    // A run of consecutive sequences with the same adapter is one pair of small GEMMs.
    const LoraWeights* a = seqs[i].adapter;
    const int64_t first = row;
    size_t j = i;
    for (; j < seqs.size() && seqs[j].adapter == a; ++j) row += seqs[j].n;
    i = j;
    if (a == nullptr) continue;
    const LoraPair& p = a->layers[layer][static_cast<int>(target)];
    if (!p.enabled) continue;
    const int64_t n = row - first, r = a->config.rank;
    grow(lora_r_, n * r);
    grow(lora_out_, n * N);
    matmul_forward(lora_r_.data(), in + first * K, p.a.f32(), nullptr, n, K, r);
    matmul_forward(lora_out_.data(), lora_r_.data(), p.b.f32(), nullptr, n, r, N);
    const float scale = a->config.scale();
    float* o = out + first * N;
    for (int64_t e = 0; e < n * N; ++e) o[e] += scale * lora_out_[e];
  }
}

// Attention is split over sequences (rather than within each) when none has more tokens than this.
constexpr int64_t kSplitAttentionMaxTokens = 16;

void Transformer::run_blocks(const std::vector<BatchSeq>& seqs) {
  const int64_t C = cfg_.hidden, Q = cfg_.q_dim(), KV = cfg_.kv_dim(), F = cfg_.intermediate,
                D = cfg_.head_dim, Hq = cfg_.n_heads, Hkv = cfg_.n_kv_heads, V = cfg_.vocab;
  TSFT_CHECK(!seqs.empty());
  // Rows of several sequences (a server's step) may multiply in int16 (model/linear.h).
  const bool batch = seqs.size() > 1;
  // Names the sequence in an error (built only when one is thrown: this runs every step).
  auto which = [&](size_t i) {
    return seqs.size() > 1 ? " (sequence " + std::to_string(i) + ")" : std::string();
  };
  int64_t R = 0, scratch = 0, max_n = 0;
  first_row_.resize(seqs.size());
  for (size_t i = 0; i < seqs.size(); ++i) {
    const BatchSeq& s = seqs[i];
    TSFT_CHECK(s.n > 0 && s.cache != nullptr && s.tokens != nullptr);
    const int64_t past = s.cache->size();
    if (past + s.n > s.cache->capacity())
      fail("context full: ", past, " + ", s.n, " tokens exceed the cache of ",
           s.cache->capacity(), which(i));
    for (int64_t t = 0; t < s.n; ++t)
      if (s.tokens[t] < 0 || s.tokens[t] >= V)
        fail("token id ", s.tokens[t], " is outside the vocabulary (size ", V, ")", which(i));
    if (s.adapter != nullptr && static_cast<int64_t>(s.adapter->layers.size()) != cfg_.n_layers)
      fail("the LoRA adapter has ", s.adapter->layers.size(), " layers, the model ",
           cfg_.n_layers, which(i));
    scratch = std::max(scratch, attention_scratch_floats(s.n, past + s.n, Hq));
    max_n = std::max(max_n, s.n);
    first_row_[i] = R;
    R += s.n;
  }
  const bool split_attention = seqs.size() > 1 && max_n <= kSplitAttentionMaxTokens;
  const int64_t scratch_slots = split_attention ? num_threads() : 1;
  const int64_t* first_row = first_row_.data();
  ensure_workspace(R, scratch * scratch_slots);
  float* x = x_.data();
  float* xn = xn_.data();
  {
    int64_t row = 0;
    for (const BatchSeq& s : seqs) {
      for (int64_t t = 0; t < s.n; ++t) pos_[row + t] = static_cast<int32_t>(s.cache->size() + t);
      embedding_forward(x + row * C, s.tokens, w_.embed.f32(), s.n, C);
      row += s.n;
    }
  }
  rope_cos_sin(cos_.data(), sin_.data(), pos_.data(), inv_freq_.data(), R, D);
  bool any_adapter = false;
  for (const BatchSeq& s : seqs) any_adapter |= s.adapter != nullptr;
  auto lora = [&](float* out, const float* in, int64_t l, LoraTarget t, int64_t K, int64_t N) {
    if (any_adapter) add_lora(out, in, seqs, l, t, K, N);
  };

  for (int64_t l = 0; l < cfg_.n_layers; ++l) {
    const LayerWeights& lw = w_.layers[l];
    rmsnorm_forward(xn, x, lw.attn_norm.f32(), cfg_.rms_eps, R, C);
    linear_group(xn, R, C,
                 {{q_.data(), lw.wq, lw.wq_q, lw.bq, Q},
                  {k_.data(), lw.wk, lw.wk_q, lw.bk, KV},
                  {v_.data(), lw.wv, lw.wv_q, lw.bv, KV}},
                 batch);
    lora(q_.data(), xn, l, LoraTarget::kQ, C, Q);
    lora(k_.data(), xn, l, LoraTarget::kK, C, KV);
    lora(v_.data(), xn, l, LoraTarget::kV, C, KV);
    if (cfg_.qk_norm) {
      rmsnorm_forward(q_.data(), q_.data(), lw.q_norm.f32(), cfg_.rms_eps, R * Hq, D);
      rmsnorm_forward(k_.data(), k_.data(), lw.k_norm.f32(), cfg_.rms_eps, R * Hkv, D);
    }
    rope_forward(q_.data(), cos_.data(), sin_.data(), R, Hq, D);
    rope_forward(k_.data(), cos_.data(), sin_.data(), R, Hkv, D);
    // Sequences of a few tokens each (decoding) are spread over the threads, one sequence per
    // task: a single token's attention is too small to split, and run one after another they
    // left the other threads idle for a tenth of a 16-sequence step. Otherwise each sequence's
    // attention splits its heads over the threads itself, called outside any parallel region:
    // nested in an inactive one (`omp parallel if (false)`), its region got a fresh team every
    // call, which made a 16-token prompt 3.5x slower on two threads than without it.
    auto attend = [&](size_t i, float* own_scratch) {
      const BatchSeq& s = seqs[i];
      KvCache& cache = *s.cache;
      const int64_t past = cache.size(), r0 = first_row[i];
      std::memcpy(cache.k(l) + past * KV, k_.data() + r0 * KV, s.n * KV * sizeof(float));
      std::memcpy(cache.v(l) + past * KV, v_.data() + r0 * KV, s.n * KV * sizeof(float));
      attention_forward(att_.data() + r0 * Q, q_.data() + r0 * Q, cache.k(l), cache.v(l),
                        pos_.data() + r0, s.n, past + s.n, Hq, Hkv, D, own_scratch);
    };
    if (split_attention) {
#pragma omp parallel for schedule(dynamic, 1)
      for (size_t i = 0; i < seqs.size(); ++i)
        attend(i, scratch_.data() + thread_index() * scratch);
    } else {
      for (size_t i = 0; i < seqs.size(); ++i) attend(i, scratch_.data());
    }
    // x += att @ wo^T: reuse xn for the projection, then add.
    linear(xn, att_.data(), lw.wo, lw.wo_q, Tensor{}, R, Q, C, batch);
    lora(xn, att_.data(), l, LoraTarget::kO, Q, C);
    for (int64_t i = 0; i < R * C; ++i) x[i] += xn[i];

    rmsnorm_forward(xn, x, lw.ffn_norm.f32(), cfg_.rms_eps, R, C);
    const Tensor none;
    linear_group(xn, R, C,
                 {{gate_.data(), lw.w_gate, lw.w_gate_q, none, F},
                  {up_.data(), lw.w_up, lw.w_up_q, none, F}},
                 batch);
    lora(gate_.data(), xn, l, LoraTarget::kGate, C, F);
    lora(up_.data(), xn, l, LoraTarget::kUp, C, F);
    swiglu_forward(gate_.data(), gate_.data(), up_.data(), R * F);
    linear(xn, gate_.data(), lw.w_down, lw.w_down_q, Tensor{}, R, F, C, batch);
    lora(xn, gate_.data(), l, LoraTarget::kDown, F, C);
    for (int64_t i = 0; i < R * C; ++i) x[i] += xn[i];
  }
  for (const BatchSeq& s : seqs) s.cache->advance(s.n);
}

void Transformer::forward(const int32_t* tokens, int64_t T, KvCache& cache, float* logits,
                          int64_t n_logits) {
  TSFT_CHECK(T > 0 && n_logits >= 0 && n_logits <= T);
  run_blocks({BatchSeq{tokens, T, &cache, nullptr}});
  if (n_logits == 0) return;
  const int64_t C = cfg_.hidden;
  const float* last = x_.data() + (T - n_logits) * C;
  rmsnorm_forward(xn_.data(), last, w_.final_norm.f32(), cfg_.rms_eps, n_logits, C);
  linear(logits, xn_.data(), w_.lm_head, w_.lm_head_q, Tensor{}, n_logits, C, cfg_.vocab);
}

void Transformer::forward_batch(const std::vector<BatchSeq>& seqs, float* logits) {
  run_blocks(seqs);
  const int64_t C = cfg_.hidden, B = static_cast<int64_t>(seqs.size());
  // Gather each sequence's last hidden row (into xn_'s first B rows; B <= rows), then one GEMM.
  int64_t row = 0;
  for (int64_t i = 0; i < B; ++i) {
    row += seqs[i].n;
    rmsnorm_forward(xn_.data() + i * C, x_.data() + (row - 1) * C, w_.final_norm.f32(),
                    cfg_.rms_eps, 1, C);
  }
  linear(logits, xn_.data(), w_.lm_head, w_.lm_head_q, Tensor{}, B, C, cfg_.vocab, B > 1);
}

}  // namespace tsft
