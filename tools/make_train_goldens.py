#!/usr/bin/env python3
"""Reference ("golden") files for the training engine: loss, gradients, LoRA
gradients and short optimizer trajectories, computed with PyTorch +
transformers + PEFT on the tiny random models in tests/data/tiny/.

Outputs (relative to the repository root):
  tests/data/train/<arch>.safetensors   for arch in ARCHS below
  (see tests/data/train/README.md for the key list)

Everything is deterministic (fixed seeds, CPU, float32, eager attention,
torch.use_deterministic_algorithms), so rerunning gives identical tensors.

Usage:
  /root/refenv/bin/python tools/make_train_goldens.py [arch ...]
Needs: torch, transformers, safetensors, peft (pip install peft).
"""

import importlib.metadata
import json
import os
import struct
import sys
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")

import torch  # noqa: E402
import transformers  # noqa: E402
import peft  # noqa: E402
from peft import LoraConfig, get_peft_model, get_peft_model_state_dict  # noqa: E402
from safetensors.torch import save as st_save  # noqa: E402
from transformers import (  # noqa: E402
    AutoModelForCausalLM,
    get_cosine_schedule_with_warmup,
    get_linear_schedule_with_warmup,
)

ROOT = Path(__file__).resolve().parent.parent
TINY = ROOT / "tests" / "data" / "tiny"
OUT = ROOT / "tests" / "data" / "train"

ARCHS = ["llama", "llama_untied", "llama3_rope", "qwen2", "qwen3"]

DATA_SEED = 2024
SEQ_LENS = [7, 12, 5]
LORA_SEED = 77          # torch.manual_seed before get_peft_model (lora_A kaiming init)
LORA_B_SEED = 78        # generator for the lora_B overwrite
LORA_B_STD = 0.05
TARGETS = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]
STEPS = 10

FULL_OPT = dict(lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.01,
                schedule="cosine", warmup=2, steps=STEPS, max_grad_norm=1.0)
LORA_OPT = dict(lr=1e-2, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0,
                schedule="linear", warmup=2, steps=STEPS, max_grad_norm=1.0)

torch.set_num_threads(2)
torch.use_deterministic_algorithms(True)


def save_file(tensors, path, metadata):
    """safetensors save with the __metadata__ keys sorted (reproducible bytes)."""
    raw = st_save(tensors, metadata=metadata)
    n = struct.unpack("<Q", raw[:8])[0]
    header = json.loads(raw[8:8 + n])
    header["__metadata__"] = dict(sorted(header["__metadata__"].items()))
    hb = json.dumps(header, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    hb += b" " * (-len(hb) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(hb)) + hb + raw[8 + n:])


def load_model(arch):
    m = AutoModelForCausalLM.from_pretrained(
        str(TINY / arch), dtype=torch.float32, attn_implementation="eager")
    m.train()  # no dropout in these configs; train() only for HF semantics
    return m


def make_data(vocab):
    """3 sequences; labels = ids with -100 on the 'prompt' (first ceil(L/3)
    tokens, which always includes position 0).  The last token always has a
    label."""
    g = torch.Generator().manual_seed(DATA_SEED)
    ids, labels = [], []
    for L in SEQ_LENS:
        x = torch.randint(0, vocab, (L,), generator=g, dtype=torch.int64)
        y = x.clone()
        n_prompt = (L + 2) // 3
        y[:n_prompt] = -100
        assert y[-1] != -100
        ids.append(x)
        labels.append(y)
    return ids, labels


def n_label_tokens(labels):
    # positions 1..L-1 (position 0 can never be predicted after the shift)
    return sum(int((y[1:] != -100).sum()) for y in labels)


def batch_loss(model, ids, labels):
    """HF convention: sum of token CE over every label token of every
    sequence / total number of label tokens.  Each sequence is run alone
    (batch 1, no padding)."""
    total = n_label_tokens(labels)
    s = None
    for x, y in zip(ids, labels):
        logits = model(input_ids=x.unsqueeze(0), use_cache=False).logits[0].float()
        ce = torch.nn.functional.cross_entropy(logits[:-1], y[1:], ignore_index=-100, reduction="sum")
        s = ce if s is None else s + ce
    return s / total


