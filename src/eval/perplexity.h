// Perplexity of a model on held-out text: an accumulator of summed token losses, giving the
// mean loss, exp(mean loss) and the token count for the report's "perplexity" object.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>

namespace tsft {

class PerplexityAccumulator {
 public:
  // nll_sum: the sum of -log p(token) (natural log) over `tokens` scored tokens.
  void add(double nll_sum, int64_t tokens);

  int64_t tokens() const { return tokens_; }
  // Null when no token was scored; perplexity is also null when exp overflows a double.
  std::optional<double> mean_loss() const;
  std::optional<double> perplexity() const;

 private:
  double nll_sum_ = 0;
  int64_t tokens_ = 0;
};

// {"loss", "perplexity", "tokens"} (docs/EVAL_REPORT.md); undefined values are null.
nlohmann::ordered_json to_json(const PerplexityAccumulator& acc);

}  // namespace tsft
