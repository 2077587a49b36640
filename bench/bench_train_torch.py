#!/usr/bin/env python3
"""PyTorch half of the training benchmark (issue 4).

SmolLM2-135M shape (random init; no download), CPU, training steps
(forward + loss + backward + AdamW step) for
  mode:      full fine-tuning | LoRA r=16 alpha=32 on q,k,v,o,gate,up,down
  batch:     8x64 and 4x256 tokens
  precision: float32 | bfloat16 autocast (torch.autocast("cpu", torch.bfloat16))
Labels are -100 except the last 8 tokens of each sequence (HF loss).
Each configuration runs in a fresh subprocess so peak RSS (ru_maxrss) is
per configuration.  Tokens/s counts all B*T tokens per step (wall clock);
CPU s/step is the process CPU time per step (all threads), so on a shared,
busy machine tokens/CPU-s x threads estimates the uncontended rate.

Usage:
  /root/refenv/bin/python bench/bench_train_torch.py [--threads 2] [--steps 5]
      [--warmup 2] [--modes full,lora] [--shapes 8x64,4x256]
      [--precisions fp32,bf16] [--json out.json]
Needs torch, transformers, peft (reference venv only; not used by CI).
"""

import argparse
import json
import os
import subprocess
import sys
import time

TARGETS = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]
LABEL_TAIL = 8


def smollm2_config():
    from transformers import LlamaConfig
    return LlamaConfig(
        vocab_size=49152, hidden_size=576, intermediate_size=1536, num_hidden_layers=30,
        num_attention_heads=9, num_key_value_heads=3, head_dim=64, hidden_act="silu",
        max_position_embeddings=2048, rms_norm_eps=1e-5, rope_theta=100000.0,
        tie_word_embeddings=True, initializer_range=0.02, bos_token_id=1, eos_token_id=2,
        attention_bias=False, mlp_bias=False)


def rss_mib():
    import resource
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # Linux: KiB


