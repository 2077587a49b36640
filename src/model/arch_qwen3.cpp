// Qwen3: no projection biases, per-head RMSNorm of q and k (q_norm, k_norm) before RoPE.
#include "model/arch.h"

namespace tsft {

ArchSpec make_qwen3_spec() {
  return ArchSpec{Arch::kQwen3, "qwen3", {"qwen3"}, {"Qwen3ForCausalLM"},
                  /*qkv_bias=*/false, /*qk_norm=*/true, /*gguf_permuted_qk=*/false};
}

}  // namespace tsft
