// Qwen2 / Qwen2.5: Llama layout plus biases on the q, k and v projections.
#include "model/arch.h"

namespace tsft {

ArchSpec make_qwen2_spec() {
  return ArchSpec{Arch::kQwen2, "qwen2", {"qwen2"}, {"Qwen2ForCausalLM"},
                  /*qkv_bias=*/true, /*qk_norm=*/false, /*gguf_permuted_qk=*/false};
}

}  // namespace tsft
