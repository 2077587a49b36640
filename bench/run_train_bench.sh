#!/usr/bin/env bash
# Runs the training benchmark for toolsft and PyTorch in one go on this machine, one after the
# other (never concurrently), and prints both tables plus a side-by-side summary.
#
#   bench/run_train_bench.sh [steps] [python]      (python: a venv with torch, transformers, peft)
#
# toolsft links Debian's OpenMP OpenBLAS; PyTorch's PyPI wheel brings its own MKL/oneDNN, so
# OPENBLAS_CORETYPE only concerns toolsft. Both run with 2 threads and OMP_NUM_THREADS=2.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
steps="${1:-5}"
py="${2:-/root/refenv/bin/python}"
out="${TMPDIR:-/tmp}/tsft_train_bench"
mkdir -p "$out"
export OMP_NUM_THREADS=2
echo "== machine: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores; OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-unset}; $(date -u +%F)"
echo
"$root/build/bench/bench_train" --threads 2 --steps "$steps" --json "$out/toolsft.json"
echo
# bfloat16 autocast is several times slower than float32 on CPUs without AVX512_BF16/AMX (PyTorch
# emulates it), so its configurations get fewer timed steps to keep the run under half an hour.
"$py" "$root/bench/bench_train_torch.py" --threads 2 --steps "$steps" --precisions fp32 --json "$out/torch_fp32.json"
"$py" "$root/bench/bench_train_torch.py" --threads 2 --steps 2 --warmup 1 --precisions bf16 --json "$out/torch_bf16.json"
"$py" - "$out/torch_fp32.json" "$out/torch_bf16.json" "$out/torch.json" <<'PY'
import json, sys
a, b = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
a["results"] += b["results"]
json.dump(a, open(sys.argv[3], "w"), indent=1)
PY
echo
"$py" - "$out/toolsft.json" "$out/torch.json" <<'PY'
import json, sys
ours = json.load(open(sys.argv[1]))
theirs = json.load(open(sys.argv[2]))["results"]
print("| mode | batch | toolsft f32 tok/s | PyTorch f32 tok/s | PyTorch bf16 tok/s | speed-up vs faster | toolsft RSS MiB | PyTorch RSS MiB (f32/bf16) |")
print("|---|---|---:|---:|---:|---:|---:|---:|")
for o in ours:
    mode = "full" if o["mode"] == "full" else "lora"
    t = {r["precision"]: r for r in theirs
         if r["mode"] == mode and r["batch"] == o["batch"] and r["seq"] == o["seq"] and "tokens_per_s" in r}
    f32 = t.get("fp32", {}).get("tokens_per_s", float("nan"))
    bf16 = t.get("bf16", {}).get("tokens_per_s", float("nan"))
    best = max(x for x in (f32, bf16) if x == x) if (f32 == f32 or bf16 == bf16) else float("nan")
    print(f"| {o['mode']} | {o['batch']} x {o['seq']} | {o['tokens_per_s']:.0f} | {f32:.1f} | {bf16:.1f} | "
          f"{o['tokens_per_s'] / best:.2f}x | {o['max_rss_mib']:.0f} | "
          f"{t.get('fp32', {}).get('peak_rss_mib', float('nan')):.0f} / {t.get('bf16', {}).get('peak_rss_mib', float('nan')):.0f} |")
PY
