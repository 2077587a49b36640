#!/usr/bin/env python3
"""Load generator for toolsft serve (or any OpenAI-compatible server): N concurrent streaming
clients send chat requests for a fixed time or a fixed count, and it prints a Markdown table of
requests/s, output tokens/s, time to first token and inter-token latency (p50/p90/p99), and
errors by status. Standard library only.

    bench/bench_serve.py --url http://127.0.0.1:8000 --concurrency 16 --requests 64
    bench/bench_serve.py --url ... --concurrency 32 --duration 60 --server-pid PID

Each request's user message cycles through six prompts, so whole prompts repeat (which a server's
prefix cache turns into near-free prompts); --unique-prompts makes every prompt distinct (numbered
requests), so only what the chat template puts first is shared.

With --server-pid it also reports the server's resident memory before, at the peak and 5 s after
the load (from /proc/PID/status).
"""
import argparse
import http.client
import json
import threading
import time
import urllib.parse

PROMPTS = [
    "Tell me about the history of Paris.",
    "Write a short poem about the sea.",
    "Explain how a bicycle works.",
    "What should I pack for a hiking trip?",
    "Describe a busy market in the morning.",
    "Give me three tips for learning to cook.",
]


def rss_mib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    return float("nan")


def one_request(url, model, prompt, max_tokens, api_key):
    """Streams one chat completion; returns (status, ttft, [gaps], completion_tokens)."""
    u = urllib.parse.urlparse(url)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=300)
    body = json.dumps({"model": model, "messages": [{"role": "user", "content": prompt}],
                       "max_tokens": max_tokens, "temperature": 0.7, "stream": True,
                       "stream_options": {"include_usage": True}})
    headers = {"Content-Type": "application/json"}
    if api_key:
        headers["Authorization"] = "Bearer " + api_key
    t0 = time.perf_counter()
    try:
        conn.request("POST", "/v1/chat/completions", body, headers)
        resp = conn.getresponse()
        if resp.status != 200:
            resp.read()
            if resp.status in (429, 503):  # back off as a well-behaved client does
                time.sleep(float(resp.getheader("Retry-After") or 1) * 0.25)
            return resp.status, None, [], 0
        ttft, last, gaps, tokens = None, None, [], 0
        for raw in resp:
            line = raw.decode().strip()
            if not line.startswith("data: ") or line == "data: [DONE]":
                continue
            chunk = json.loads(line[6:])
            if chunk.get("usage"):
                tokens = chunk["usage"]["completion_tokens"]
            if chunk.get("choices") and chunk["choices"][0]["delta"].get("content"):
                now = time.perf_counter()
                if ttft is None:
                    ttft = now - t0
                else:
                    gaps.append(now - last)
                last = now
        return 200, ttft, gaps, tokens
    except (OSError, http.client.HTTPException):
        return "conn-error", None, [], 0
    finally:
        conn.close()


def pct(values, p):
    if not values:
        return float("nan")
    s = sorted(values)
    return s[min(len(s) - 1, int(round(p / 100.0 * (len(s) - 1))))]


def run(args):
    lock = threading.Lock()
    stats = {"statuses": {}, "ttft": [], "gaps": [], "tokens": 0, "done": 0}
    issued = [0]
    deadline = time.perf_counter() + args.duration if args.duration else None
    peak = [rss_mib(args.server_pid) if args.server_pid else None]

    def worker(i):
        while True:
            with lock:
                if args.requests and issued[0] >= args.requests:
                    return
                if deadline and time.perf_counter() >= deadline:
                    return
                n = issued[0]
                issued[0] += 1
            prompt = PROMPTS[n % len(PROMPTS)]
            if args.unique_prompts:
                prompt = f"Request {n}: {prompt}"
            status, ttft, gaps, tokens = one_request(args.url, args.model, prompt,
                                                     args.max_tokens, args.api_key)
            with lock:
                stats["statuses"][status] = stats["statuses"].get(status, 0) + 1
                if status == 200:
                    stats["done"] += 1
                    stats["tokens"] += tokens
                    if ttft is not None:
                        stats["ttft"].append(ttft)
                    stats["gaps"].extend(gaps)

    def sampler():
        while any(t.is_alive() for t in threads):
            peak[0] = max(peak[0], rss_mib(args.server_pid))
            time.sleep(0.5)

    before = rss_mib(args.server_pid) if args.server_pid else None
    t0 = time.perf_counter()
    threads = [threading.Thread(target=worker, args=(i,)) for i in range(args.concurrency)]
    for t in threads:
        t.start()
    if args.server_pid:
        s = threading.Thread(target=sampler)
        s.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - t0
    after = None
    if args.server_pid:
        s.join()
        time.sleep(5)
        after = rss_mib(args.server_pid)
    ms = lambda v: f"{v * 1000:.0f}"
    print(f"| concurrency | requests ok | wall (s) | requests/s | output tokens/s | TTFT p50/p90/p99 (ms) | ITL p50/p90/p99 (ms) | statuses |")
    print("|---|---|---|---|---|---|---|---|")
    statuses = ", ".join(f"{k}: {v}" for k, v in sorted(stats["statuses"].items(), key=str))
    print(f"| {args.concurrency} | {stats['done']} | {wall:.1f} | {stats['done'] / wall:.2f} | "
          f"{stats['tokens'] / wall:.1f} | {ms(pct(stats['ttft'], 50))}/{ms(pct(stats['ttft'], 90))}/"
          f"{ms(pct(stats['ttft'], 99))} | {ms(pct(stats['gaps'], 50))}/{ms(pct(stats['gaps'], 90))}/"
          f"{ms(pct(stats['gaps'], 99))} | {statuses} |")
    if args.server_pid:
        print(f"\nserver RSS: before {before:.0f} MiB, peak {peak[0]:.0f} MiB, 5 s after {after:.0f} MiB")
    return stats


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--url", default="http://127.0.0.1:8000")
    p.add_argument("--model", default="SmolLM2-135M-Instruct.Q4_1.gguf")
    p.add_argument("--concurrency", type=int, default=8)
    p.add_argument("--requests", type=int, default=0, help="total requests (0: use --duration)")
    p.add_argument("--duration", type=float, default=0, help="seconds to keep sending")
    p.add_argument("--max-tokens", type=int, default=64)
    p.add_argument("--api-key", default="")
    p.add_argument("--server-pid", type=int, default=0)
    p.add_argument("--unique-prompts", action="store_true",
                   help="number each request's prompt, so that no whole prompt repeats")
    args = p.parse_args()
    if not args.requests and not args.duration:
        p.error("give --requests or --duration")
    run(args)


if __name__ == "__main__":
    main()
