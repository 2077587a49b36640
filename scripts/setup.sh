#!/usr/bin/env bash
# Installs everything toolsft needs on Debian 12 (as root or with sudo), builds it, fetches the
# default model, and runs the main job: generation with SmolLM2-135M-Instruct.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"

sudo_cmd=""
if [[ "$(id -u)" != 0 ]]; then sudo_cmd="sudo"; fi
packages=(build-essential cmake git python3 python3-pip python3-venv libopenblas-openmp-dev nlohmann-json3-dev
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

# Test-only Python packages, in .venv (never used at run time): the official openai client the
# server's tests talk to it with, and gguf (llama.cpp's reader) that checks exported GGUF files.
python_test_packages=("openai==3.54.0" "gguf==0.19.0")
if ! .venv/bin/python -c "import openai, gguf" >/dev/null 2>&1; then
  [ -x .venv/bin/python ] || python3 -m venv .venv
  .venv/bin/pip install --quiet "${python_test_packages[@]}"
fi

scripts/fetch_model.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release
cmake --build build -j"$(nproc)"

if [[ "${TSFT_SETUP_NO_RUN:-0}" != 1 ]]; then
  echo
  echo "== main job: the quick tool-selection recipe on SmolLM2-135M-Instruct (under 10 minutes) =="
  # Generates 1,000 requests for six tools, fine-tunes on 800, and reports base vs fine-tuned on
  # the 200 held out and on 331 hand-written requests; ends by printing the report's path and the
  # before/after accuracy. Run again, it reuses the finished run (delete runs/ to retrain).
  build/toolsft train --config configs/tool_selection_quick.yaml
fi
