#include "cli/compute_options.h"

#include "backend/cpu/matmul_int.h"
#include "core/error.h"
#include "core/log.h"

namespace tsft {

OptionSpec activations_option() {
  return {"activations", "f32|auto|int8",
          "how products with a GGUF's quantized weights (Q4_0, Q4_1, Q8_0) treat their inputs: "
          "f32 keeps them in float32; auto multiplies steps that decode 6-16 sequences together "
          "in int16 (AVX512-VNNI; logits within about 0.01 of f32), everything else in f32; int8 "
          "rounds every block of 32 inputs to int8 as llama.cpp does, everywhere: fastest, "
          "perplexity about 1% higher on SmolLM2-135M",
          "auto"};
}

void apply_activations_option(const Args& args) {
  const std::string v = args.str("activations");
  Activations a;
  if (!parse_activations(v, &a)) fail("--activations: expected f32, auto or int8, got '", v, "'");
  if (a == Activations::kInt8 && !matmul_int_supported(DType::kQ4_1))
    log_warn("--activations int8: this CPU (or build) has no AVX512-VNNI; computing in f32");
  set_activations(a);
}

}  // namespace tsft
