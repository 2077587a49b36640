// Growing the vocabulary for a new special token: old behaviour is unchanged, new rows are the
// mean of the old ones, and the new ids can be fed and predicted.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <filesystem>

#include "io/model_loader.h"
#include "test_util.h"

namespace tsft {
namespace {

const std::string kData = TSFT_TEST_DATA_DIR;

std::vector<float> all_logits(Transformer& m, const std::vector<int32_t>& ids) {
  std::vector<float> out(ids.size() * m.config().vocab);
  KvCache cache = m.make_cache(ids.size());
  m.forward(ids.data(), ids.size(), cache, out.data(), ids.size());
  return out;
}

class VocabResize : public ::testing::TestWithParam<std::string> {};

TEST_P(VocabResize, GrowsWithMeanRowsAndKeepsOldLogits) {
  LoadedModel lm = load_model(kData + "/tiny/" + GetParam(), false);
  Transformer& m = *lm.model;
  const int64_t V = m.config().vocab, C = m.config().hidden;
  const std::vector<int32_t> ids = {5, 17, 200, 3, 99, 42};
  const auto before = all_logits(m, ids);

  m.grow_vocab(V + 3);
  ASSERT_EQ(m.config().vocab, V + 3);
  const ModelWeights& w = m.weights();
  for (const Tensor* t : {&w.embed, &w.lm_head}) {
    ASSERT_EQ(t->shape[0], V + 3);
    for (int64_t c = 0; c < C; ++c) {
      double mean = 0.0;
      for (int64_t r = 0; r < V; ++r) mean += t->f32()[r * C + c];
      mean /= V;
      for (int64_t r = V; r < V + 3; ++r) EXPECT_NEAR(t->f32()[r * C + c], mean, 1e-6);
    }
  }
  EXPECT_EQ(w.embed.data == w.lm_head.data, m.config().tie_embeddings);

  const auto after = all_logits(m, ids);
  for (size_t t = 0; t < ids.size(); ++t) {
    for (int64_t v = 0; v < V; ++v)
      EXPECT_NEAR(after[t * (V + 3) + v], before[t * V + v], 1e-5) << "t=" << t << " v=" << v;
    // The three new rows are equal, so are their logits.
    EXPECT_EQ(after[t * (V + 3) + V], after[t * (V + 3) + V + 1]);
  }
  // A new id can be fed.
  std::vector<int32_t> with_new = {5, static_cast<int32_t>(V + 1), 17};
  EXPECT_NO_THROW(all_logits(m, with_new));
  EXPECT_THROW(m.grow_vocab(V), Error);
}

INSTANTIATE_TEST_SUITE_P(TiedAndUntied, VocabResize, ::testing::Values("llama", "llama_untied"));

TEST(VocabResize, SentinelTokenOnTheDefaultModel) {
  const std::string path = tsft::testing::default_model_path();
  ASSERT_TRUE(std::filesystem::exists(path));
  LoadedModel lm = load_model(path);
  const Tokenizer tok = lm.tokenizer->with_special_tokens({"<my_tool_selection>", "<|im_end|>"});
  EXPECT_EQ(tok.vocab_size(), 49153);  // <|im_end|> already exists and keeps its id
  std::vector<int32_t> want = lm.tokenizer->encode("calculator");
  want.push_back(49152);
  EXPECT_EQ(tok.encode("calculator<my_tool_selection>"), want);
  EXPECT_EQ(tok.decode({49152}), "<my_tool_selection>");
  EXPECT_TRUE(tok.is_special(49152));

  // The quantized LM head copy is dropped (new rows are not representable); decoding still works.
  Transformer& m = *lm.model;
  EXPECT_NE(m.weights().lm_head_q.data, nullptr);
  m.grow_vocab(tok.vocab_size());
  EXPECT_EQ(m.weights().lm_head_q.data, nullptr);
  EXPECT_NE(m.weights().layers[0].w_up_q.data, nullptr);
  std::vector<float> logits(49153);
  KvCache cache = m.make_cache(4);
  const int32_t ids[] = {1, 49152, 198};
  m.forward(ids, 3, cache, logits.data(), 1);
  const int32_t next = 504;
  m.forward(&next, 1, cache, logits.data(), 1);
  EXPECT_TRUE(std::isfinite(logits[49152]));
}

}  // namespace
}  // namespace tsft
