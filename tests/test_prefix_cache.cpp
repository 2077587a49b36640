// The server's prompt-prefix cache (serve/prefix_cache.h) and the KV-cache copy it is built on:
// a copied prefix continues exactly as if it had been run, matches are the longest kept prefix
// for the same adapter only, and the memory budget evicts the least recently used entries.
#include <gtest/gtest.h>

#include <vector>

#include "io/model_loader.h"
#include "model/kv_cache.h"
#include "model/lora.h"
#include "model/transformer.h"
#include "serve/prefix_cache.h"
#include "test_util.h"

namespace tsft::serve {
namespace {

ModelConfig small_config() {
  ModelConfig c;
  c.n_layers = 2;
  c.n_kv_heads = 1;
  c.head_dim = 4;
  return c;
}

// A cache holding `tokens`, each position's keys and values a function of the token and layer,
// so a copy can be checked value by value.
KvCache filled(const ModelConfig& cfg, const std::vector<int32_t>& tokens, int64_t capacity = 0) {
  const int64_t n = static_cast<int64_t>(tokens.size());
  KvCache c(cfg, capacity > 0 ? capacity : n);
  for (int64_t l = 0; l < cfg.n_layers; ++l)
    for (int64_t p = 0; p < n; ++p)
      for (int64_t d = 0; d < cfg.kv_dim(); ++d) {
        c.k(l)[p * cfg.kv_dim() + d] = static_cast<float>(tokens[p] * 100 + l * 10 + d);
        c.v(l)[p * cfg.kv_dim() + d] = -static_cast<float>(tokens[p] * 100 + l * 10 + d);
      }
  c.advance(n);
  return c;
}

// Whether positions [0, n) of `c` hold what filled() writes for `tokens`.
bool holds(const ModelConfig& cfg, const KvCache& c, const std::vector<int32_t>& tokens,
           int64_t n) {
  for (int64_t l = 0; l < cfg.n_layers; ++l)
    for (int64_t p = 0; p < n; ++p)
      for (int64_t d = 0; d < cfg.kv_dim(); ++d) {
        const float want = static_cast<float>(tokens[p] * 100 + l * 10 + d);
        if (c.k(l)[p * cfg.kv_dim() + d] != want || c.v(l)[p * cfg.kv_dim() + d] != -want)
          return false;
      }
  return true;
}

TEST(PrefixCache, CommonPrefix) {
  const std::vector<int32_t> a = {1, 2, 3, 4}, b = {1, 2, 9}, c = {7};
  EXPECT_EQ(common_prefix(a.data(), 4, b.data(), 3), 2);
  EXPECT_EQ(common_prefix(a.data(), 4, a.data(), 4), 4);
  EXPECT_EQ(common_prefix(a.data(), 1, b.data(), 3), 1);  // bounded by the shorter
  EXPECT_EQ(common_prefix(a.data(), 4, c.data(), 1), 0);
  EXPECT_EQ(common_prefix(a.data(), 0, b.data(), 3), 0);
}

TEST(PrefixCache, KvCopyAppendsToWhatIsThere) {
  const ModelConfig cfg = small_config();
  const std::vector<int32_t> t = {5, 6, 7, 8};
  const KvCache src = filled(cfg, t);
  KvCache dst(cfg, 10);
  dst.copy_from(src, 2);
  EXPECT_EQ(dst.size(), 2);
  EXPECT_TRUE(holds(cfg, dst, t, 2));
  dst.copy_from(src, 4);  // positions 2 and 3 only
  EXPECT_EQ(dst.size(), 4);
  EXPECT_TRUE(holds(cfg, dst, t, 4));
  dst.copy_from(src, 1);  // already held: nothing changes
  EXPECT_EQ(dst.size(), 4);
}

TEST(PrefixCache, MatchesTheLongestKeptPrefixBelowTheLimit) {
  const ModelConfig cfg = small_config();
  PrefixCache pc(cfg, 1 << 20);
  const std::vector<int32_t> a = {1, 2, 3, 4, 5}, b = {1, 2, 9, 9};
  pc.store(a.data(), 5, nullptr, filled(cfg, a));
  pc.store(b.data(), 4, nullptr, filled(cfg, b));
  EXPECT_EQ(pc.entries(), 2);
  EXPECT_EQ(pc.bytes(), 9 * pc.bytes_per_token());
  EXPECT_EQ(pc.bytes_per_token(), 2 * 2 * 4 * 4);  // keys and values, 2 layers, 4 floats

  const std::vector<int32_t> q = {1, 2, 3, 4, 7, 8};
  PrefixCache::Match m = pc.match(q, 6, nullptr);
  ASSERT_NE(m.cache, nullptr);
  EXPECT_EQ(m.tokens, 4);
  EXPECT_TRUE(holds(cfg, *m.cache, a, 4));
  EXPECT_EQ(pc.match(q, 3, nullptr).tokens, 3);  // the caller's limit (the prompt's last token)
  const std::vector<int32_t> q2 = {1, 2, 9, 9, 9};
  EXPECT_EQ(pc.match(q2, 5, nullptr).tokens, 4);
  const std::vector<int32_t> none = {8, 1, 2};
  EXPECT_EQ(pc.match(none, 3, nullptr).cache, nullptr);
  EXPECT_EQ(pc.match(none, 3, nullptr).tokens, 0);
}

TEST(PrefixCache, EntriesArePerAdapter) {
  const ModelConfig cfg = small_config();
  PrefixCache pc(cfg, 1 << 20);
  const LoraWeights a, b;  // only their addresses matter here
  const std::vector<int32_t> t = {1, 2, 3, 4};
  pc.store(t.data(), 4, &a, filled(cfg, t));
  EXPECT_EQ(pc.match(t, 3, &a).tokens, 3);
  EXPECT_EQ(pc.match(t, 3, &b).tokens, 0);
  EXPECT_EQ(pc.match(t, 3, nullptr).tokens, 0);
  pc.store(t.data(), 4, nullptr, filled(cfg, t));  // the same tokens without an adapter: kept apart
  EXPECT_EQ(pc.entries(), 2);
  EXPECT_EQ(pc.match(t, 3, nullptr).tokens, 3);
}

TEST(PrefixCache, ExtendingReplacesAndHeldIsNotStoredTwice) {
  const ModelConfig cfg = small_config();
  PrefixCache pc(cfg, 1 << 20);
  const std::vector<int32_t> shorter = {1, 2, 3}, longer = {1, 2, 3, 4, 5};
  pc.store(shorter.data(), 3, nullptr, filled(cfg, shorter));
  pc.store(longer.data(), 5, nullptr, filled(cfg, longer));
  EXPECT_EQ(pc.entries(), 1);  // the longer one holds the shorter
  EXPECT_EQ(pc.bytes(), 5 * pc.bytes_per_token());
  pc.store(shorter.data(), 3, nullptr, filled(cfg, shorter));
  EXPECT_EQ(pc.entries(), 1);
  EXPECT_EQ(pc.match(longer, 5, nullptr).tokens, 5);
}

TEST(PrefixCache, BudgetEvictsTheLeastRecentlyUsed) {
  const ModelConfig cfg = small_config();
  const int64_t per_token = 2 * 2 * 4 * 4;
  PrefixCache pc(cfg, 10 * per_token);  // ten positions
  const std::vector<int32_t> a = {1, 1, 1, 1}, b = {2, 2, 2, 2}, c = {3, 3, 3, 3};
  pc.store(a.data(), 4, nullptr, filled(cfg, a));
  pc.store(b.data(), 4, nullptr, filled(cfg, b));
  EXPECT_EQ(pc.match(a, 4, nullptr).tokens, 4);  // a is now the most recently used
  pc.store(c.data(), 4, nullptr, filled(cfg, c));  // 12 > 10 positions: b goes
  EXPECT_EQ(pc.entries(), 2);
  EXPECT_EQ(pc.bytes(), 8 * per_token);
  EXPECT_EQ(pc.match(b, 4, nullptr).tokens, 0);
  EXPECT_EQ(pc.match(a, 4, nullptr).tokens, 4);
  EXPECT_EQ(pc.match(c, 4, nullptr).tokens, 4);
  const std::vector<int32_t> big(11, 7);  // over the whole budget: not kept, nothing evicted
  pc.store(big.data(), 11, nullptr, filled(cfg, big));
  EXPECT_EQ(pc.entries(), 2);

  PrefixCache off(cfg, 0);
  off.store(a.data(), 4, nullptr, filled(cfg, a));
  EXPECT_EQ(off.entries(), 0);
  EXPECT_EQ(off.match(a, 4, nullptr).tokens, 0);
}

// On a real model: a prompt whose first positions are copied from another sequence's cache gives
// the logits of running the whole prompt, on every architecture's cache layout.
class PrefixCopyArch : public ::testing::TestWithParam<std::string> {};

TEST_P(PrefixCopyArch, CopiedPrefixContinuesAsIfRun) {
  LoadedModel lm = load_model(std::string(TSFT_TEST_DATA_DIR) + "/tiny/" + GetParam(),
                              /*with_tokenizer=*/false);
  Transformer& m = *lm.model;
  const int64_t V = m.config().vocab;
  std::vector<int32_t> shared, other;
  for (int32_t i = 0; i < 9; ++i) shared.push_back((i * 37 + 5) % static_cast<int32_t>(V));
  std::vector<int32_t> whole = shared;
  for (int32_t i = 0; i < 4; ++i) whole.push_back((i * 11 + 2) % static_cast<int32_t>(V));
  other = shared;
  other.push_back(3);  // another prompt with the same first 9 tokens

  std::vector<float> ref(V), got(V);
  KvCache alone = m.make_cache(static_cast<int64_t>(whole.size()));
  m.forward(whole.data(), static_cast<int64_t>(whole.size()), alone, ref.data(), 1);

  KvCache donor = m.make_cache(static_cast<int64_t>(other.size()));
  m.forward(other.data(), static_cast<int64_t>(other.size()), donor, got.data(), 1);
  PrefixCache pc(m.config(), 1 << 24);
  pc.store(other.data(), static_cast<int64_t>(other.size()), nullptr, donor);
  const PrefixCache::Match hit = pc.match(whole, static_cast<int64_t>(whole.size()) - 1, nullptr);
  ASSERT_EQ(hit.tokens, 9);
  KvCache reused = m.make_cache(static_cast<int64_t>(whole.size()));
  reused.copy_from(*hit.cache, hit.tokens);
  m.forward(whole.data() + 9, static_cast<int64_t>(whole.size()) - 9, reused, got.data(), 1);
  EXPECT_EQ(reused.size(), static_cast<int64_t>(whole.size()));
  EXPECT_LT(testing::max_abs_diff(ref, got), 1e-4);
}

INSTANTIATE_TEST_SUITE_P(Archs, PrefixCopyArch,
                         ::testing::Values("llama", "llama_untied", "qwen2", "qwen3"));

}  // namespace
}  // namespace tsft::serve
