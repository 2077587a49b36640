#!/usr/bin/env bash
# One round of the 16-streams-against-one comparison through `toolsft serve`: starts the server
# with the given serve options, sends 8 warm-up requests, then bench_serve.py with 1 stream (12
# requests) and 16 streams (48 requests), 64 tokens each, and prints both and their ratio.
#
#   bench/serve_ratio.sh PORT [--unique-prompts] [-- serve options...]
#   e.g. bench/serve_ratio.sh 8101 --unique-prompts -- --activations int8
set -euo pipefail
cd "$(dirname "$0")/.."
port=$1
shift
client=()
while [[ $# -gt 0 && $1 != "--" ]]; do client+=("$1"); shift; done
[[ $# -gt 0 ]] && shift
build/toolsft serve --threads 2 --port "$port" "$@" >"/tmp/serve_ratio_$port.log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null || true' EXIT
for _ in $(seq 1 120); do
  curl -sf "http://127.0.0.1:$port/health" >/dev/null && break
  sleep 0.5
done
url="http://127.0.0.1:$port"
python3 bench/bench_serve.py --url "$url" --concurrency 8 --requests 8 --max-tokens 16 \
  "${client[@]}" >/dev/null
one=$(python3 bench/bench_serve.py --url "$url" --concurrency 1 --requests 12 --max-tokens 64 \
  "${client[@]}" | grep '^| 1 |')
many=$(python3 bench/bench_serve.py --url "$url" --concurrency 16 --requests 48 --max-tokens 64 \
  "${client[@]}" | grep '^| 16 |')
echo "$one"
echo "$many"
t1=$(echo "$one" | awk -F'|' '{print $6}')
t16=$(echo "$many" | awk -F'|' '{print $6}')
python3 -c "print('16 streams / 1 stream: %.2fx' % ($t16 / $t1))"