def hf_loss(model, ids, labels):
    """Cross-check with transformers' own loss (num_items_in_batch path)."""
    total = n_label_tokens(labels)
    with torch.no_grad():
        return sum(float(model(input_ids=x.unsqueeze(0), labels=y.unsqueeze(0), use_cache=False,
                               num_items_in_batch=torch.tensor(total)).loss)
                   for x, y in zip(ids, labels))


def peft_key(name):
    """named_parameters() name -> key in adapter_model.safetensors."""
    return name.replace(".default", "")


def make_lora(model):
    cfg = LoraConfig(r=4, lora_alpha=8, lora_dropout=0.0, target_modules=TARGETS,
                     bias="none", task_type="CAUSAL_LM")
    torch.manual_seed(LORA_SEED)
    pm = get_peft_model(model, cfg)
    g = torch.Generator().manual_seed(LORA_B_SEED)
    with torch.no_grad():
        for n, p in pm.named_parameters():
            if "lora_B" in n:
                p.copy_(LORA_B_STD * torch.randn(p.shape, generator=g, dtype=torch.float32))
    lora = {peft_key(n): p for n, p in pm.named_parameters() if "lora_" in n}
    saved = set(get_peft_model_state_dict(pm).keys())
    assert saved == set(lora.keys()), (sorted(saved)[:4], sorted(lora)[:4])
    for n, p in pm.named_parameters():
        assert p.requires_grad == ("lora_" in n), n
    return pm, lora


def train(model, params_named, ids, labels, opt_cfg):
    """params_named: list of (name, param) to optimize.  Returns per-step
    losses, lrs and pre-clip total grad norms."""
    decay = [p for n, p in params_named if not ("bias" in n or "norm" in n)]
    no_decay = [p for n, p in params_named if ("bias" in n or "norm" in n)]
    groups = [{"params": decay, "weight_decay": opt_cfg["weight_decay"]},
              {"params": no_decay, "weight_decay": 0.0}]
    groups = [g for g in groups if g["params"]]
    opt = torch.optim.AdamW(groups, lr=opt_cfg["lr"], betas=opt_cfg["betas"], eps=opt_cfg["eps"],
                            weight_decay=opt_cfg["weight_decay"], foreach=False)
    if opt_cfg["schedule"] == "cosine":
        sch = get_cosine_schedule_with_warmup(opt, opt_cfg["warmup"], opt_cfg["steps"])
    else:
        sch = get_linear_schedule_with_warmup(opt, opt_cfg["warmup"], opt_cfg["steps"])
    params = [p for _, p in params_named]
    losses, lrs, norms = [], [], []
    for _ in range(opt_cfg["steps"]):
        opt.zero_grad(set_to_none=True)
        loss = batch_loss(model, ids, labels)
        loss.backward()
        norm = torch.nn.utils.clip_grad_norm_(params, max_norm=opt_cfg["max_grad_norm"])
        lrs.append(opt.param_groups[0]["lr"])
        losses.append(float(loss))
        norms.append(float(norm))
        opt.step()
        sch.step()
    f = lambda v: torch.tensor(v, dtype=torch.float32)  # noqa: E731
    return f(losses), f(lrs), f(norms)


