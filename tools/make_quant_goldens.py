#!/usr/bin/env python3
"""Writes tests/data/quant/goldens.bin: raw GGML blocks and gguf-py's float32 dequantization.

gguf-py's numpy code is what transformers runs to load a GGUF file, so the C++ dequantizer must
match it bit for bit. Run: python3 tools/make_quant_goldens.py  (needs only `gguf` and `numpy`). When the default
model file is present it also writes model_rows.bin: rows of the real model, read by gguf-py.

File layout (little-endian): b"TSQG", u32 version=1, u32 n_records, then per record:
  u32 ggml_type_id, u32 n_elems, u32 n_bytes, n_bytes raw bytes, n_elems float32 values.
"""
import os
import struct
import sys

import numpy as np
from gguf import GGMLQuantizationType as T
from gguf import quants

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "data", "quant", "goldens.bin")
rng = np.random.default_rng(1234)


def f16_bytes(values):
    return np.asarray(values, dtype=np.float32).astype(np.float16).view(np.uint8).reshape(-1, 2)


def random_k_blocks(n_blocks, type_size, scale_offsets):
    """Random bytes with f16 scale fields overwritten by sane (finite, modest) values."""
    raw = rng.integers(0, 256, size=(n_blocks, type_size), dtype=np.uint8)
    for off in scale_offsets:
        raw[:, off:off + 2] = f16_bytes(rng.normal(0, 0.02, n_blocks))
    return raw


def records():
    n32 = 64  # blocks of 32
    x = rng.normal(0, 1, n32 * 32).astype(np.float32)
    x[:32] = 0  # an all-zero block: d = 0
    x[32:64] *= 1e-6  # tiny scales (f16 subnormals)
    for qt in (T.Q4_0, T.Q4_1, T.Q8_0):
        yield qt, quants.quantize(x.reshape(-1, 32 * 4), qt).reshape(-1)
    # Raw random blocks with random (finite) scales, beyond what the quantizer produces.
    for qt, size, offs in ((T.Q4_0, 18, (0,)), (T.Q4_1, 20, (0, 2)), (T.Q8_0, 34, (0,))):
        yield qt, random_k_blocks(32, size, offs).reshape(-1)
    # K-quants: gguf-py cannot quantize them, so random blocks with sane scales.
    yield T.Q4_K, random_k_blocks(8, 144, (0, 2)).reshape(-1)
    yield T.Q5_K, random_k_blocks(8, 176, (0, 2)).reshape(-1)
    yield T.Q6_K, random_k_blocks(8, 210, (208,)).reshape(-1)
    # F16: specials (zeros, subnormals, max, inf, quiet and signalling NaN) and random bits.
    specials = [0x0000, 0x8000, 0x0001, 0x03ff, 0x0400, 0x7bff, 0xfbff, 0x7c00, 0xfc00,
                0x7e00, 0x7c01, 0xfe01, 0x3c00, 0xbc00, 0x3555]
    bits = np.concatenate([np.array(specials, np.uint16), rng.integers(0, 65536, 2033, dtype=np.uint16)])
    yield T.F16, bits.view(np.uint8)
    bspecials = [0x0000, 0x8000, 0x0001, 0x007f, 0x0080, 0x7f7f, 0x7f80, 0xff80, 0x7fc0, 0x7f81, 0x3f80]
    bbits = np.concatenate([np.array(bspecials, np.uint16), rng.integers(0, 65536, 1013, dtype=np.uint16)])
    yield T.BF16, bbits.view(np.uint8)
    yield T.F32, rng.normal(0, 1, 256).astype(np.float32).view(np.uint8)


MODEL = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "models", "SmolLM2-135M-Instruct.Q4_1.gguf")
ROWS_OUT = os.path.join(os.path.dirname(OUT), "model_rows.bin")
# (tensor name, row index): one row of each type in the default model, dequantized by gguf-py
# reading the real file, so the C++ reader and dequantizer are checked end to end.
MODEL_ROWS = [("token_embd.weight", 0), ("token_embd.weight", 49151), ("blk.0.attn_q.weight", 5),
              ("blk.29.ffn_down.weight", 575), ("output_norm.weight", 0)]


def write_model_rows():
    """model_rows.bin: u32 n, then per row: u32 name_len, name, u32 row, u32 n_elems, floats."""
    if not os.path.exists(MODEL):
        print(f"skipping model rows: {MODEL} not found", file=sys.stderr)
        return
    from gguf import GGUFReader
    tensors = {t.name: t for t in GGUFReader(MODEL).tensors}
    parts = [struct.pack("<I", len(MODEL_ROWS))]
    for name, row in MODEL_ROWS:
        t = tensors[name]
        data = np.asarray(t.data)
        rows = data.reshape(-1, data.shape[-1]) if data.ndim > 1 else data.reshape(1, -1)
        vals = quants.dequantize(rows[row:row + 1], t.tensor_type).astype(np.float32).reshape(-1)
        assert vals.size == int(t.shape[0]), (name, vals.size)
        parts.append(struct.pack("<I", len(name)) + name.encode() + struct.pack("<II", row, vals.size) + vals.tobytes())
    with open(ROWS_OUT, "wb") as f:
        f.write(b"".join(parts))
    print(f"wrote {len(MODEL_ROWS)} model rows to {os.path.normpath(ROWS_OUT)}", file=sys.stderr)


def main():
    recs = []
    for qt, raw in records():
        raw = np.ascontiguousarray(raw, dtype=np.uint8)
        block, size = quants.GGML_QUANT_SIZES[qt]
        out = quants.dequantize(raw, qt).astype(np.float32, copy=False).reshape(-1)
        assert out.size == raw.size // size * block
        recs.append(struct.pack("<III", int(qt), out.size, raw.size) + raw.tobytes() + out.tobytes())
    data = b"TSQG" + struct.pack("<II", 1, len(recs)) + b"".join(recs)
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "wb") as f:
        f.write(data)
    print(f"wrote {len(recs)} records, {len(data)} bytes to {os.path.normpath(OUT)}", file=sys.stderr)
    write_model_rows()


if __name__ == "__main__":
    main()
