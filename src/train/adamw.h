// AdamW as torch.optim.AdamW (single-tensor path, float32 state): decoupled weight decay, bias
// corrected moments, one global step count. Owns the moment buffers m and v of every Param.
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "train/param.h"

namespace tsft {

struct AdamWConfig {
  // Doubles because torch keeps them as Python floats: the derived scalars (1 - beta1,
  // bias corrections, step size) are computed in double and rounded once to float.
  double beta1 = 0.9;
  double beta2 = 0.999;
  double eps = 1e-8;
  double weight_decay = 0.0;
};

class AdamW {
 public:
  // params: the trainable parameters; their value/grad pointers must stay valid for the
  // optimizer's lifetime. Names must be unique (checked). Moments start at zero.
  explicit AdamW(const ParamList& params, AdamWConfig config = {});

  // One update with learning rate lr from the gradients currently in params[i].grad:
  //   t += 1
  //   p *= 1 - lr*wd                              (only when param.decay)
  //   m = lerp(m, g, 1 - b1);  v = v*b2 + (1-b2)*g*g
  //   p += (-lr / (1 - b1^t)) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)
  // The order of float operations is torch's, element-wise, so results do not depend on the
  // thread count.
  void step(float lr);

  int64_t steps_done() const { return steps_; }
  void set_steps_done(int64_t steps);  // for checkpoint restore
  const AdamWConfig& config() const { return config_; }

  // State access for checkpoints: params in construction order, each with numel m and v.
  size_t num_params() const { return params_.size(); }
  const Param& param(size_t i) const { return params_[i]; }
  std::vector<float>& m(size_t i) { return m_[i]; }
  std::vector<float>& v(size_t i) { return v_[i]; }
  const std::vector<float>& m(size_t i) const { return m_[i]; }
  const std::vector<float>& v(size_t i) const { return v_[i]; }
  // Index of the param named name, or -1.
  int64_t index_of(const std::string& name) const;

 private:
  ParamList params_;
  AdamWConfig config_;
  std::vector<std::vector<float>> m_;
  std::vector<std::vector<float>> v_;
  std::unordered_map<std::string, size_t> by_name_;
  int64_t steps_ = 0;
};

}  // namespace tsft
