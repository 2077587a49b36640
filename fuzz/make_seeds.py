#!/usr/bin/env python3
"""Writes small seed inputs for the fuzz targets: python3 fuzz/make_seeds.py OUT_DIR.

OUT_DIR/gguf gets GGUF files with every metadata type (nested arrays included) and one tensor of
each supported type; OUT_DIR/safetensors gets files with each dtype, metadata and edge cases.
"""
import json
import os
import struct
import sys

import numpy as np
from gguf import GGMLQuantizationType as T
from gguf import GGUFWriter
from gguf import quants


def gguf_seeds(out):
    rng = np.random.default_rng(0)
    for i, (types, align) in enumerate([((T.F32, T.Q8_0), None), ((T.Q4_0, T.Q4_1, T.F16, T.BF16), 64),
                                         ((T.Q4_K, T.Q5_K, T.Q6_K), None), ((T.I8, T.I32, T.F64), 16)]):
        path = os.path.join(out, f"seed{i}.gguf")
        w = GGUFWriter(path, "llama")
        if align:
            w.add_custom_alignment(align)
        w.add_string("s", "hello")
        w.add_uint8("u8", 1); w.add_int8("i8", -1); w.add_uint16("u16", 2); w.add_int16("i16", -2)
        w.add_uint64("u64", 5); w.add_int64("i64", -5); w.add_float32("f32", 1.5); w.add_float64("f64", 2.5)
        w.add_bool("b", True)
        w.add_array("arr_s", ["a", "bc"]); w.add_array("arr_i", [1, 2, 3]); w.add_array("arr_f", [0.5, 1.0])
        w.add_array("arr_nested", [[1, 2], [3]])
        for t in types:
            block, size = quants.GGML_QUANT_SIZES[t]
            ne0 = block * 2
            if t in (T.I8, T.I32, T.F64):
                dt = {T.I8: np.int8, T.I32: np.int32, T.F64: np.float64}[t]
                w.add_tensor(f"t_{t.name}", rng.integers(-5, 5, (2, ne0)).astype(dt), raw_dtype=t)
            elif t in (T.Q4_K, T.Q5_K, T.Q6_K):
                raw = rng.integers(0, 256, (2, 2 * size), dtype=np.uint8)
                w.add_tensor(f"t_{t.name}", raw, raw_dtype=t)
            else:
                x = rng.normal(0, 1, (2, ne0)).astype(np.float32)
                if t == T.F32:
                    w.add_tensor(f"t_{t.name}", x)
                else:
                    w.add_tensor(f"t_{t.name}", quants.quantize(x, t), raw_dtype=t)
        w.write_header_to_file(); w.write_kv_data_to_file(); w.write_tensors_to_file(); w.close()


def st_file(path, tensors, meta=None):
    header, blobs, off = {}, [], 0
    for name, (dtype, shape, data) in tensors.items():
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [off, off + len(data)]}
        blobs.append(data); off += len(data)
    if meta is not None:
        header["__metadata__"] = meta
    h = json.dumps(header).encode()
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))


def st_seeds(out):
    st_file(os.path.join(out, "a.safetensors"), {
        "w": ("F32", [2, 3], np.arange(6, dtype=np.float32).tobytes()),
        "h": ("F16", [4], np.ones(4, np.float16).tobytes()),
        "b": ("BF16", [1, 2], b"\x80\x3f\x00\x40"),
        "i": ("I64", [2], np.arange(2, dtype=np.int64).tobytes()),
        "e": ("I8", [0], b""),
    }, {"format": "pt"})
    st_file(os.path.join(out, "b.safetensors"), {"x": ("F64", [1, 1, 1, 1, 1], b"\0" * 8),
                                                  "y": ("I16", [3], b"\0" * 6), "z": ("I32", [], b"\0" * 4)})


def main():
    out = sys.argv[1]
    for sub in ("gguf", "safetensors"):
        os.makedirs(os.path.join(out, sub), exist_ok=True)
    gguf_seeds(os.path.join(out, "gguf"))
    st_seeds(os.path.join(out, "safetensors"))


if __name__ == "__main__":
    main()
