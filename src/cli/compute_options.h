// Command-line options that choose how inference computes, shared by generate, eval and serve.
#pragma once

#include "cli/args.h"

namespace tsft {

// --activations f32|auto|int8: how products with a GGUF's quantized weights treat their inputs.
OptionSpec activations_option();

// Applies --activations (set_activations). int8 on a CPU without the integer kernels (no
// AVX512-VNNI) warns that it computes in f32; any other value is an error naming the flag.
void apply_activations_option(const Args& args);

}  // namespace tsft
