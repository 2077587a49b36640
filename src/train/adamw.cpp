#include "train/adamw.h"

#include <cmath>

#include "core/error.h"

namespace tsft {
namespace {

// Below this many elements a parameter is updated on one thread: the fork/join costs more.
constexpr int64_t kParallelMin = 1 << 15;

}  // namespace

AdamW::AdamW(const ParamList& params, AdamWConfig config) : params_(params), config_(config) {
  m_.reserve(params_.size());
  v_.reserve(params_.size());
  for (size_t i = 0; i < params_.size(); ++i) {
    const Param& p = params_[i];
    TSFT_CHECK(p.numel >= 0 && (p.numel == 0 || p.value != nullptr), "param ", p.name,
               " has no value");
    TSFT_CHECK(by_name_.emplace(p.name, i).second, "param name given twice: ", p.name);
    m_.emplace_back(static_cast<size_t>(p.numel), 0.0f);
    v_.emplace_back(static_cast<size_t>(p.numel), 0.0f);
  }
}

void AdamW::set_steps_done(int64_t steps) {
  TSFT_CHECK(steps >= 0);
  steps_ = steps;
}

int64_t AdamW::index_of(const std::string& name) const {
  const auto it = by_name_.find(name);
  return it == by_name_.end() ? -1 : static_cast<int64_t>(it->second);
}

void AdamW::step(float lr) {
  ++steps_;
  const double t = static_cast<double>(steps_);
  const double bc1 = 1.0 - std::pow(config_.beta1, t);
  const double bc2 = 1.0 - std::pow(config_.beta2, t);
  // The scalars torch hands its float kernels, each rounded once from double.
  const float decay_mul = static_cast<float>(1.0 - static_cast<double>(lr) * config_.weight_decay);
  const float one_minus_b1 = static_cast<float>(1.0 - config_.beta1);
  const float b2 = static_cast<float>(config_.beta2);
  const float one_minus_b2 = static_cast<float>(1.0 - config_.beta2);
  const float neg_step_size = static_cast<float>(-(static_cast<double>(lr) / bc1));
  const float bc2_sqrt = static_cast<float>(std::sqrt(bc2));
  const float eps = static_cast<float>(config_.eps);
  const bool lerp_from_start = std::fabs(one_minus_b1) < 0.5f;

  for (size_t i = 0; i < params_.size(); ++i) {
    const Param& p = params_[i];
    const int64_t n = p.numel;
    if (n == 0) continue;
    TSFT_CHECK(p.grad != nullptr, "param ", p.name, " has no gradient");
    float* __restrict w = p.value;
    const float* __restrict g = p.grad;
    float* __restrict m = m_[i].data();
    float* __restrict v = v_[i].data();
    const bool decay = p.decay && config_.weight_decay != 0.0;
#pragma omp parallel for simd schedule(static) if (n >= kParallelMin)
    for (int64_t j = 0; j < n; ++j) {
      float wj = w[j];
      if (decay) wj = wj * decay_mul;
      const float gj = g[j];
      // torch.lerp: start + weight*(end-start) for |weight| < 0.5, else end -
      // (end-start)*(1-weight)
      const float mj = lerp_from_start ? m[j] + one_minus_b1 * (gj - m[j])
                                       : gj - (gj - m[j]) * (1.0f - one_minus_b1);
      const float vj = v[j] * b2 + one_minus_b2 * gj * gj;
      const float denom = std::sqrt(vj) / bc2_sqrt + eps;
      m[j] = mj;
      v[j] = vj;
      w[j] = wj + neg_step_size * mj / denom;
    }
  }
}

}  // namespace tsft
