// PerplexityAccumulator: token-weighted mean loss, so sequences of different lengths count by
// their tokens, as a single pass over the concatenated text would.
#include "eval/perplexity.h"

#include <cmath>

#include "core/error.h"

namespace tsft {

void PerplexityAccumulator::add(double nll_sum, int64_t tokens) {
  TSFT_CHECK(tokens >= 0, "tokens = ", tokens);
  TSFT_CHECK(nll_sum >= 0, "negative log-likelihood sum ", nll_sum);  // also rejects NaN
  nll_sum_ += nll_sum;
  tokens_ += tokens;
}

std::optional<double> PerplexityAccumulator::mean_loss() const {
  if (tokens_ == 0) return std::nullopt;
  return nll_sum_ / static_cast<double>(tokens_);
}

std::optional<double> PerplexityAccumulator::perplexity() const {
  const std::optional<double> loss = mean_loss();
  if (!loss) return std::nullopt;
  const double ppl = std::exp(*loss);
  if (!std::isfinite(ppl)) return std::nullopt;  // JSON has no infinity
  return ppl;
}

nlohmann::ordered_json to_json(const PerplexityAccumulator& acc) {
  nlohmann::ordered_json j;
  const std::optional<double> loss = acc.mean_loss(), ppl = acc.perplexity();
  j["loss"] = loss && std::isfinite(*loss) ? nlohmann::ordered_json(*loss) : nullptr;
  j["perplexity"] = ppl ? nlohmann::ordered_json(*ppl) : nullptr;
  j["tokens"] = acc.tokens();
  return j;
}

}  // namespace tsft
