#!/usr/bin/env python3
"""Checks `toolsft export gguf` output with gguf-py (llama.cpp's own Python reader, gguf on PyPI).

SmolLM2 exported as q8_0 must carry the source file's architecture, hyperparameters, tokens,
token types, merges, bos/eos/pad ids and chat template unchanged, and the same tensor names and
shapes as the llama.cpp-converted source, with 1-D tensors F32 and matrices Q8_0. A tiny qwen2
model exported as f16 must use llama.cpp's qwen2 names (biases included) and types.
Run by ctest (gguf_export_gguf_py); exits non-zero with a message on the first mismatch.
"""
import argparse
import os
import subprocess
import sys
import tempfile

from gguf import GGUFReader


def fields(reader):
    out = {}
    for key, field in reader.fields.items():
        if key.startswith("GGUF."):
            continue
        out[key] = field.contents()
    return out


def export(binary, model, typ, out):
    cmd = [binary, "export", "gguf", "--model", model, "--type", typ, "--out", out]
    res = subprocess.run(cmd, capture_output=True, text=True)
    if res.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed ({res.returncode}):\n{res.stdout}{res.stderr}")


def check(cond, msg):
    if not cond:
        sys.exit("FAIL: " + msg)


def check_smollm2(binary, model, tmp):
    out = os.path.join(tmp, "smol_q8_0.gguf")
    export(binary, model, "q8_0", out)
    src, got = GGUFReader(model), GGUFReader(out)
    fs, fg = fields(src), fields(got)
    check(fg["general.architecture"] == "llama", f"architecture {fg['general.architecture']}")
    check(fg["general.file_type"] == 7, f"file_type {fg['general.file_type']} (want 7 = MOSTLY_Q8_0)")
    # Every hyperparameter and tokenizer key llama.cpp reads, as the source has it.
    for key in [k for k in fs if k.startswith("llama.")] + [
        "tokenizer.ggml.model", "tokenizer.ggml.pre", "tokenizer.ggml.bos_token_id",
        "tokenizer.ggml.eos_token_id", "tokenizer.ggml.padding_token_id",
        "tokenizer.ggml.add_bos_token", "tokenizer.chat_template",
    ]:
        check(key in fg, f"key {key} missing")
        a, b = fs[key], fg[key]
        if isinstance(a, float):
            check(abs(a - b) <= 1e-6 * max(1.0, abs(a)), f"{key}: {b} != {a}")
        else:
            check(a == b, f"{key}: {str(b)[:80]!r} != {str(a)[:80]!r}")
    check(len(fg["tokenizer.ggml.tokens"]) == 49152, "token count")
    check(fg["tokenizer.ggml.tokens"] == fs["tokenizer.ggml.tokens"], "tokens differ")
    check(fg["tokenizer.ggml.token_type"] == fs["tokenizer.ggml.token_type"], "token types differ")
    check(fg["tokenizer.ggml.merges"] == fs["tokenizer.ggml.merges"], "merges differ")
    check(fg["tokenizer.ggml.eos_token_id"] == 2, "eos id")
    st = {t.name: t for t in src.tensors}
    gt = {t.name: t for t in got.tensors}
    check(set(st) == set(gt), f"tensor names differ: {sorted(set(st) ^ set(gt))[:10]}")
    for name, t in gt.items():
        check(list(t.shape) == list(st[name].shape), f"{name}: shape {t.shape} != {st[name].shape}")
        want = "F32" if len(t.shape) == 1 else "Q8_0"
        check(t.tensor_type.name == want, f"{name}: type {t.tensor_type.name}, want {want}")
    print(f"smollm2 q8_0: {len(gt)} tensors, {len(fg)} keys match the source")


def check_qwen2(binary, data, tmp):
    out = os.path.join(tmp, "qwen2_f16.gguf")
    export(binary, os.path.join(data, "tiny", "qwen2"), "f16", out)
    got = GGUFReader(out)
    f = fields(got)
    check(f["general.architecture"] == "qwen2", "qwen2 architecture")
    for key, want in [("qwen2.embedding_length", 64), ("qwen2.block_count", 2),
                      ("qwen2.attention.head_count", 4), ("qwen2.attention.head_count_kv", 2),
                      ("qwen2.feed_forward_length", 128), ("qwen2.vocab_size", 256),
                      ("qwen2.context_length", 256), ("qwen2.rope.dimension_count", 16),
                      ("tokenizer.ggml.bos_token_id", 1), ("tokenizer.ggml.eos_token_id", 2),
                      ("general.file_type", 1)]:
        check(f.get(key) == want, f"{key} = {f.get(key)}, want {want}")
    types = {t.name: (t.tensor_type.name, list(t.shape)) for t in got.tensors}
    check(types["blk.0.attn_q.bias"] == ("F32", [64]), f"attn_q.bias {types['blk.0.attn_q.bias']}")
    check(types["blk.1.attn_k.weight"] == ("F16", [64, 32]), f"attn_k {types['blk.1.attn_k.weight']}")
    check(types["blk.0.ffn_down.weight"] == ("F16", [128, 64]), "ffn_down")
    check(types["output_norm.weight"] == ("F32", [64]), "output_norm")
    # tiny qwen2 has untied embeddings (tie_word_embeddings false): output.weight is written.
    check(types.get("output.weight") == ("F16", [64, 256]), f"output {types.get('output.weight')}")
    print(f"qwen2 f16: {len(types)} tensors as llama.cpp names them")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--binary", required=True)
    p.add_argument("--model", required=True, help="SmolLM2 GGUF converted by llama.cpp")
    p.add_argument("--data", required=True, help="tests/data")
    a = p.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        check_qwen2(a.binary, a.data, tmp)
        check_smollm2(a.binary, a.model, tmp)
    print("OK")


if __name__ == "__main__":
    main()
