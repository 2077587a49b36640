// A trainable parameter as the optimizer, gradient clipping and checkpoints see it: a name (the
// Hugging Face or PEFT key it is saved under), its float32 master value and its gradient.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace tsft {

struct Param {
  std::string name;     // e.g. "model.layers.0.self_attn.q_proj.weight" or a PEFT lora key
  float* value = nullptr;  // (numel) float32 master weights, updated in place by the optimizer
  float* grad = nullptr;   // (numel) gradient; backward adds into it, the trainer zeroes it
  int64_t numel = 0;
  bool decay = true;       // weight decay applies (false for biases and norm weights, as HF)
};

using ParamList = std::vector<Param>;

}  // namespace tsft
