// Batched tree-attention forward for scoring candidates: the attention_tree op against its scalar
// reference and against plain causal attention on a single chain; candidate log-probabilities
// from one tree_forward against prompt + candidate run one sequence at a time through
// Transformer::forward, on the tiny random models of every architecture and the default GGUF.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "backend/cpu/attention.h"
#include "backend/cpu/attention_tree.h"
#include "core/error.h"
#include "io/model_loader.h"
#include "model/tree_forward.h"

#include "test_util.h"

namespace tsft {
namespace {

using testing::randn;
using testing::max_abs_diff;

const std::string kData = TSFT_TEST_DATA_DIR;
const std::string kDefaultModel = tsft::testing::default_model_path();

// A random forest: each token's parent is -1 or any earlier token.
std::vector<int32_t> random_forest(int64_t T, uint32_t seed) {
  std::mt19937 gen(seed);
  std::vector<int32_t> parent(T);
  for (int64_t i = 0; i < T; ++i)
    parent[i] = static_cast<int32_t>(std::uniform_int_distribution<int64_t>(-1, i - 1)(gen));
  return parent;
}

// Sequences of `len` tokens one after another (the last may be shorter).
std::vector<int32_t> chains_of(int64_t T, int64_t len) {
  std::vector<int32_t> parent(T);
  for (int64_t i = 0; i < T; ++i) parent[i] = i % len == 0 ? -1 : static_cast<int32_t>(i - 1);
  return parent;
}

TEST(AttentionTree, FastMatchesReference) {
  struct Case { int64_t T, P, Hq, Hkv, D, chain; };
  // chain 0: a random forest (short chains: the per-ancestor loops); chain > 0: sequences of that
  // length (the dense blocks, with and without a prefix). T = 150 and 300 span several 128-token
  // blocks; P = 0 has no prefix GEMMs.
  const Case cases[] = {{1, 0, 2, 1, 8, 0},      {1, 13, 9, 3, 64, 0},   {7, 0, 4, 2, 16, 0},
                        {5, 11, 6, 3, 10, 0},    {150, 70, 9, 3, 64, 0}, {150, 0, 4, 4, 16, 0},
                        {300, 0, 9, 3, 64, 100}, {300, 9, 4, 2, 16, 170}, {7, 0, 2, 1, 8, 7}};
  for (const auto& c : cases) {
    auto q = randn(c.T * c.Hq * c.D, 1), k = randn(c.T * c.Hkv * c.D, 2),
         v = randn(c.T * c.Hkv * c.D, 3), kp = randn(c.P * c.Hkv * c.D, 4),
         vp = randn(c.P * c.Hkv * c.D, 5);
    const auto parent = c.chain > 0 ? chains_of(c.T, c.chain)
                                    : random_forest(c.T, static_cast<uint32_t>(c.T + c.P));
    std::vector<float> out(c.T * c.Hq * c.D, 7.0f), ref(out.size());
    std::vector<float> scratch(attention_tree_scratch_floats(parent.data(), c.T, c.P, c.Hq));
    attention_tree_forward(out.data(), q.data(), k.data(), v.data(), kp.data(), vp.data(),
                           parent.data(), c.T, c.P, c.Hq, c.Hkv, c.D, scratch.data());
    attention_tree_forward_ref(ref.data(), q.data(), k.data(), v.data(), kp.data(), vp.data(),
                               parent.data(), c.T, c.P, c.Hq, c.Hkv, c.D);
    EXPECT_LT(max_abs_diff(out, ref), 1e-5f) << "T=" << c.T << " P=" << c.P << " chain=" << c.chain;
  }
}

TEST(AttentionTree, SingleChainIsCausalAttention) {
  // parent[i] = i - 1: the forest is one sequence after the prefix, so the result must be causal
  // attention over prefix + batch keys at positions P + i.
  const int64_t T = 37, P = 20, Hq = 6, Hkv = 2, D = 16, S = P + T;
  auto q = randn(T * Hq * D, 6), k_all = randn(S * Hkv * D, 7), v_all = randn(S * Hkv * D, 8);
  std::vector<int32_t> parent(T), pos(T);
  for (int64_t i = 0; i < T; ++i) parent[i] = static_cast<int32_t>(i - 1), pos[i] = P + i;
  const float* kp = k_all.data();
  const float* vp = v_all.data();
  const float* k = k_all.data() + P * Hkv * D;
  const float* v = v_all.data() + P * Hkv * D;

  std::vector<float> tree_ref(T * Hq * D), causal_ref(T * Hq * D), tree(T * Hq * D),
      causal(T * Hq * D);
  attention_tree_forward_ref(tree_ref.data(), q.data(), k, v, kp, vp, parent.data(), T, P, Hq,
                             Hkv, D);
  attention_forward_ref(causal_ref.data(), q.data(), k_all.data(), v_all.data(), pos.data(), T, S,
                        Hq, Hkv, D);
  EXPECT_LT(max_abs_diff(tree_ref, causal_ref), 1e-6f);

  std::vector<float> scratch(attention_tree_scratch_floats(parent.data(), T, P, Hq));
  std::vector<float> cscratch(attention_scratch_floats(T, S, Hq));
  attention_tree_forward(tree.data(), q.data(), k, v, kp, vp, parent.data(), T, P, Hq, Hkv, D,
                         scratch.data());
  attention_forward(causal.data(), q.data(), k_all.data(), v_all.data(), pos.data(), T, S, Hq, Hkv,
                    D, cscratch.data());
  EXPECT_LT(max_abs_diff(tree, causal), 1e-5f);
}

TEST(AttentionTree, SeesOnlyPrefixAndAncestors) {
  // Two branches from token 0: {0, 1, 2} and {0, 3}. Changing token 3's key/value must leave
  // tokens 0..2 exactly as they were, and change token 3.
  const int64_t T = 4, P = 3, H = 2, D = 8;
  const std::vector<int32_t> parent = {-1, 0, 1, 0};
  auto q = randn(T * H * D, 9), k = randn(T * H * D, 10), v = randn(T * H * D, 11),
       kp = randn(P * H * D, 12), vp = randn(P * H * D, 13);
  std::vector<float> a(T * H * D), b(T * H * D);
  std::vector<float> scratch(attention_tree_scratch_floats(parent.data(), T, P, H));
  EXPECT_EQ(scratch.size(), static_cast<size_t>(H * T * (P + 3)));  // longest chain: 3 tokens
  attention_tree_forward(a.data(), q.data(), k.data(), v.data(), kp.data(), vp.data(),
                         parent.data(), T, P, H, H, D, scratch.data());
  for (int64_t i = 3 * H * D; i < T * H * D; ++i) k[i] += 1.0f, v[i] -= 2.0f;
  attention_tree_forward(b.data(), q.data(), k.data(), v.data(), kp.data(), vp.data(),
                         parent.data(), T, P, H, H, D, scratch.data());
  for (int64_t i = 0; i < 3 * H * D; ++i) EXPECT_EQ(a[i], b[i]);
  EXPECT_NE(a[3 * H * D], b[3 * H * D]);
}

TEST(ScoringBatch, CandidatesShareATrie) {
  // Candidates {5,6,7}, {5,6,8}, {5}, {9,4}, {5,6}: the batch needs the nodes 5, 5-6 and 9 (a
  // candidate's last token is never run); rows: the last prompt token, then those three.
  ScoringExample ex{{20, 21}, {{5, 6, 7}, {5, 6, 8}, {5}, {9, 4}, {5, 6}}};
  const ScoringBatch sb = build_scoring_batch({ex}, /*prefix_len=*/10);
  EXPECT_EQ(sb.batch.tokens, (std::vector<int32_t>{20, 21, 5, 6, 9}));
  EXPECT_EQ(sb.batch.parent, (std::vector<int32_t>{-1, 0, 1, 2, 1}));
  EXPECT_EQ(sb.batch.positions, (std::vector<int32_t>{10, 11, 12, 13, 12}));
  EXPECT_EQ(sb.batch.logit_rows, (std::vector<int32_t>{1, 2, 3, 4}));
  ASSERT_EQ(sb.candidates.size(), 1u);
  const auto& c = sb.candidates[0];
  ASSERT_EQ(c.size(), 5u);
  EXPECT_EQ(c[0].rows, (std::vector<int32_t>{0, 1, 2}));
  EXPECT_EQ(c[1].rows, (std::vector<int32_t>{0, 1, 2}));
  EXPECT_EQ(c[2].rows, (std::vector<int32_t>{0}));
  EXPECT_EQ(c[3].rows, (std::vector<int32_t>{0, 3}));
  EXPECT_EQ(c[4].rows, (std::vector<int32_t>{0, 1}));
  EXPECT_EQ(c[3].tokens, (std::vector<int32_t>{9, 4}));

  // An empty prompt: the first token's distribution is the prefix's (row -1), roots have parent -1.
  const ScoringBatch empty = build_scoring_batch({ScoringExample{{}, {{5, 6}, {7}}}}, 4);
  EXPECT_EQ(empty.batch.tokens, (std::vector<int32_t>{5}));
  EXPECT_EQ(empty.batch.parent, (std::vector<int32_t>{-1}));
  EXPECT_EQ(empty.batch.positions, (std::vector<int32_t>{4}));
  EXPECT_EQ(empty.candidates[0][0].rows, (std::vector<int32_t>{-1, 0}));
  EXPECT_EQ(empty.candidates[0][1].rows, (std::vector<int32_t>{-1}));
}

TEST(ScoringBatch, RejectsWhatCannotBeScored) {
  EXPECT_THROW(build_scoring_batch({ScoringExample{{}, {{5}}}}, 0), Error);  // no context at all
  EXPECT_THROW(build_scoring_batch({ScoringExample{{3}, {{5}, {}}}}, 0), Error);  // empty candidate
}

TEST(CandidateLogprobs, HandComputed) {
  // V = 3. Row 0 logits (0, ln 2, ln 3): log-softmax = (ln 1/6, ln 2/6, ln 3/6). Row 1 logits all
  // 100 (large, to exercise the subtracted max): ln 1/3 each. Prefix logits (ln 3, 0, 0):
  // ln 3/5 for token 0.
  ScoringBatch sb;
  sb.batch.logit_rows = {0, 1};
  sb.candidates = {{CandidateRows{{1, 2}, {0, 1}}, CandidateRows{{2}, {0}}},
                   {CandidateRows{{0}, {-1}}}};
  const std::vector<float> logits = {0.0f, std::log(2.0f), std::log(3.0f), 100.0f, 100.0f, 100.0f};
  const std::vector<float> prefix = {std::log(3.0f), 0.0f, 0.0f};
  const auto lp = candidate_logprobs(sb, logits.data(), prefix.data(), 3);
  ASSERT_EQ(lp.size(), 2u);
  EXPECT_NEAR(lp[0][0], std::log(2.0 / 6.0) + std::log(1.0 / 3.0), 1e-6);
  EXPECT_NEAR(lp[0][1], std::log(3.0 / 6.0), 1e-6);
  EXPECT_NEAR(lp[1][0], std::log(3.0 / 5.0), 1e-6);
  // Row -1 without prefix logits is a user's mistake, not a crash.
  EXPECT_THROW(candidate_logprobs(sb, logits.data(), nullptr, 3), Error);
}

// log p(candidate | prefix, prompt) one sequence at a time: prefix, then prompt + candidate with
// logits at every position.
double sequential_logprob(Transformer& m, const std::vector<int32_t>& prefix,
                          const std::vector<int32_t>& prompt, const std::vector<int32_t>& cand) {
  const int64_t V = m.config().vocab;
  KvCache cache = m.make_cache(prefix.size() + prompt.size() + cand.size());
  std::vector<float> prefix_logits(V);
  if (!prefix.empty()) m.forward(prefix.data(), prefix.size(), cache, prefix_logits.data(), 1);
  std::vector<int32_t> seq = prompt;
  seq.insert(seq.end(), cand.begin(), cand.end());
  const int64_t T = seq.size();
  std::vector<float> logits(T * V);
  m.forward(seq.data(), T, cache, logits.data(), T);
  auto log_softmax = [V](const float* row, int32_t tok) {
    double mx = row[0], sum = 0.0;
    for (int64_t i = 1; i < V; ++i) mx = std::max<double>(mx, row[i]);
    for (int64_t i = 0; i < V; ++i) sum += std::exp(row[i] - mx);
    return row[tok] - mx - std::log(sum);
  };
  double lp = 0.0;
  for (size_t j = 0; j < cand.size(); ++j) {
    // Token j of the candidate is predicted by the position before it.
    const int64_t at = static_cast<int64_t>(prompt.size() + j) - 1;
    lp += at < 0 ? log_softmax(prefix_logits.data(), cand[j]) : log_softmax(&logits[at * V], cand[j]);
  }
  return lp;
}

std::vector<int32_t> random_tokens(size_t n, uint32_t seed, int32_t vocab) {
  std::mt19937 gen(seed);
  std::vector<int32_t> t(n);
  for (auto& x : t) x = static_cast<int32_t>(3 + gen() % (vocab - 3));
  return t;
}

// Scores `examples` after `prefix` with one tree_forward and compares every candidate with the
// sequential run. Returns the largest difference.
double max_logprob_diff(Transformer& m, const std::vector<int32_t>& prefix,
                        const std::vector<ScoringExample>& examples) {
  const int64_t V = m.config().vocab, P = prefix.size();
  KvCache cache = m.make_cache(std::max<int64_t>(P, 1));
  std::vector<float> prefix_logits(V);
  if (P > 0) m.forward(prefix.data(), P, cache, prefix_logits.data(), 1);
  TreeWorkspace ws;
  const auto got = score_candidates(m, cache, P, P > 0 ? prefix_logits.data() : nullptr,
                                    examples, ws);
  EXPECT_EQ(cache.size(), P);  // the prefix cache is read, never extended
  EXPECT_EQ(got.size(), examples.size());
  double worst = 0.0;
  for (size_t e = 0; e < examples.size(); ++e) {
    EXPECT_EQ(got[e].size(), examples[e].candidates.size());
    for (size_t c = 0; c < examples[e].candidates.size(); ++c) {
      const double want = sequential_logprob(m, prefix, examples[e].prompt, examples[e].candidates[c]);
      EXPECT_NEAR(got[e][c], want, 1e-4) << "example " << e << " candidate " << c;
      EXPECT_LT(want, 0.0);
      worst = std::max(worst, std::fabs(got[e][c] - want));
    }
  }
  return worst;
}

// Examples of different lengths (12, 1 and 5 prompt tokens); candidates that share leading
// tokens, one that is a prefix of another, single-token ones, and repeated ones.
std::vector<ScoringExample> mixed_examples(int32_t vocab) {
  const auto a = random_tokens(4, 100, vocab);
  std::vector<ScoringExample> ex(3);
  ex[0].prompt = random_tokens(12, 101, vocab);
  ex[0].candidates = {{a[0], a[1], a[2]}, {a[0], a[1], a[3]}, {a[0]}, {a[3], a[2]}, {a[0], a[1]}};
  ex[1].prompt = random_tokens(1, 102, vocab);
  ex[1].candidates = {{a[2]}, {a[1], a[1], a[1], a[0]}, {a[2]}};
  ex[2].prompt = random_tokens(5, 103, vocab);
  ex[2].candidates = {{a[3], a[0]}, {a[3], a[1]}, {a[2], a[0], a[1]}};
  return ex;
}

class TinyTree : public ::testing::TestWithParam<std::string> {};

TEST_P(TinyTree, MatchesSequentialWithSharedPrefix) {
  LoadedModel lm = load_model(kData + "/tiny/" + GetParam(), /*with_tokenizer=*/false);
  Transformer& m = *lm.model;
  const int32_t V = static_cast<int32_t>(m.config().vocab);
  const double d = max_logprob_diff(m, random_tokens(9, 7, V), mixed_examples(V));
  std::printf("[ %s ] max |logprob diff| with prefix: %.3g\n", GetParam().c_str(), d);
}

TEST_P(TinyTree, MatchesSequentialWithoutPrefix) {
  LoadedModel lm = load_model(kData + "/tiny/" + GetParam(), /*with_tokenizer=*/false);
  Transformer& m = *lm.model;
  const int32_t V = static_cast<int32_t>(m.config().vocab);
  max_logprob_diff(m, {}, mixed_examples(V));
}

TEST_P(TinyTree, EmptyPromptAfterPrefix) {
  LoadedModel lm = load_model(kData + "/tiny/" + GetParam(), /*with_tokenizer=*/false);
  Transformer& m = *lm.model;
  const int32_t V = static_cast<int32_t>(m.config().vocab);
  auto ex = mixed_examples(V);
  ex[1].prompt.clear();  // the prefix ends this example's prompt
  max_logprob_diff(m, random_tokens(6, 8, V), ex);
}

INSTANTIATE_TEST_SUITE_P(Archs, TinyTree,
                         ::testing::Values("llama", "llama_untied", "llama3_rope", "qwen2", "qwen3"));

TEST(TreeForward, RejectsMalformedBatches) {
  LoadedModel lm = load_model(kData + "/tiny/llama", /*with_tokenizer=*/false);
  Transformer& m = *lm.model;
  const int64_t V = m.config().vocab;
  KvCache cache = m.make_cache(4);
  const std::vector<int32_t> prefix = {3, 4, 5};
  std::vector<float> pl(V);
  m.forward(prefix.data(), 3, cache, pl.data(), 1);
  TreeWorkspace ws;
  const TreeBatch good{{7, 8, 9}, {3, 4, 4}, {-1, 0, 0}, {1, 2}};
  std::vector<float> logits(2 * V);
  EXPECT_NO_THROW(tree_forward(m, cache, 3, good, logits.data(), ws));

  auto expect_error = [&](TreeBatch b, int64_t prefix_len, const std::string& needle) {
    try {
      tree_forward(m, cache, prefix_len, b, logits.data(), ws);
      ADD_FAILURE() << "no error for " << needle;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    }
  };
  TreeBatch b = good;
  b.parent[1] = 1;  // itself
  expect_error(b, 3, "parent[1] = 1");
  b = good;
  b.parent[2] = 5;  // a later token
  expect_error(b, 3, "parent[2] = 5");
  b = good;
  b.parent[0] = -2;
  expect_error(b, 3, "parent[0] = -2");
  b = good;
  b.tokens[2] = static_cast<int32_t>(V);
  expect_error(b, 3, "outside the vocabulary");
  b = good;
  b.logit_rows[1] = 3;
  expect_error(b, 3, "logit_rows[1] = 3");
  b = good;
  b.positions[0] = static_cast<int32_t>(m.config().max_positions);  // one past the context
  expect_error(b, 3, "outside the model's context");
  b = good;
  b.positions.pop_back();
  expect_error(b, 3, "positions");
  expect_error(good, 4, "prefix_len 4");  // only 3 positions are filled
  EXPECT_EQ(cache.size(), 3);
}

TEST(TreeForward, DefaultModelMatchesSequential) {
  ASSERT_TRUE(std::filesystem::exists(kDefaultModel))
      << kDefaultModel << " is missing: scripts/test.sh fetches it (scripts/fetch_model.sh)";
  LoadedModel lm = load_model(kDefaultModel, /*with_tokenizer=*/false);
  Transformer& m = *lm.model;
  const int32_t V = static_cast<int32_t>(m.config().vocab);
  const auto a = random_tokens(3, 200, V);
  std::vector<ScoringExample> ex(2);
  ex[0].prompt = random_tokens(7, 201, V);
  ex[0].candidates = {{a[0], a[1], 2}, {a[0], a[2], 2}, {a[1], 2}};
  ex[1].prompt = random_tokens(3, 202, V);
  ex[1].candidates = {{a[2], 2}, {a[0], a[1], 2}};
  const double d = max_logprob_diff(m, random_tokens(20, 203, V), ex);
  std::printf("[ SmolLM2 GGUF ] max |logprob diff|: %.3g\n", d);
}

}  // namespace
}  // namespace tsft
