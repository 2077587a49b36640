#!/usr/bin/env python3
"""Generate reference ("golden") files with Hugging Face transformers.

The C++ tests compare against these committed files; Python is never run at
test time.  Everything here is deterministic (fixed seeds, CPU, float32,
eager attention), so running the script twice yields identical bytes.

Outputs (relative to the repository root):
  tests/data/tiny/<name>/           tiny random HF models + golden.safetensors
  tests/data/smollm2_golden.safetensors
  tests/data/smollm2_golden_prompts.json

Usage:
  HF_HUB_OFFLINE=1 /root/refenv/bin/python tools/make_model_goldens.py [--tiny-only|--smollm2-only]
"""

import argparse
import importlib.metadata
import json
import os
import shutil
import sys
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")

import numpy as np  # noqa: E402
import torch  # noqa: E402
import transformers  # noqa: E402
import struct  # noqa: E402

from safetensors.torch import save as st_save  # noqa: E402
from transformers import (  # noqa: E402
    AutoModelForCausalLM,
    AutoTokenizer,
    LlamaConfig,
    Qwen2Config,
    Qwen3Config,
)

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data"
TINY = DATA / "tiny"
MODELS = ROOT / "models"
GGUF_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"

SEQ_LEN = 20
GREEDY_PROMPT_LEN = 8
GREEDY_STEPS = 32
INIT_STD = 0.1

torch.set_num_threads(2)
torch.use_deterministic_algorithms(True)


def save_file(tensors, path, metadata):
    """safetensors.torch.save_file with a reproducible header.

    safetensors serialises __metadata__ from a hash map, so its key order (and
    hence the file bytes) changes from run to run.  Re-emit the header with the
    metadata keys sorted; tensor entries and data are left untouched (their
    offsets are relative to the end of the header)."""
    raw = st_save(tensors, metadata=metadata)
    n = struct.unpack("<Q", raw[:8])[0]
    header = json.loads(raw[8:8 + n])
    header["__metadata__"] = dict(sorted(header["__metadata__"].items()))
    hb = json.dumps(header, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    hb += b" " * (-len(hb) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(hb)) + hb + raw[8 + n:])


def versions():
    return {
        "transformers_version": transformers.__version__,
        "torch_version": torch.__version__,
    }


# --------------------------------------------------------------------------
# Tiny models
# --------------------------------------------------------------------------

COMMON = dict(
    vocab_size=256,
    hidden_size=64,
    intermediate_size=128,
    num_hidden_layers=2,
    num_attention_heads=4,
    num_key_value_heads=2,
    head_dim=16,
    max_position_embeddings=256,
    rope_theta=10000.0,
    hidden_act="silu",
    initializer_range=INIT_STD,
    bos_token_id=1,
    eos_token_id=2,
    pad_token_id=None,
)


def tiny_configs():
    """name -> (config, seed).  Seeds were picked (once, by hand) so that the
    32-step greedy continuation is not a single repeated token."""
    cfgs = {}
    cfgs["llama"] = (LlamaConfig(**{**COMMON, "rms_norm_eps": 1e-6, "tie_word_embeddings": True}), 1001)
    cfgs["llama_untied"] = (
        LlamaConfig(**{**COMMON, "rms_norm_eps": 1e-5, "tie_word_embeddings": False,
                       "attention_bias": False, "rope_theta": 500000.0}),
        1002,
    )
    cfgs["llama3_rope"] = (
        LlamaConfig(**{**COMMON, "rms_norm_eps": 1e-5, "tie_word_embeddings": True,
                       "max_position_embeddings": 512,
                       "rope_scaling": {"rope_type": "llama3", "factor": 8.0,
                                        "low_freq_factor": 1.0, "high_freq_factor": 4.0,
                                        "original_max_position_embeddings": 64}}),
        1043,
    )
    cfgs["qwen2"] = (
        Qwen2Config(**{**COMMON, "rms_norm_eps": 1e-6, "tie_word_embeddings": False,
                       "use_sliding_window": False}),
        1004,
    )
    cfgs["qwen3"] = (
        Qwen3Config(**{**COMMON, "rms_norm_eps": 1e-6, "tie_word_embeddings": True,
                       "attention_bias": False, "use_sliding_window": False}),
        1025,
    )
    return cfgs


