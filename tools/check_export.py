#!/usr/bin/env python3
"""Check models/adapters exported by toolsft against transformers + PEFT.

Two modes (used manually; results are recorded in the docs):

1) LoRA adapter written by toolsft on top of an HF base model:
     check_export.py adapter --base tests/data/tiny/llama --adapter out/adapter \
                             --logits out/logits.safetensors [--ids 1,2,3]
   Loads the base with AutoModelForCausalLM, the adapter with
   PeftModel.from_pretrained, runs the ids and compares with the "logits"
   tensor in the file.  Also reports merge_and_unload() vs the file.

2) Merged / fully fine-tuned HF model directory written by toolsft:
     check_export.py model --model out/merged --logits out/logits.safetensors \
                           [--ids 1,2,3 | --text "Hello"]
   Loads it with AutoModelForCausalLM and AutoTokenizer (the tokenizer must
   load), runs the ids and compares with the file's "logits".

ids: --ids "1,2,3" (comma/space separated), else --text (tokenized with the
model's tokenizer, mode 2 only), else the "input_ids" tensor in the logits
file.  The logits file holds "logits" with shape (T, V) or (1, T, V).
With --text and an "input_ids" tensor in the file, the tokenizer's ids are
also checked against the file.

Exit status: 0 if max |diff| <= --tol (default 1e-4), 1 otherwise, 2 on usage
errors.
"""

import argparse
import os
import sys

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")

import torch  # noqa: E402
from safetensors.torch import load_file  # noqa: E402
from transformers import AutoModelForCausalLM, AutoTokenizer  # noqa: E402


def parse_ids(s):
    return [int(x) for x in s.replace(",", " ").split()]


def load_model(path):
    m = AutoModelForCausalLM.from_pretrained(path, dtype=torch.float32, attn_implementation="eager")
    m.eval()
    return m


@torch.no_grad()
def run(model, ids):
    return model(input_ids=torch.tensor([ids], dtype=torch.int64), use_cache=False).logits[0].float()


def compare(name, got, ref):
    ref = ref.float().reshape(got.shape) if ref.numel() == got.numel() else None
    if ref is None:
        print(f"{name}: shape mismatch", file=sys.stderr)
        return float("inf")
    d = (got - ref).abs().max().item()
    print(f"{name}: max |diff| = {d:.3g}  (max |logit| = {ref.abs().max().item():.4g}, "
          f"argmax agree = {bool(torch.equal(got.argmax(-1), ref.argmax(-1)))})")
    return d


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="mode", required=True)
    a = sub.add_parser("adapter")
    a.add_argument("--base", required=True)
    a.add_argument("--adapter", required=True)
    m = sub.add_parser("model")
    m.add_argument("--model", required=True)
    m.add_argument("--text")
    m.add_argument("--no-tokenizer", action="store_true", help="skip AutoTokenizer (model dirs without one)")
    for p in (a, m):
        p.add_argument("--logits", required=True, help="safetensors with 'logits' (and optionally 'input_ids')")
        p.add_argument("--ids")
        p.add_argument("--tol", type=float, default=1e-4)
        p.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)

    ref = load_file(args.logits)
    if "logits" not in ref:
        print(f"{args.logits}: no 'logits' tensor (has {sorted(ref)})", file=sys.stderr)
        return 2
    file_ids = ref["input_ids"].reshape(-1).tolist() if "input_ids" in ref else None

    worst = 0.0
    if args.mode == "adapter":
        from peft import PeftModel
        ids = parse_ids(args.ids) if args.ids else file_ids
        if not ids:
            print("no ids: give --ids or put input_ids in the logits file", file=sys.stderr)
            return 2
        pm = PeftModel.from_pretrained(load_model(args.base), args.adapter)
        pm.eval()
        cfg = pm.peft_config["default"]
        print(f"adapter: r={cfg.r} alpha={cfg.lora_alpha} targets={sorted(cfg.target_modules)} T={len(ids)}")
        worst = max(worst, compare("peft", run(pm, ids), ref["logits"]))
        worst = max(worst, compare("merge_and_unload", run(pm.merge_and_unload(), ids), ref["logits"]))
    else:
        tok = None if args.no_tokenizer else AutoTokenizer.from_pretrained(args.model)
        if tok is not None:
            print(f"tokenizer: {type(tok).__name__} vocab={len(tok)} bos={tok.bos_token!r} eos={tok.eos_token!r}")
        if args.ids:
            ids = parse_ids(args.ids)
        elif args.text is not None and tok is not None:
            ids = tok(args.text, add_special_tokens=True)["input_ids"]
            if file_ids is not None and ids != file_ids:
                print(f"tokenizer ids {ids} != file input_ids {file_ids}", file=sys.stderr)
                return 1
        else:
            ids = file_ids
        if not ids:
            print("no ids: give --ids/--text or put input_ids in the logits file", file=sys.stderr)
            return 2
        model = load_model(args.model)
        print(f"model: {type(model).__name__} T={len(ids)}")
        worst = compare("model", run(model, ids), ref["logits"])

    ok = worst <= args.tol
    print(f"{'OK' if ok else 'FAIL'}: max |diff| {worst:.3g} {'<=' if ok else '>'} tol {args.tol:g}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
