// Learning-rate schedules as Hugging Face transformers' get_scheduler (constant,
// constant_with_warmup, linear, cosine with num_cycles 0.5), with warmup as steps or as a ratio.
#pragma once

#include <cstdint>
#include <string>

namespace tsft {

enum class LrScheduleKind { kConstant, kConstantWithWarmup, kLinear, kCosine };

// "constant", "constant_with_warmup", "linear", "cosine" (HF's names); tsft::Error naming the
// value and the accepted names otherwise.
LrScheduleKind parse_lr_schedule(const std::string& name);
const char* lr_schedule_name(LrScheduleKind kind);

// HF TrainingArguments.get_warmup_steps: warmup_steps when > 0, else ceil(ratio * total_steps).
// tsft::Error when warmup_steps < 0 or ratio is outside [0, 1].
int64_t resolve_warmup_steps(int64_t warmup_steps, double warmup_ratio, int64_t total_steps);

class LrSchedule {
 public:
  // total_steps: number of optimizer steps of the run (> 0); warmup_steps already resolved.
  // As in HF, "constant" ignores warmup.
  LrSchedule(LrScheduleKind kind, float base_lr, int64_t total_steps, int64_t warmup_steps);

  // Learning rate of the optimizer step with 0-based index step (HF's LambdaLR: the first step
  // uses lambda(0), which is 0 when there is warmup).
  float lr_at(int64_t step) const;
  // The multiplier lambda(step) applied to base_lr, in double as HF computes it.
  double factor_at(int64_t step) const;

  LrScheduleKind kind() const { return kind_; }
  float base_lr() const { return base_lr_; }
  int64_t total_steps() const { return total_steps_; }
  int64_t warmup_steps() const { return warmup_steps_; }

 private:
  LrScheduleKind kind_;
  float base_lr_;
  int64_t total_steps_;
  int64_t warmup_steps_;
};

}  // namespace tsft
