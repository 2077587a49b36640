#!/usr/bin/env python3
"""PEFT adapter goldens: a LoRA adapter directory written by PEFT's
save_pretrained for a tiny random model, plus the logits of the PeftModel and
of merge_and_unload() on a fixed input.  The C++ side loads the adapter and
compares logits, and checks that the adapters it writes use the same key
names and config fields.

Outputs (relative to the repository root):
  tests/data/train/peft_<arch>/adapter_config.json
  tests/data/train/peft_<arch>/adapter_model.safetensors
  tests/data/train/peft_<arch>/logits.safetensors
for arch in llama, qwen2.

Usage:
  cd /work/main && /root/refenv/bin/python tools/make_peft_goldens.py
"""

import json
import os
import shutil
import struct
import sys
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")

import torch  # noqa: E402
import transformers  # noqa: E402
import peft  # noqa: E402
from peft import LoraConfig, PeftModel, get_peft_model  # noqa: E402
from safetensors.torch import load_file, save as st_save  # noqa: E402
from transformers import AutoModelForCausalLM  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "tests" / "data" / "train"
ARCHS = ["llama", "qwen2"]
TARGETS = ["q_proj", "v_proj", "o_proj", "down_proj"]
R, ALPHA = 4, 8
INIT_SEEDS = {"llama": 505, "qwen2": 506}
A_STD, B_STD = 0.1, 0.1
IDS_SEED = 606
T = 16

torch.set_num_threads(2)
torch.use_deterministic_algorithms(True)


def save_file(tensors, path, metadata):
    raw = st_save(tensors, metadata=metadata)
    n = struct.unpack("<Q", raw[:8])[0]
    header = json.loads(raw[8:8 + n])
    header["__metadata__"] = dict(sorted(header["__metadata__"].items()))
    hb = json.dumps(header, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    hb += b" " * (-len(hb) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(hb)) + hb + raw[8 + n:])


def load_base(rel):
    m = AutoModelForCausalLM.from_pretrained(
        str(ROOT / rel), dtype=torch.float32, attn_implementation="eager")
    m.eval()
    return m


@torch.no_grad()
def logits_of(model, ids):
    return model(input_ids=ids, use_cache=False).logits.float().contiguous()


def make(arch):
    rel = f"tests/data/tiny/{arch}"
    out = OUT / f"peft_{arch}"
    if out.exists():
        shutil.rmtree(out)
    print(f"[peft] {arch}")
    base = load_base(rel)
    vocab = base.config.vocab_size
    ids = torch.randint(0, vocab, (1, T), generator=torch.Generator().manual_seed(IDS_SEED), dtype=torch.int64)
    base_logits = logits_of(base, ids)

    cfg = LoraConfig(r=R, lora_alpha=ALPHA, lora_dropout=0.0, target_modules=TARGETS,
                     bias="none", task_type="CAUSAL_LM", base_model_name_or_path=rel)
    pm = get_peft_model(base, cfg)
    pm.peft_config["default"].base_model_name_or_path = rel
    init_seed = INIT_SEEDS[arch]
    g = torch.Generator().manual_seed(init_seed)
    with torch.no_grad():
        for n, p in pm.named_parameters():  # order: per module, lora_A then lora_B
            if "lora_A" in n:
                p.copy_(A_STD * torch.randn(p.shape, generator=g))
            elif "lora_B" in n:
                p.copy_(B_STD * torch.randn(p.shape, generator=g))
    pm.eval()
    pm.save_pretrained(str(out))
    # PEFT stores target_modules from a set (order depends on string-hash
    # randomisation): sort it so the file is reproducible.  Drop the
    # boilerplate model card.
    cpath = out / "adapter_config.json"
    c = json.loads(cpath.read_text())
    c["target_modules"] = sorted(c["target_modules"])
    cpath.write_text(json.dumps(c, indent=2, sort_keys=True) + "\n")
    (out / "README.md").unlink(missing_ok=True)

    # Reload from disk so the golden reflects what PEFT reads back.
    pm2 = PeftModel.from_pretrained(load_base(rel), str(out))
    pm2.eval()
    logits = logits_of(pm2, ids)
    assert torch.allclose(logits, logits_of(pm, ids), atol=0, rtol=0)
    merged = pm2.merge_and_unload()
    merged_logits = logits_of(merged, ids)
    d_merge = (merged_logits - logits).abs().max().item()
    d_base = (base_logits - logits).abs().max().item()
    print(f"  max|peft - merged| = {d_merge:.3g}   max|peft - base| = {d_base:.3g}")
    assert d_merge < 1e-4 and d_base > 1e-2

    keys = sorted(load_file(str(out / "adapter_model.safetensors")).keys())
    meta = {
        "transformers_version": transformers.__version__,
        "torch_version": torch.__version__,
        "peft_version": peft.__version__,
        "base_model": rel,
        "settings": json.dumps({
            "r": R, "lora_alpha": ALPHA, "target_modules": TARGETS, "scaling": ALPHA / R,
            "init": f"every lora_A / lora_B overwritten in named_parameters() order from "
                    f"torch.Generator().manual_seed({init_seed}): A = {A_STD}*randn, B = {B_STD}*randn",
            "input_ids": f"torch.randint(0, vocab, (1, {T}), generator=manual_seed({IDS_SEED}))",
            "logits": "PeftModel.from_pretrained(base, adapter_dir) forward, float32, eager, use_cache=False",
            "merged_logits": "same model after merge_and_unload()",
            "base_logits": "base model without adapter",
        }, sort_keys=True),
        "adapter_keys": json.dumps(keys),
        "max_abs_diff_peft_merged": f"{d_merge:.6g}",
    }
    save_file({"input_ids": ids.to(torch.int32).contiguous(), "logits": logits,
               "merged_logits": merged_logits, "base_logits": base_logits},
              str(out / "logits.safetensors"), metadata=meta)
    print(f"  {len(keys)} adapter tensors, e.g. {keys[0]}")


def main():
    for a in sys.argv[1:] or ARCHS:
        make(a)


if __name__ == "__main__":
    main()
