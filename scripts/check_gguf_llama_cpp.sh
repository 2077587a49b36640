#!/usr/bin/env bash
# Parity of `toolsft export gguf` with llama.cpp: builds llama-cpp-python (which carries
# llama.cpp's source) into its own venv outside the repo, exports a model, and compares the
# greedy tokens llama.cpp generates with `toolsft generate` for a few chat prompts.
#
# usage: scripts/check_gguf_llama_cpp.sh [MODEL] [TYPE]   (defaults: the SmolLM2 GGUF, f32)
# env:   TSFT_BIN (default build/toolsft), LLAMA_VENV (default ~/.cache/toolsft/llama-cpp-venv),
#        N_TOKENS (default 24), PROMPT (one prompt instead of the three built in, e.g. a
#        fine-tuned model's own format). Building llama.cpp takes many CPU minutes the first time.
set -euo pipefail
cd "$(dirname "$0")/.."
model=${1:-models/SmolLM2-135M-Instruct.Q4_1.gguf}
type=${2:-f32}
bin=${TSFT_BIN:-build/toolsft}
venv=${LLAMA_VENV:-$HOME/.cache/toolsft/llama-cpp-venv}
n=${N_TOKENS:-24}

if ! "$venv/bin/python" -c "import llama_cpp" 2>/dev/null; then
  python3 -m venv "$venv"
  CMAKE_ARGS="-DGGML_NATIVE=ON" "$venv/bin/pip" install --quiet llama-cpp-python
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
out="$work/model-$type.gguf"
"$bin" export gguf --model "$model" --type "$type" --out "$out"

prompts=(
  $'<|im_start|>user\nWhat is the capital of France?<|im_end|>\n<|im_start|>assistant\n'
  $'<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\nWrite a haiku about the sea.<|im_end|>\n<|im_start|>assistant\n'
  $'The quick brown fox'
)
if [[ -n "${PROMPT:-}" ]]; then prompts=("$PROMPT"); fi
fail=0
for p in "${prompts[@]}"; do
  ours=$("$bin" generate --model "$out" --prompt "$p" --max-new-tokens "$n" --ignore-eos \
           --print-ids --quiet 2>&1 >/dev/null | sed -n 's/^generated ids: *//p' | tr -d '[],')
  theirs=$("$venv/bin/python" - "$out" "$p" "$n" <<'PY'
import sys
from llama_cpp import Llama
path, prompt, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
llm = Llama(model_path=path, n_ctx=512, verbose=False, logits_all=False)
ids = llm.tokenize(prompt.encode(), add_bos=False, special=True)
out = []
llm.eval(ids)
for _ in range(n):
    t = llm.sample(temp=0.0, top_k=1)
    out.append(t)
    llm.eval([t])
print(" ".join(map(str, out)))
PY
)
  if [[ "$ours" == "$theirs" ]]; then
    echo "same greedy tokens: ${p:0:40}..."
  else
    echo "DIFFERENT for ${p:0:40}...:"; echo "  toolsft:   $ours"; echo "  llama.cpp: $theirs"
    fail=1
  fi
done
exit $fail