def init_weights(model, seed):
    """Explicit, order-deterministic init (independent of HF's _init_weights)."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():  # tied params appear once
            noise = torch.randn(p.shape, generator=g, dtype=torch.float32)
            if name.endswith("norm.weight"):  # every RMSNorm incl. q_norm/k_norm
                p.copy_(1.0 + 0.1 * noise)
            elif name.endswith(".bias"):
                p.copy_(0.1 * noise)
            else:
                p.copy_(INIT_STD * noise)


def fixed_input_ids(seed, vocab=256, n=SEQ_LEN):
    g = torch.Generator().manual_seed(seed)
    return torch.randint(0, vocab, (n,), generator=g, dtype=torch.int64)


@torch.no_grad()
def greedy(model, prompt_ids, steps=GREEDY_STEPS):
    """Manual argmax loop, full recompute each step, no EOS stopping."""
    ids = prompt_ids.clone().unsqueeze(0)
    out = []
    margin = float("inf")  # smallest top1 - top2 logit gap over all steps
    for _ in range(steps):
        logits = model(input_ids=ids, use_cache=False).logits[0, -1]
        top2 = torch.topk(logits, 2).values
        margin = min(margin, float(top2[0] - top2[1]))
        nxt = int(torch.argmax(logits).item())
        out.append(nxt)
        ids = torch.cat([ids, torch.tensor([[nxt]], dtype=torch.int64)], dim=1)
    greedy.last_margin = margin
    return torch.tensor(out, dtype=torch.int64)


@torch.no_grad()
def greedy_cached(model, prompt_ids, steps=GREEDY_STEPS):
    """Same as greedy() but with the KV cache (prompt prefill, then one token
    per step); used for the 135M model where full recompute is slow on CPU."""
    out = []
    margin = float("inf")
    res = model(input_ids=prompt_ids.unsqueeze(0), use_cache=True)
    for step in range(steps):
        logits = res.logits[0, -1]
        top2 = torch.topk(logits, 2).values
        margin = min(margin, float(top2[0] - top2[1]))
        nxt = int(torch.argmax(logits).item())
        out.append(nxt)
        if step + 1 < steps:
            res = model(input_ids=torch.tensor([[nxt]], dtype=torch.int64),
                        past_key_values=res.past_key_values, use_cache=True)
    greedy_cached.last_margin = margin
    return torch.tensor(out, dtype=torch.int64)


def load_eager_f32(path):
    m = AutoModelForCausalLM.from_pretrained(
        str(path), dtype=torch.float32, attn_implementation="eager")
    m.eval()
    return m


def check_llama3_rope(cfg):
    """Make sure the llama3 frequency adjustment changes inv_freq at head_dim 16."""
    from transformers.modeling_rope_utils import ROPE_INIT_FUNCTIONS
    theta = cfg.rope_parameters["rope_theta"]
    base = 1.0 / (theta ** (torch.arange(0, cfg.head_dim, 2, dtype=torch.int64).float() / cfg.head_dim))
    inv, _ = ROPE_INIT_FUNCTIONS["llama3"](cfg, "cpu")
    changed = int((~torch.isclose(inv, base, rtol=1e-6, atol=0)).sum())
    print(f"  llama3 rope: default inv_freq {[f'{x:.6g}' for x in base.tolist()]}")
    print(f"  llama3 rope: llama3  inv_freq {[f'{x:.6g}' for x in inv.tolist()]}  ({changed}/{inv.numel()} changed)")
    assert changed > 0, "llama3 scaling has no effect"
    return changed


# Models whose config.json is rewritten into the legacy (transformers 4.x / Hub)
# layout: top-level "rope_theta" (+ "rope_scaling" when not default) and
# "torch_dtype" instead of transformers-5 "rope_parameters" / "dtype".  The
# remaining ones keep the native transformers-5 layout, so the C++ config
# parser is exercised on both.  Goldens are always computed by reloading the
# directory from disk, so either way they reflect what transformers reads.
LEGACY_CONFIG = {"llama", "llama_sharded", "llama_bf16", "llama3_rope", "qwen2", "qwen3"}


def legacy_config_json(model_dir):
    path = model_dir / "config.json"
    cfg = json.loads(path.read_text())
    rp = dict(cfg.pop("rope_parameters"))
    cfg["rope_theta"] = rp.pop("rope_theta")
    if rp.get("rope_type", "default") != "default":
        cfg["rope_scaling"] = rp
    else:
        cfg["rope_scaling"] = None
    if "dtype" in cfg:
        cfg["torch_dtype"] = cfg.pop("dtype")
    path.write_text(json.dumps(cfg, indent=2, sort_keys=True) + "\n")


def save_model(model, model_dir, name, **kw):
    model.save_pretrained(str(model_dir), safe_serialization=True, **kw)
    before = model.config.rope_parameters
    if name in LEGACY_CONFIG:
        legacy_config_json(model_dir)
    ref = load_eager_f32(model_dir)
    assert ref.config.rope_parameters == before, (ref.config.rope_parameters, before)
    return ref


@torch.no_grad()
def write_golden(model_dir, model, input_ids, extra_meta):
    logits = model(input_ids=input_ids.unsqueeze(0), use_cache=False).logits[0].float().contiguous()
    prompt = input_ids[:GREEDY_PROMPT_LEN].clone()
    toks = greedy(model, prompt)
    meta = {**versions(), **extra_meta,
            "attn_implementation": "eager", "compute_dtype": "float32",
            "greedy_method": "argmax of last-position logits, full recompute each step, no EOS stop",
            "greedy_steps": str(GREEDY_STEPS),
            "greedy_min_top2_margin": f"{greedy.last_margin:.6g}",
            "max_abs_logit": f"{logits.abs().max().item():.6g}"}
    tensors = {
        "input_ids": input_ids.contiguous(),
        "logits": logits,
        "greedy_prompt": prompt.contiguous(),
        "greedy_tokens": toks.contiguous(),
    }
    save_file(tensors, str(model_dir / "golden.safetensors"), metadata=meta)
    return logits, toks


def make_tiny():
    if TINY.exists():
        shutil.rmtree(TINY)
    TINY.mkdir(parents=True)
    summary = {}
    for name, (cfg, seed) in tiny_configs().items():
        print(f"[tiny] {name}")
        torch.manual_seed(seed)
        cfg._attn_implementation = "eager"
        model = AutoModelForCausalLM.from_config(cfg, dtype=torch.float32, attn_implementation="eager")
        init_weights(model, seed)
        model.eval()
        if name == "llama3_rope":
            check_llama3_rope(cfg)
        d = TINY / name
        ref = save_model(model, d, name)
        ids = fixed_input_ids(seed + 7)
        logits, toks = write_golden(d, ref, ids, {"model": name, "weights_dtype": "float32"})
        summary[name] = (logits, toks)
        print(f"  max|logit| = {logits.abs().max().item():.4f}  greedy margin = {greedy.last_margin:.4g}  "
              f"greedy = {toks.tolist()}")

        if name == "llama":
            # Sharded copy of the same weights.
            ds = TINY / "llama_sharded"
            refs = save_model(model, ds, "llama_sharded", max_shard_size="150KB")
            shards = sorted(p.name for p in ds.glob("model-*.safetensors"))
            assert (ds / "model.safetensors.index.json").exists() and len(shards) >= 2, shards
            print(f"[tiny] llama_sharded: {shards}")
            l2, t2 = write_golden(ds, refs, ids, {"model": "llama_sharded", "weights_dtype": "float32",
                                                  "note": "same weights as tiny/llama, saved in shards"})
            assert torch.equal(l2, logits) and torch.equal(t2, toks)

            # bfloat16 copy; golden from bf16 weights upcast to float32.
            db = TINY / "llama_bf16"
            mb = AutoModelForCausalLM.from_config(cfg, dtype=torch.float32, attn_implementation="eager")
            mb.load_state_dict(model.state_dict())
            mb = mb.to(torch.bfloat16)
            mb.config.dtype = torch.bfloat16
            refb = save_model(mb, db, "llama_bf16")
            assert refb.model.embed_tokens.weight.dtype == torch.float32
            lb, tb = write_golden(db, refb, ids, {
                "model": "llama_bf16", "weights_dtype": "bfloat16",
                "note": "golden computed from the bf16 weights upcast to float32 "
                        "(from_pretrained(dtype=float32) of the bf16 file); all compute in float32"})
            print(f"[tiny] llama_bf16: max|logit| = {lb.abs().max().item():.4f}  "
                  f"max|diff vs f32| = {(lb - logits).abs().max().item():.4f}  greedy = {tb.tolist()}")
    return summary


# --------------------------------------------------------------------------
# SmolLM2 (GGUF) goldens
# --------------------------------------------------------------------------

PROMPTS = [
    "The quick brown fox jumps over the lazy dog. The capital of Germany is",
    "<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n"
    "<|im_start|>user\nWhat is the capital of France?<|im_end|>\n<|im_start|>assistant\n",
    "def fibonacci(n):\n    if n < 2:\n        return n\n    return",
    "<|im_start|>system\nYou can call tools. Available: get_weather(city: str). "
    "Reply with <tool_call>{\"name\": ..., \"arguments\": {...}}</tool_call>.<|im_end|>\n"
    "<|im_start|>user\nWhat's the weather in Berlin?<|im_end|>\n<|im_start|>assistant\n",
    "Prices: 3.14159, 2,718 and 1e-6 \u2014 caf\u00e9, na\u00efve, \u65e5\u672c\u8a9e, \U0001F680 \u2713. 12345+67890=",
]


@torch.no_grad()
def make_smollm2():
    print(f"[smollm2] loading {MODELS / GGUF_FILE}")
    tok = AutoTokenizer.from_pretrained(str(MODELS), gguf_file=GGUF_FILE)
    model = AutoModelForCausalLM.from_pretrained(
        str(MODELS), gguf_file=GGUF_FILE, dtype=torch.float32, attn_implementation="eager")
    model.eval()
    param_dtypes = sorted({str(p.dtype) for p in model.parameters()})
    print(f"  param dtypes: {param_dtypes}, tie_word_embeddings={model.config.tie_word_embeddings}")
    vocab = model.config.vocab_size

    g = torch.Generator().manual_seed(4242)
    rest = torch.arange(256, vocab, dtype=torch.int64)
    pick = rest[torch.randperm(rest.numel(), generator=g)[:256]].sort().values
    vocab_slice = torch.cat([torch.arange(0, 256, dtype=torch.int64), pick])

    # Does the tokenizer add BOS?  Compare with/without special tokens.
    probe = "Hello"
    with_sp = tok(probe, add_special_tokens=True)["input_ids"]
    without_sp = tok(probe, add_special_tokens=False)["input_ids"]
    adds_bos = len(with_sp) > len(without_sp) and with_sp[0] == tok.bos_token_id
    print(f"  tokenizer: {type(tok).__name__} bos={tok.bos_token!r}({tok.bos_token_id}) "
          f"eos={tok.eos_token!r}({tok.eos_token_id}) adds_special_tokens_changes_ids={with_sp != without_sp} "
          f"adds_bos={adds_bos}")

    # Cross-check against SmolLM2's original tokenizer pipeline (Digits +
    # ByteLevel, tests/data/smollm2/tokenizer.json, see docs/TOKENIZER.md).
    # transformers' GGUF tokenizer drops the Digits step, which changes ids for
    # whitespace runs before numerals; the prompts avoid such spans, and here
    # we make sure both tokenizers agree on every prompt.
    orig_path = DATA / "smollm2" / "tokenizer.json"
    orig = None
    if orig_path.exists():
        from tokenizers import Tokenizer
        orig = Tokenizer.from_file(str(orig_path))

    tensors = {"vocab_slice": vocab_slice.contiguous()}
    prompt_records = []
    max_abs = []
    margins = []
    for i, text in enumerate(PROMPTS):
        ids = tok(text, add_special_tokens=True, return_tensors="pt")["input_ids"][0].to(torch.int64)
        if orig is not None:
            oids = orig.encode(text, add_special_tokens=False).ids
            assert oids == ids.tolist(), f"prompt {i}: GGUF tokenizer {ids.tolist()} != original {oids}"
        logits = model(input_ids=ids.unsqueeze(0), use_cache=False).logits[0].float()
        toks = greedy_cached(model, ids)
        margins.append(greedy_cached.last_margin)
        tensors[f"p{i}_ids"] = ids.contiguous()
        tensors[f"p{i}_last_logits"] = logits[-1].contiguous()
        tensors[f"p{i}_logits_slice"] = logits[:, vocab_slice].contiguous()
        tensors[f"p{i}_greedy"] = toks.contiguous()
        m = logits.abs().max().item()
        max_abs.append(m)
        prompt_records.append({
            "index": i, "text": text, "ids": ids.tolist(),
            "tokens": tok.convert_ids_to_tokens(ids.tolist()),
            "greedy": toks.tolist(),
            "greedy_text": tok.decode(toks.tolist()),
        })
        print(f"  p{i}: T={ids.numel()} max|logit|={m:.3f} greedy margin={margins[-1]:.4g} argmax_last={int(logits[-1].argmax())} "
              f"greedy={tok.decode(toks.tolist())!r}")

    meta = {
        **versions(),
        "gguf_version": importlib.metadata.version("gguf"),
        "tokenizers_version": importlib.metadata.version("tokenizers"),
        "model_file": GGUF_FILE,
        "load": f'AutoModelForCausalLM.from_pretrained("models", gguf_file="{GGUF_FILE}", '
                'dtype=torch.float32, attn_implementation="eager")',
        "dequantized_param_dtypes": json.dumps(param_dtypes),
        "tokenizer_class": type(tok).__name__,
        "tokenizer_adds_bos": json.dumps(adds_bos),
        "bos_token_id": json.dumps(tok.bos_token_id),
        "eos_token_id": json.dumps(tok.eos_token_id),
        "ids_from": "tok(text, add_special_tokens=True)",
        "ids_match_original_pipeline": json.dumps(orig is not None),
        "vocab_slice": "ids 0..255 followed by 256 sorted distinct ids from torch.randperm seed 4242 over 256..vocab-1",
        "greedy_method": "argmax of last-position logits, KV cache (DynamicCache), no EOS stop",
        "greedy_steps": str(GREEDY_STEPS),
        "max_abs_logit": json.dumps([round(x, 4) for x in max_abs]),
        "greedy_min_top2_margin": json.dumps([round(x, 6) for x in margins]),
        "prompts": json.dumps(PROMPTS, ensure_ascii=False),
    }
    out = DATA / "smollm2_golden.safetensors"
    save_file(tensors, str(out), metadata=meta)
    print(f"  wrote {out} ({out.stat().st_size} bytes); max|logit| overall = {max(max_abs):.3f}")

    pj = {
        "model_file": GGUF_FILE,
        **versions(),
        "tokenizer_adds_bos": adds_bos,
        "bos_token_id": tok.bos_token_id,
        "eos_token_id": tok.eos_token_id,
        "ids_from": "tok(text, add_special_tokens=True)",
        "ids_match_original_pipeline": orig is not None,
        "prompts": prompt_records,
    }
    with open(DATA / "smollm2_golden_prompts.json", "w", encoding="utf-8") as f:
        json.dump(pj, f, ensure_ascii=False, indent=1)
        f.write("\n")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tiny-only", action="store_true")
    ap.add_argument("--smollm2-only", action="store_true")
    a = ap.parse_args()
    print(versions())
    if not a.smollm2_only:
        make_tiny()
    if not a.tiny_only:
        if not (MODELS / GGUF_FILE).exists():
            print(f"missing {MODELS / GGUF_FILE}", file=sys.stderr)
            sys.exit(1)
        make_smollm2()


if __name__ == "__main__":
    main()
