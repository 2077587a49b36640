// One batched forward over a forest of token sequences that share a cached prefix, and scoring
// candidate answers with it: every candidate's log-probability from a single set of big GEMMs.
#pragma once

#include <cstdint>
#include <vector>

#include "model/kv_cache.h"
#include "model/transformer.h"

namespace tsft {

// Tokens of many sequences in one batch. Token i sees the prefix (the first prefix_len positions
// of a KvCache) and its ancestors i, parent[i], parent[parent[i]], ...; nothing else.
struct TreeBatch {
  std::vector<int32_t> tokens;      // (T)
  std::vector<int32_t> positions;   // (T) RoPE positions (prefix_len + depth for a prompt chain)
  std::vector<int32_t> parent;      // (T) -1 (follows the prefix directly) or an earlier index
  std::vector<int32_t> logit_rows;  // token indices whose logits are wanted, in output order
};

// Buffers of tree_forward, grown on demand and reused between calls (one per thread of callers).
struct TreeWorkspace {
  std::vector<float> x, xn, q, k, v, att, gate, up, cos, sin, scratch, inv_freq;
  std::vector<float> logits;  // score_candidates' logits (rows, V)
};

// Runs every layer of `model` over the batch with GEMMs over all T tokens, reading (never
// writing) keys/values of positions [0, prefix_len) of `prefix`, and writes logits
// (logit_rows.size(), V) for the requested rows. Same numerics as Transformer::forward.
// Throws tsft::Error on a malformed batch (sizes, token ids, parents, rows, prefix_len).
void tree_forward(const Transformer& model, const KvCache& prefix, int64_t prefix_len,
                  const TreeBatch& batch, float* logits, TreeWorkspace& ws);

// Scoring: after the shared prefix, an example's prompt, then each candidate answer (its tokens,
// e.g. a tool name and EOS). Candidates of an example share common leading tokens.
struct ScoringExample {
  std::vector<int32_t> prompt;                   // may be empty (the prefix ends the prompt)
  std::vector<std::vector<int32_t>> candidates;  // each non-empty
};

struct CandidateRows {
  std::vector<int32_t> tokens;  // the candidate's tokens
  // rows[j]: the row of tree_forward's logits whose distribution gives tokens[j]; -1 for the
  // distribution after the prefix's last token (first token of an example with an empty prompt).
  std::vector<int32_t> rows;
};

struct ScoringBatch {
  TreeBatch batch;
  std::vector<std::vector<CandidateRows>> candidates;  // [example][candidate]
};

// Lays out the examples as a forest: each prompt is a chain from the prefix, each example's
// candidates a trie hanging from its last prompt token. A token whose hidden state nothing needs
// (a candidate's last token with no continuation) is left out. Throws tsft::Error on an empty
// candidate, or an empty prompt with prefix_len == 0 (no context for the first token).
ScoringBatch build_scoring_batch(const std::vector<ScoringExample>& examples, int64_t prefix_len);

// log(sum_v exp(row[v])) over a logit row of V, with the max subtracted first (stable); the
// normaliser of a log-softmax.
double logsumexp(const float* row, int64_t V);

// log p(candidate | prefix, prompt): the sum over its tokens of log-softmax over the vocabulary
// (max subtracted, so numerically stable), for [example][candidate]. logits
// (sb.batch.logit_rows.size(), V) from tree_forward; prefix_logits (V) are the logits after the
// prefix's last token, needed only when some prompt is empty (else may be null).
std::vector<std::vector<double>> candidate_logprobs(const ScoringBatch& sb, const float* logits,
                                                   const float* prefix_logits, int64_t V);

// build_scoring_batch + tree_forward + candidate_logprobs.
std::vector<std::vector<double>> score_candidates(const Transformer& model, const KvCache& prefix,
                                                  int64_t prefix_len, const float* prefix_logits,
                                                  const std::vector<ScoringExample>& examples,
                                                  TreeWorkspace& ws);

}  // namespace tsft
