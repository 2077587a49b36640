// Llama family: SmolLM2, Llama 3.x (with llama3 RoPE scaling), TinyLlama, Mistral-style dense.
#include "model/arch.h"

namespace tsft {

ArchSpec make_llama_spec() {
  return ArchSpec{Arch::kLlama, "llama", {"llama", "mistral"}, {"LlamaForCausalLM", "MistralForCausalLM"},
                  /*qkv_bias=*/false, /*qk_norm=*/false, /*gguf_permuted_qk=*/true};
}

}  // namespace tsft
