// Sampling: greedy is argmax, the seed makes sampling repeatable, top-k/top-p restrict the support,
// and temperature sampling follows the softmax distribution.
#include <gtest/gtest.h>

#include <cmath>
#include <set>
#include <vector>

#include "model/sampler.h"

namespace tsft {
namespace {

std::vector<float> logits() { return {0.5f, 2.0f, -1.0f, 1.5f, 2.0f, 0.0f}; }

TEST(Sampler, GreedyPicksFirstMaximum) {
  auto l = logits();
  Sampler s(SamplingParams{});
  EXPECT_EQ(s.sample(l.data(), l.size()), 1);  // ties go to the lowest index, like torch.argmax
}

TEST(Sampler, SameSeedSameSequence) {
  SamplingParams p;
  p.temperature = 1.0f;
  p.seed = 1234;
  Sampler a(p), b(p);
  std::vector<int32_t> xa, xb;
  for (int i = 0; i < 200; ++i) {
    auto la = logits(), lb = logits();
    xa.push_back(a.sample(la.data(), la.size()));
    xb.push_back(b.sample(lb.data(), lb.size()));
  }
  EXPECT_EQ(xa, xb);
  p.seed = 99;
  Sampler c(p);
  std::vector<int32_t> xc;
  for (int i = 0; i < 200; ++i) {
    auto l = logits();
    xc.push_back(c.sample(l.data(), l.size()));
  }
  EXPECT_NE(xa, xc);
}

TEST(Sampler, TopKRestrictsSupport) {
  SamplingParams p;
  p.temperature = 5.0f;
  p.top_k = 2;
  Sampler s(p);
  std::set<int32_t> seen;
  for (int i = 0; i < 500; ++i) {
    auto l = logits();
    seen.insert(s.sample(l.data(), l.size()));
  }
  EXPECT_EQ(seen, (std::set<int32_t>{1, 4}));
}

TEST(Sampler, TopPRestrictsSupport) {
  // probabilities at T=1: the two 2.0 logits hold ~0.55 of the mass together with 1.5 ~0.75.
  SamplingParams p;
  p.temperature = 1.0f;
  p.top_p = 0.7f;
  Sampler s(p);
  std::set<int32_t> seen;
  for (int i = 0; i < 2000; ++i) {
    auto l = logits();
    seen.insert(s.sample(l.data(), l.size()));
  }
  EXPECT_EQ(seen, (std::set<int32_t>{1, 3, 4}));
}

TEST(Sampler, FrequenciesFollowSoftmax) {
  SamplingParams p;
  p.temperature = 0.7f;
  p.seed = 7;
  Sampler s(p);
  const auto base = logits();
  std::vector<double> expect(base.size());
  double z = 0;
  for (size_t i = 0; i < base.size(); ++i) z += expect[i] = std::exp(base[i] / 0.7);
  std::vector<int> count(base.size());
  const int n = 20000;
  for (int i = 0; i < n; ++i) {
    auto l = base;
    ++count[s.sample(l.data(), l.size())];
  }
  for (size_t i = 0; i < base.size(); ++i)
    EXPECT_NEAR(count[i] / static_cast<double>(n), expect[i] / z, 0.015) << "token " << i;
}

}  // namespace
}  // namespace tsft