def worker(args):
    """Run one configuration in this process; print one JSON line."""
    import torch
    torch.set_num_threads(args.threads)
    from transformers import AutoModelForCausalLM
    torch.manual_seed(0)
    cfg = smollm2_config()
    model = AutoModelForCausalLM.from_config(cfg, dtype=torch.float32, attn_implementation=args.attn)
    model.train()
    n_total = sum(p.numel() for p in model.parameters())
    if args.mode == "lora":
        from peft import LoraConfig, get_peft_model
        model = get_peft_model(model, LoraConfig(r=16, lora_alpha=32, lora_dropout=0.0,
                                                 target_modules=TARGETS, bias="none", task_type="CAUSAL_LM"))
        with torch.no_grad():  # non-zero B so every LoRA matmul is real work
            for n, p in model.named_parameters():
                if "lora_B" in n:
                    p.normal_(0, 0.01)
    named = [(n, p) for n, p in model.named_parameters() if p.requires_grad]
    n_train = sum(p.numel() for _, p in named)
    lr = 1e-4 if args.mode == "full" else 1e-3
    decay = [p for n, p in named if not ("bias" in n or "norm" in n)]
    no_decay = [p for n, p in named if ("bias" in n or "norm" in n)]
    groups = [g for g in ({"params": decay, "weight_decay": 0.01},
                          {"params": no_decay, "weight_decay": 0.0}) if g["params"]]
    opt = torch.optim.AdamW(groups, lr=lr, betas=(0.9, 0.999), eps=1e-8)
    params = [p for _, p in named]

    B, T = args.batch, args.seq
    g = torch.Generator().manual_seed(1)
    ids = torch.randint(0, cfg.vocab_size, (B, T), generator=g)
    labels = torch.full_like(ids, -100)
    labels[:, -LABEL_TAIL:] = ids[:, -LABEL_TAIL:]
    rss_setup = rss_mib()

    def step():
        opt.zero_grad(set_to_none=True)
        if args.precision == "bf16":
            with torch.autocast("cpu", dtype=torch.bfloat16):
                loss = model(input_ids=ids, labels=labels, use_cache=False).loss
        else:
            loss = model(input_ids=ids, labels=labels, use_cache=False).loss
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        return float(loss)

    for _ in range(args.warmup):
        step()
    times, cpu, losses = [], [], []
    for _ in range(args.steps):
        t0, c0 = time.perf_counter(), time.process_time()
        losses.append(step())
        times.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    mean = sum(times) / len(times)
    cpu_mean = sum(cpu) / len(cpu)
    print(json.dumps({
        "mode": args.mode, "batch": B, "seq": T, "precision": args.precision, "threads": args.threads,
        "steps": args.steps, "warmup": args.warmup,
        "step_s_mean": mean, "step_s_min": min(times), "tokens_per_s": B * T / mean,
        # CPU seconds of this process per step (all threads): with a busy
        # machine, tokens per CPU-second x threads is the contention-free estimate
        "cpu_s_per_step": cpu_mean, "tokens_per_cpu_s": B * T / cpu_mean,
        "peak_rss_mib": rss_mib(), "rss_after_setup_mib": rss_setup,
        "params_total": n_total, "params_trainable": n_train, "losses": losses,
    }), flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--steps", type=int, default=5)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--modes", default="full,lora")
    ap.add_argument("--shapes", default="8x64,4x256")
    ap.add_argument("--precisions", default="fp32,bf16")
    ap.add_argument("--attn", default="eager", help="attn_implementation (eager|sdpa)")
    ap.add_argument("--json", help="write all results to this file")
    # worker-only arguments
    ap.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--mode", help=argparse.SUPPRESS)
    ap.add_argument("--batch", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--seq", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--precision", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        worker(args)
        return 0

    env = dict(os.environ)
    env["OMP_NUM_THREADS"] = str(args.threads)
    env["MKL_NUM_THREADS"] = str(args.threads)
    env["OPENBLAS_NUM_THREADS"] = str(args.threads)
    env.setdefault("CUDA_VISIBLE_DEVICES", "")
    env.setdefault("HF_HUB_OFFLINE", "1")
    env.setdefault("TRANSFORMERS_OFFLINE", "1")

    import torch
    info = {"torch_version": torch.__version__, "parallel_info": torch.__config__.parallel_info(),
            "mkl": torch.backends.mkl.is_available(), "mkldnn": torch.backends.mkldnn.is_available(),
            "cpu_capability": torch.backends.cpu.get_cpu_capability()}
    try:
        import transformers
        import peft
        info["transformers_version"] = transformers.__version__
        info["peft_version"] = peft.__version__
    except ImportError:
        pass
    print(f"torch {info['torch_version']}  cpu_capability {info['cpu_capability']}  "
          f"mkl {info['mkl']}  mkldnn {info['mkldnn']}  threads {args.threads}", file=sys.stderr)

    results = []
    for mode in args.modes.split(","):
        for shape in args.shapes.split(","):
            b, t = (int(x) for x in shape.split("x"))
            for prec in args.precisions.split(","):
                cmd = [sys.executable, os.path.abspath(__file__), "--worker", "--mode", mode,
                       "--batch", str(b), "--seq", str(t), "--precision", prec,
                       "--threads", str(args.threads), "--steps", str(args.steps),
                       "--warmup", str(args.warmup), "--attn", args.attn]
                print(f"running {mode} {b}x{t} {prec} ...", file=sys.stderr, flush=True)
                p = subprocess.run(cmd, env=env, capture_output=True, text=True)
                line = [ln for ln in p.stdout.splitlines() if ln.startswith("{")]
                if p.returncode != 0 or not line:
                    print(p.stderr[-3000:], file=sys.stderr)
                    results.append({"mode": mode, "batch": b, "seq": t, "precision": prec, "error": p.returncode})
                    continue
                r = json.loads(line[-1])
                results.append(r)
                if args.json:  # written after every configuration (partial runs keep results)
                    with open(args.json, "w") as f:
                        json.dump({"info": info, "threads": args.threads, "results": results}, f, indent=2)
                print(f"  {r['tokens_per_s']:.1f} tok/s, {r['step_s_mean']:.2f} s/step, "
                      f"peak RSS {r['peak_rss_mib']:.0f} MiB", file=sys.stderr, flush=True)

    print(f"\nPyTorch {info['torch_version']}, {args.threads} threads, attn={args.attn}, "
          f"warmup {args.warmup}, {args.steps} timed steps\n")
    print("| mode | batch | precision | tokens/s | s/step | CPU s/step | tokens/CPU-s | peak RSS (MiB) | trainable params |")
    print("|------|-------|-----------|---------:|-------:|-----------:|-------------:|---------------:|-----------------:|")
    for r in results:
        if "error" in r:
            print(f"| {r['mode']} | {r['batch']}x{r['seq']} | {r['precision']} | error {r['error']} | | | | | |")
            continue
        print(f"| {r['mode']} | {r['batch']}x{r['seq']} | {r['precision']} | {r['tokens_per_s']:.1f} | "
              f"{r['step_s_mean']:.2f} | {r.get('cpu_s_per_step', float('nan')):.2f} | "
              f"{r.get('tokens_per_cpu_s', float('nan')):.1f} | {r['peak_rss_mib']:.0f} | {r['params_trainable']:,} |")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"info": info, "threads": args.threads, "results": results}, f, indent=2)
    return 0 if all("error" not in r for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
