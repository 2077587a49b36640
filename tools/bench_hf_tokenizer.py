"""Times Hugging Face `tokenizers` (one thread) on the same text as bench/bench_tokenizer.cpp.

    RAYON_NUM_THREADS=1 /root/refenv/bin/python tools/bench_hf_tokenizer.py [--mb 8]
"""
import argparse
import json
import os
import time

os.environ.setdefault("RAYON_NUM_THREADS", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
from tokenizers import Tokenizer  # noqa: E402

ap = argparse.ArgumentParser()
ap.add_argument("--tokenizer", default="tests/data/smollm2/tokenizer.json")
ap.add_argument("--corpus", default="tests/data/tokenizer_corpus.txt")
ap.add_argument("--mb", type=float, default=8.0)
args = ap.parse_args()

tok = Tokenizer.from_file(args.tokenizer)
lines = [json.loads(l) for l in open(args.corpus, encoding="utf-8") if l.strip()]
text = ""
while len(text.encode()) < args.mb * 1e6:
    text += "".join(l + "\n" for l in lines)
raw = text.encode()
docs, at = [], 0
while at < len(raw):  # the same ~4 KB documents, split at newlines, as the C++ bench
    end = min(len(raw), at + 4096)
    while end < len(raw) and raw[end] != 0x0A:
        end += 1
    docs.append(raw[at:end].decode())
    at = end

for d in docs:
    tok.encode(d, add_special_tokens=False)
best = 1e30
for _ in range(3):
    t0 = time.perf_counter()
    n = sum(len(tok.encode(d, add_special_tokens=False).ids) for d in docs)
    best = min(best, time.perf_counter() - t0)
print(f"| HF tokenizers (encode, 1 thread) | {len(raw)/1e6:.1f} | {n} | {len(raw)/1e6/best:.1f} | {n/1e6/best:.2f} |")