def make_arch(arch):
    print(f"[train] {arch}")
    model = load_model(arch)
    vocab = model.config.vocab_size
    ids, labels = make_data(vocab)
    total = n_label_tokens(labels)
    t = {
        "ids": torch.cat(ids).to(torch.int32),
        "seq_lens": torch.tensor(SEQ_LENS, dtype=torch.int32),
        "labels": torch.cat(labels).to(torch.int32),
    }

    # ---- full fine-tuning: loss + gradient of every parameter
    model.zero_grad(set_to_none=True)
    loss = batch_loss(model, ids, labels)
    loss.backward()
    ref = hf_loss(model, ids, labels)
    assert abs(ref - loss.item()) < 1e-5, (ref, loss.item())
    t["loss"] = loss.detach().reshape(1).float()
    names = []
    for n, p in model.named_parameters():  # tied embeddings appear once
        assert p.grad is not None, n
        t["grad." + n] = p.grad.detach().float().contiguous()
        names.append(n)
    print(f"  loss {loss.item():.6f} (hf {ref:.6f}), {len(names)} params, {total} label tokens")

    # ---- full fine-tuning: 10 AdamW steps from the original weights
    model = load_model(arch)
    losses, lrs, norms = train(model, list(model.named_parameters()), ids, labels, FULL_OPT)
    assert abs(float(losses[0]) - float(loss)) < 1e-6
    t["full_step_losses"], t["full_step_lrs"], t["full_step_grad_norms"] = losses, lrs, norms
    print(f"  full losses {[round(x, 4) for x in losses.tolist()]}")

    # ---- LoRA: initial values, loss, gradients
    pm, lora = make_lora(load_model(arch))
    for k, p in lora.items():
        t["lora." + k] = p.detach().clone().contiguous()
    pm.zero_grad(set_to_none=True)
    lloss = batch_loss(pm, ids, labels)
    lloss.backward()
    t["lora_loss"] = lloss.detach().reshape(1).float()
    for k, p in lora.items():
        assert p.grad is not None and p.grad.abs().max() > 0, k
        t["lora_grad." + k] = p.grad.detach().float().contiguous()
    print(f"  lora loss {float(lloss):.6f}, {len(lora)} lora tensors")

    # ---- LoRA: 10 AdamW steps from the same init
    pm, lora2 = make_lora(load_model(arch))
    for k in lora:
        assert torch.equal(lora[k].detach(), lora2[k].detach()), k
    trainable = [(n, p) for n, p in pm.named_parameters() if p.requires_grad]
    losses, lrs, norms = train(pm, trainable, ids, labels, LORA_OPT)
    assert abs(float(losses[0]) - float(lloss)) < 1e-6
    t["lora_step_losses"], t["lora_step_lrs"], t["lora_step_grad_norms"] = losses, lrs, norms
    for k, p in lora2.items():
        t["lora_final." + k] = p.detach().clone().contiguous()
    print(f"  lora losses {[round(x, 4) for x in losses.tolist()]}")

    settings = {
        "model_dir": f"tests/data/tiny/{arch}",
        "load": 'AutoModelForCausalLM.from_pretrained(dir, dtype=torch.float32, attn_implementation="eager"); model.train()',
        "data": {"seed": DATA_SEED, "seq_lens": SEQ_LENS,
                 "ids": "torch.randint(0, vocab, (L,), generator=torch.Generator().manual_seed(seed)) per sequence, in order",
                 "labels": "ids with -100 on the first ceil(L/3) positions",
                 "label_tokens": total},
        "loss": "sum over sequences of cross_entropy(logits[:-1], labels[1:], ignore_index=-100, reduction='sum') "
                "/ total label tokens at positions >= 1; each sequence run alone (batch 1, no padding)",
        "lora": {"r": 4, "lora_alpha": 8, "lora_dropout": 0.0, "bias": "none", "target_modules": TARGETS,
                 "scaling": 2.0, "init": f"torch.manual_seed({LORA_SEED}) then get_peft_model (PEFT default lora_A "
                 f"init); every lora_B overwritten, in named_parameters() order, with "
                 f"{LORA_B_STD} * torch.randn(shape, generator=torch.Generator().manual_seed({LORA_B_SEED}))"},
        "full_train": {**FULL_OPT, "param_groups": "weight_decay 0 for names containing 'bias' or 'norm'",
                       "optimizer": "torch.optim.AdamW(foreach=False)",
                       "scheduler": "transformers.get_cosine_schedule_with_warmup(opt, 2, 10)",
                       "order": "zero_grad; loss; backward; clip_grad_norm_(1.0); record lr; opt.step(); sched.step()",
                       "grad_norm": "total L2 norm before clipping (clip_grad_norm_ return value)"},
        "lora_train": {**LORA_OPT, "optimizer": "torch.optim.AdamW(foreach=False) over lora params only",
                       "scheduler": "transformers.get_linear_schedule_with_warmup(opt, 2, 10)",
                       "order": "same as full_train"},
    }
    meta = {
        "transformers_version": transformers.__version__,
        "torch_version": torch.__version__,
        "peft_version": peft.__version__,
        "safetensors_version": importlib.metadata.version("safetensors"),
        "arch": arch,
        "settings": json.dumps(settings, sort_keys=True),
        "param_names": json.dumps(names),
        "lora_keys": json.dumps(list(lora.keys())),
    }
    OUT.mkdir(parents=True, exist_ok=True)
    t = {k: v.contiguous() for k, v in t.items()}
    save_file(t, str(OUT / f"{arch}.safetensors"), metadata=meta)


def main():
    archs = sys.argv[1:] or ARCHS
    for a in archs:
        make_arch(a)


if __name__ == "__main__":
    main()
