#include "model/tree_forward.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <map>
#include <utility>

#include "backend/cpu/attention_tree.h"
#include "backend/cpu/embedding.h"
#include "backend/cpu/rmsnorm.h"
#include "backend/cpu/rope.h"
#include "backend/cpu/swiglu.h"
#include "backend/cpu/vec_math.h"
#include "core/error.h"
#include "model/linear.h"

namespace tsft {
namespace {

void grow(std::vector<float>& v, int64_t n) {
  if (static_cast<int64_t>(v.size()) < n) v.resize(static_cast<size_t>(n));
}

void check_batch(const ModelConfig& cfg, const KvCache& prefix, int64_t prefix_len,
                 const TreeBatch& b) {
  const size_t T = b.tokens.size();
  if (b.positions.size() != T || b.parent.size() != T)
    fail("tree batch: ", T, " tokens but ", b.positions.size(), " positions and ", b.parent.size(),
         " parents (one each per token)");
  if (prefix_len < 0 || prefix_len > prefix.size())
    fail("tree batch: prefix_len ", prefix_len, " is outside the prefix cache's ", prefix.size(),
         " filled positions");
  for (size_t i = 0; i < T; ++i) {
    if (b.tokens[i] < 0 || b.tokens[i] >= cfg.vocab)
      fail("tree batch: token ", i, " has id ", b.tokens[i], ", outside the vocabulary (size ",
           cfg.vocab, ")");
    if (b.parent[i] < -1 || b.parent[i] >= static_cast<int64_t>(i))
      fail("tree batch: parent[", i, "] = ", b.parent[i],
           " must be -1 (follows the prefix) or an earlier token index (< ", i, ")");
    if (b.positions[i] < 0 || (cfg.max_positions > 0 && b.positions[i] >= cfg.max_positions))
      fail("tree batch: position[", i, "] = ", b.positions[i], " is outside the model's context [0, ",
           cfg.max_positions, ")");
  }
  for (size_t r = 0; r < b.logit_rows.size(); ++r)
    if (b.logit_rows[r] < 0 || b.logit_rows[r] >= static_cast<int64_t>(T))
      fail("tree batch: logit_rows[", r, "] = ", b.logit_rows[r], " is not a token index (T = ",
           T, ")");
}

}  // namespace

void tree_forward(const Transformer& model, const KvCache& prefix, int64_t prefix_len,
                  const TreeBatch& batch, float* logits, TreeWorkspace& ws) {
  const ModelConfig& cfg = model.config();
  const ModelWeights& w = model.weights();
  check_batch(cfg, prefix, prefix_len, batch);
  const int64_t T = static_cast<int64_t>(batch.tokens.size());
  const int64_t n_logits = static_cast<int64_t>(batch.logit_rows.size());
  if (T == 0) return;
  const int64_t C = cfg.hidden, Q = cfg.q_dim(), KV = cfg.kv_dim(), F = cfg.intermediate,
                D = cfg.head_dim, Hq = cfg.n_heads, Hkv = cfg.n_kv_heads, V = cfg.vocab,
                P = prefix_len;
  const int32_t* parent = batch.parent.data();

  grow(ws.x, T * C);
  grow(ws.xn, T * C);
  grow(ws.q, T * Q);
  grow(ws.k, T * KV);
  grow(ws.v, T * KV);
  grow(ws.att, T * Q);
  grow(ws.gate, T * F);
  grow(ws.up, T * F);
  grow(ws.cos, T * D / 2);
  grow(ws.sin, T * D / 2);
  grow(ws.scratch, attention_tree_scratch_floats(parent, T, P, Hq));
  grow(ws.inv_freq, D / 2);
  rope_inv_freq(ws.inv_freq.data(), D, cfg.rope_theta, cfg.rope_scaling);
  rope_cos_sin(ws.cos.data(), ws.sin.data(), batch.positions.data(), ws.inv_freq.data(), T, D);

  float *x = ws.x.data(), *xn = ws.xn.data(), *q = ws.q.data(), *k = ws.k.data(),
        *v = ws.v.data(), *att = ws.att.data(), *gate = ws.gate.data(), *up = ws.up.data();
  embedding_forward(x, batch.tokens.data(), w.embed.f32(), T, C);

  // Transformer::forward's layer, with the batch's keys/values kept in the workspace (the prefix
  // cache is shared by every batch and stays untouched) and attention by ancestry.
  for (int64_t l = 0; l < cfg.n_layers; ++l) {
    const LayerWeights& lw = w.layers[l];
    rmsnorm_forward(xn, x, lw.attn_norm.f32(), cfg.rms_eps, T, C);
    linear_group(xn, T, C,
                 {{q, lw.wq, lw.wq_q, lw.bq, Q}, {k, lw.wk, lw.wk_q, lw.bk, KV},
                  {v, lw.wv, lw.wv_q, lw.bv, KV}});
    if (cfg.qk_norm) {
      rmsnorm_forward(q, q, lw.q_norm.f32(), cfg.rms_eps, T * Hq, D);
      rmsnorm_forward(k, k, lw.k_norm.f32(), cfg.rms_eps, T * Hkv, D);
    }
    rope_forward(q, ws.cos.data(), ws.sin.data(), T, Hq, D);
    rope_forward(k, ws.cos.data(), ws.sin.data(), T, Hkv, D);
    attention_tree_forward(att, q, k, v, prefix.k(l), prefix.v(l), parent, T, P, Hq, Hkv, D,
                           ws.scratch.data());
    linear(xn, att, lw.wo, lw.wo_q, Tensor{}, T, Q, C);
    for (int64_t i = 0; i < T * C; ++i) x[i] += xn[i];

    rmsnorm_forward(xn, x, lw.ffn_norm.f32(), cfg.rms_eps, T, C);
    const Tensor none;
    linear_group(xn, T, C,
                 {{gate, lw.w_gate, lw.w_gate_q, none, F}, {up, lw.w_up, lw.w_up_q, none, F}});
    swiglu_forward(gate, gate, up, T * F);
    linear(xn, gate, lw.w_down, lw.w_down_q, Tensor{}, T, F, C);
    for (int64_t i = 0; i < T * C; ++i) x[i] += xn[i];
  }

  // The LM head (the largest single GEMM) only on the rows asked for.
  if (n_logits == 0) return;
  for (int64_t r = 0; r < n_logits; ++r)
    std::memcpy(xn + r * C, x + static_cast<int64_t>(batch.logit_rows[r]) * C, C * sizeof(float));
  rmsnorm_forward(xn, xn, w.final_norm.f32(), cfg.rms_eps, n_logits, C);
  linear(logits, xn, w.lm_head, w.lm_head_q, Tensor{}, n_logits, C, V);
}

ScoringBatch build_scoring_batch(const std::vector<ScoringExample>& examples, int64_t prefix_len) {
  ScoringBatch sb;
  TreeBatch& b = sb.batch;
  auto add_token = [&b](int32_t token, int32_t position, int32_t parent) {
    b.tokens.push_back(token);
    b.positions.push_back(position);
    b.parent.push_back(parent);
    return static_cast<int32_t>(b.tokens.size() - 1);
  };
  sb.candidates.resize(examples.size());
  for (size_t e = 0; e < examples.size(); ++e) {
    const ScoringExample& ex = examples[e];
    if (ex.prompt.empty() && prefix_len == 0)
      fail("scoring example ", e, ": the prompt is empty and there is no prefix, so nothing "
           "gives the distribution of a candidate's first token");
    // The prompt: a chain from the prefix. Only its last token's logits are needed.
    int32_t last = -1;
    for (size_t i = 0; i < ex.prompt.size(); ++i)
      last = add_token(ex.prompt[i], static_cast<int32_t>(prefix_len + i), last);
    int32_t last_row = -1;  // -1: the distribution after the prefix
    if (last >= 0) {
      last_row = static_cast<int32_t>(b.logit_rows.size());
      b.logit_rows.push_back(last);
    }
    // The candidates: a trie below `last`. A node is (parent node, token) -> its logit row; the
    // node's token is in the batch only once some candidate continues past it.
    std::map<std::pair<int32_t, int32_t>, std::pair<int32_t, int32_t>> trie;  // -> (index, row)
    const int32_t depth0 = static_cast<int32_t>(prefix_len + ex.prompt.size());
    for (size_t c = 0; c < ex.candidates.size(); ++c) {
      const std::vector<int32_t>& cand = ex.candidates[c];
      if (cand.empty()) fail("scoring example ", e, ": candidate ", c, " has no tokens");
      CandidateRows cr;
      cr.tokens = cand;
      int32_t node = last, row = last_row;
      for (size_t j = 0; j < cand.size(); ++j) {
        cr.rows.push_back(row);
        if (j + 1 == cand.size()) break;  // the last token's own state is not needed
        auto [it, inserted] = trie.try_emplace({node, cand[j]}, -1, -1);
        if (inserted) {
          const int32_t idx = add_token(cand[j], depth0 + static_cast<int32_t>(j), node);
          it->second = {idx, static_cast<int32_t>(b.logit_rows.size())};
          b.logit_rows.push_back(idx);
        }
        node = it->second.first;
        row = it->second.second;
      }
      sb.candidates[e].push_back(std::move(cr));
    }
  }
  return sb;
}

double logsumexp(const float* row, int64_t V) {
  float mx = -std::numeric_limits<float>::infinity();
  for (int64_t i = 0; i < V; ++i) mx = std::max(mx, row[i]);
  double sum = 0.0;  // tens of thousands of terms: a double sum keeps the last digits
#pragma omp simd reduction(+ : sum)
  for (int64_t i = 0; i < V; ++i) sum += exp_fast(row[i] - mx);
  return static_cast<double>(mx) + std::log(sum);
}

std::vector<std::vector<double>> candidate_logprobs(const ScoringBatch& sb, const float* logits,
                                                   const float* prefix_logits, int64_t V) {
  // log-sum-exp of every logit row once: rows are shared by the candidates of a trie.
  const int64_t n = static_cast<int64_t>(sb.batch.logit_rows.size());
  std::vector<double> lse(static_cast<size_t>(n));
#pragma omp parallel for schedule(static)
  for (int64_t r = 0; r < n; ++r) lse[r] = logsumexp(logits + r * V, V);
  const double prefix_lse = prefix_logits != nullptr ? logsumexp(prefix_logits, V) : 0.0;

  std::vector<std::vector<double>> out(sb.candidates.size());
  for (size_t e = 0; e < sb.candidates.size(); ++e)
    for (const CandidateRows& cr : sb.candidates[e]) {
      double lp = 0.0;
      for (size_t j = 0; j < cr.tokens.size(); ++j) {
        const int32_t tok = cr.tokens[j], row = cr.rows[j];
        if (tok < 0 || tok >= V)
          fail("scoring example ", e, ": candidate token id ", tok, " is outside the vocabulary "
               "(size ", V, ")");
        if (row < 0) {
          if (prefix_logits == nullptr)
            fail("scoring example ", e, " has an empty prompt: the logits after the prefix's "
                 "last token are needed to score its candidates");
          lp += prefix_logits[tok] - prefix_lse;
        } else {
          lp += logits[static_cast<int64_t>(row) * V + tok] - lse[row];
        }
      }
      out[e].push_back(lp);
    }
  return out;
}

std::vector<std::vector<double>> score_candidates(const Transformer& model, const KvCache& prefix,
                                                  int64_t prefix_len, const float* prefix_logits,
                                                  const std::vector<ScoringExample>& examples,
                                                  TreeWorkspace& ws) {
  const ScoringBatch sb = build_scoring_batch(examples, prefix_len);
  const int64_t V = model.config().vocab;
  grow(ws.logits, static_cast<int64_t>(sb.batch.logit_rows.size()) * V);
  tree_forward(model, prefix, prefix_len, sb.batch, ws.logits.data(), ws);
  return candidate_logprobs(sb, ws.logits.data(), prefix_logits, V);
}

}  // namespace tsft
