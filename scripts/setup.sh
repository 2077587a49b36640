#!/usr/bin/env bash
# Installs everything toolsft needs on Debian 12 (as root or with sudo), builds it, fetches the
# default model, and runs the main job: generation with SmolLM2-135M-Instruct.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"

sudo_cmd=""
if [[ "$(id -u)" != 0 ]]; then sudo_cmd="sudo"; fi
packages=(build-essential cmake git python3 python3-pip libopenblas-openmp-dev nlohmann-json3-dev
          libgtest-dev libyaml-cpp-dev chromium)
missing=()
for p in "${packages[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "installing: ${missing[*]}"
  $sudo_cmd apt-get update -q
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -q "${missing[@]}"
fi

scripts/fetch_model.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release
cmake --build build -j"$(nproc)"

if [[ "${TSFT_SETUP_NO_RUN:-0}" != 1 ]]; then
  echo
  echo "== main job: SmolLM2-135M-Instruct answers a question =="
  build/toolsft inspect models/SmolLM2-135M-Instruct.Q4_1.gguf
  echo
  build/toolsft generate --model models/SmolLM2-135M-Instruct.Q4_1.gguf --max-new-tokens 48 \
    --prompt $'<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n<|im_start|>user\nWhat is the capital of France?<|im_end|>\n<|im_start|>assistant\n'
fi
