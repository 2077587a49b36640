#include "train/lr_schedule.h"

#include <algorithm>
#include <cmath>
#include <numbers>

#include "core/error.h"

namespace tsft {

LrScheduleKind parse_lr_schedule(const std::string& name) {
  if (name == "constant") return LrScheduleKind::kConstant;
  if (name == "constant_with_warmup") return LrScheduleKind::kConstantWithWarmup;
  if (name == "linear") return LrScheduleKind::kLinear;
  if (name == "cosine") return LrScheduleKind::kCosine;
  fail("unknown lr scheduler '", name,
       "'; expected one of: constant, constant_with_warmup, linear, cosine");
}

const char* lr_schedule_name(LrScheduleKind kind) {
  switch (kind) {
    case LrScheduleKind::kConstant:
      return "constant";
    case LrScheduleKind::kConstantWithWarmup:
      return "constant_with_warmup";
    case LrScheduleKind::kLinear:
      return "linear";
    case LrScheduleKind::kCosine:
      return "cosine";
  }
  return "?";
}

int64_t resolve_warmup_steps(int64_t warmup_steps, double warmup_ratio, int64_t total_steps) {
  if (warmup_steps < 0) fail("warmup_steps must be >= 0, got ", warmup_steps);
  if (!(warmup_ratio >= 0.0 && warmup_ratio <= 1.0))
    fail("warmup_ratio must be in [0, 1], got ", warmup_ratio);
  if (warmup_steps > 0) return warmup_steps;
  return static_cast<int64_t>(std::ceil(static_cast<double>(total_steps) * warmup_ratio));
}

LrSchedule::LrSchedule(LrScheduleKind kind, float base_lr, int64_t total_steps,
                       int64_t warmup_steps)
    : kind_(kind), base_lr_(base_lr), total_steps_(total_steps), warmup_steps_(warmup_steps) {
  if (total_steps <= 0) fail("the number of training steps must be > 0, got ", total_steps);
  if (warmup_steps < 0) fail("warmup_steps must be >= 0, got ", warmup_steps);
}

double LrSchedule::factor_at(int64_t step) const {
  const auto s = static_cast<double>(step);
  const auto w = static_cast<double>(warmup_steps_);
  const auto total = static_cast<double>(total_steps_);
  if (kind_ == LrScheduleKind::kConstant) return 1.0;
  if (step < warmup_steps_) return s / std::max(1.0, w);
  switch (kind_) {
    case LrScheduleKind::kConstantWithWarmup:
      return 1.0;
    case LrScheduleKind::kLinear:
      return std::max(0.0, (total - s) / std::max(1.0, total - w));
    case LrScheduleKind::kCosine: {
      const double progress = (s - w) / std::max(1.0, total - w);
      constexpr double kNumCycles = 0.5;
      return std::max(0.0, 0.5 * (1.0 + std::cos(std::numbers::pi * kNumCycles * 2.0 * progress)));
    }
    case LrScheduleKind::kConstant:
      break;
  }
  return 1.0;
}

float LrSchedule::lr_at(int64_t step) const {
  return static_cast<float>(static_cast<double>(base_lr_) * factor_at(step));
}

}  // namespace tsft
