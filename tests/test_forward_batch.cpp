// Transformer::forward_batch (the server's continuous batching) against running each sequence
// alone with Transformer::forward: mixed prompt chunks and single decode tokens, sequences at
// different positions, and unmerged LoRA adapters per sequence against the merged weights.
#include <gtest/gtest.h>

#include <vector>

#include "core/rng.h"
#include "export/merge.h"
#include "io/model_loader.h"
#include "model/lora.h"
#include "model/transformer.h"
#include "test_util.h"

namespace tsft {
namespace {

const std::string kData = TSFT_TEST_DATA_DIR;

float max_diff(const std::vector<float>& ref, const float* got, int64_t n) {
  return testing::max_abs_diff(ref, std::vector<float>(got, got + n));
}

std::vector<int32_t> random_tokens(Rng& rng, int64_t n, int64_t vocab) {
  std::vector<int32_t> t(n);
  for (auto& x : t) x = static_cast<int32_t>(rng.uniform() * static_cast<double>(vocab - 1));
  return t;
}

LoraWeights random_adapter(const ModelConfig& cfg, uint64_t seed, std::vector<std::string> targets) {
  LoraConfig lc;
  lc.rank = 3;
  lc.alpha = 6.0f;
  lc.target_modules = std::move(targets);
  Rng rng(seed);
  LoraWeights w = LoraWeights::create(cfg, lc, rng);
  // B starts at zero (PEFT's init), which would hide a missing update: fill both.
  w.for_each([&](const std::string&, Tensor& t) {
    float* d = t.f32();
    for (int64_t i = 0; i < t.numel(); ++i) d[i] = static_cast<float>(rng.uniform() - 0.5) * 0.2f;
  });
  return w;
}

// Logits of the last token after running `tokens` alone through `m` (in two calls: history,
// then the rest) — the reference a batched step must reproduce.
std::vector<float> alone(Transformer& m, const std::vector<int32_t>& history,
                         const std::vector<int32_t>& now) {
  KvCache cache = m.make_cache(static_cast<int64_t>(history.size() + now.size()));
  std::vector<float> logits(m.config().vocab);
  if (!history.empty())
    m.forward(history.data(), static_cast<int64_t>(history.size()), cache, logits.data(), 1);
  m.forward(now.data(), static_cast<int64_t>(now.size()), cache, logits.data(), 1);
  return logits;
}

class BatchArch : public ::testing::TestWithParam<std::string> {};

TEST_P(BatchArch, MatchesEachSequenceAlone) {
  LoadedModel lm = load_model(kData + "/tiny/" + GetParam(), /*with_tokenizer=*/false);
  Transformer& m = *lm.model;
  const int64_t V = m.config().vocab;
  Rng rng(11);
  // (history already in the cache, tokens of this step): a fresh prompt, a chunk after a
  // prompt, decode steps at different positions.
  const std::vector<std::pair<int64_t, int64_t>> shapes = {{0, 7}, {5, 4}, {9, 1}, {0, 1}, {3, 1}};
  std::vector<std::vector<int32_t>> hist, now;
  std::vector<KvCache> caches;
  for (auto [h, n] : shapes) {
    hist.push_back(random_tokens(rng, h, V));
    now.push_back(random_tokens(rng, n, V));
    caches.push_back(m.make_cache(h + n + 2));
  }
  std::vector<BatchSeq> seqs;
  std::vector<float> scratch(V);
  for (size_t i = 0; i < shapes.size(); ++i) {
    if (!hist[i].empty())
      m.forward(hist[i].data(), static_cast<int64_t>(hist[i].size()), caches[i], scratch.data(), 1);
    seqs.push_back({now[i].data(), static_cast<int64_t>(now[i].size()), &caches[i], nullptr});
  }
  std::vector<float> logits(shapes.size() * V);
  m.forward_batch(seqs, logits.data());
  for (size_t i = 0; i < shapes.size(); ++i) {
    EXPECT_EQ(caches[i].size(), shapes[i].first + shapes[i].second);
    const std::vector<float> ref = alone(m, hist[i], now[i]);
    EXPECT_LT(max_diff(ref, logits.data() + i * V, V), 1e-4) << "sequence " << i;
  }
  // A second step continues every cache correctly (one decode token each).
  std::vector<int32_t> next(shapes.size());
  seqs.clear();
  for (size_t i = 0; i < shapes.size(); ++i) {
    next[i] = static_cast<int32_t>((i * 7 + 3) % V);
    seqs.push_back({&next[i], 1, &caches[i], nullptr});
  }
  m.forward_batch(seqs, logits.data());
  for (size_t i = 0; i < shapes.size(); ++i) {
    std::vector<int32_t> h = hist[i];
    h.insert(h.end(), now[i].begin(), now[i].end());
    const std::vector<float> ref = alone(m, h, {next[i]});
    EXPECT_LT(max_diff(ref, logits.data() + i * V, V), 1e-4) << "sequence " << i;
  }
}

TEST_P(BatchArch, AdaptersPerSequenceMatchMergedWeights) {
  LoadedModel lm = load_model(kData + "/tiny/" + GetParam(), /*with_tokenizer=*/false);
  Transformer& m = *lm.model;
  const ModelConfig& cfg = m.config();
  const int64_t V = cfg.vocab;
  const LoraWeights a = random_adapter(cfg, 1, {"q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"});
  const LoraWeights b = random_adapter(cfg, 2, {"v_proj", "down_proj"});
  Transformer merged_a(cfg, merged_weights(cfg, m.weights(), a));
  Transformer merged_b(cfg, merged_weights(cfg, m.weights(), b));
  Rng rng(5);
  // Adapters interleaved on purpose: a, none, b, a (runs are not pre-grouped).
  const std::vector<const LoraWeights*> which = {&a, nullptr, &b, &a};
  const std::vector<int64_t> lens = {6, 3, 1, 2};
  std::vector<std::vector<int32_t>> toks;
  std::vector<KvCache> caches;
  std::vector<BatchSeq> seqs;
  for (size_t i = 0; i < which.size(); ++i) {
    toks.push_back(random_tokens(rng, lens[i], V));
    caches.push_back(m.make_cache(lens[i]));
  }
  for (size_t i = 0; i < which.size(); ++i)
    seqs.push_back({toks[i].data(), lens[i], &caches[i], which[i]});
  std::vector<float> logits(which.size() * V);
  m.forward_batch(seqs, logits.data());
  for (size_t i = 0; i < which.size(); ++i) {
    Transformer& ref_model = which[i] == &a ? merged_a : which[i] == &b ? merged_b : m;
    const std::vector<float> ref = alone(ref_model, {}, toks[i]);
    EXPECT_LT(max_diff(ref, logits.data() + i * V, V), 2e-4) << "sequence " << i;
  }
  // The adapter changes the output (the check above is not vacuous).
  const std::vector<float> base = alone(m, {}, toks[0]);
  EXPECT_GT(max_diff(base, logits.data(), V), 1e-3);
}

INSTANTIATE_TEST_SUITE_P(Archs, BatchArch, ::testing::Values("llama", "llama_untied", "qwen2", "qwen3"));

TEST(ForwardBatch, ErrorsNameTheSequence) {
  LoadedModel lm = load_model(kData + "/tiny/llama", /*with_tokenizer=*/false);
  Transformer& m = *lm.model;
  KvCache ok = m.make_cache(4), small = m.make_cache(2);
  const std::vector<int32_t> t = {1, 2, 3};
  std::vector<float> logits(2 * m.config().vocab);
  try {
    m.forward_batch({{t.data(), 1, &ok, nullptr}, {t.data(), 3, &small, nullptr}}, logits.data());
    ADD_FAILURE() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("context full"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("sequence 1"), std::string::npos) << e.what();
  }
  const std::vector<int32_t> bad = {static_cast<int32_t>(m.config().vocab)};
  EXPECT_THROW(m.forward_batch({{bad.data(), 1, &ok, nullptr}}, logits.data()), Error);
  EXPECT_EQ(ok.size(), 0);  // nothing was written by the failed calls
}

}  // namespace
}  // namespace tsft
