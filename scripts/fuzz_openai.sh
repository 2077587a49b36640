#!/usr/bin/env bash
# Builds the libFuzzer target for the server's request bodies (fuzz/fuzz_openai_request.cpp:
# parse_chat_request / parse_completion_request) with clang's address and undefined-behaviour
# sanitizers and runs it for SECONDS (default 60).
# Usage: scripts/fuzz_openai.sh [SECONDS] [extra libFuzzer flags...]
# Output (binary, corpus, crash files) goes to $TSFT_FUZZ_DIR, default build-fuzz-openai/.
set -euo pipefail

seconds=${1:-60}
shift || true
root=$(cd "$(dirname "$0")/.." && pwd)
out=${TSFT_FUZZ_DIR:-$root/build-fuzz-openai}

if ! command -v clang++ >/dev/null 2>&1; then
  echo "fuzz_openai.sh: clang++ is not installed; libFuzzer (-fsanitize=fuzzer) needs clang." >&2
  echo "Install it with: apt-get install clang (scripts/setup.sh does not)" >&2
  exit 2
fi

mkdir -p "$out/corpus" "$out/crashes"
s="$root/src"
clang++ -std=c++20 -O1 -g -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
  -fno-omit-frame-pointer -I"$s" "$root/fuzz/fuzz_openai_request.cpp" \
  "$s/serve/openai_api.cpp" "$s/serve/http_server.cpp" "$s/serve/http.cpp" \
  "$s/data/dataset_rows.cpp" "$s/core/error.cpp" "$s/core/log.cpp" -o "$out/fuzz_openai_request"

# Seeds: well-formed bodies of both endpoints with every kind of field, so the fuzzer starts
# past the JSON syntax.
if [ -z "$(ls -A "$out/corpus")" ]; then
  c="$out/corpus"
  printf '%s' '{"model":"m","messages":[{"role":"system","content":"You route."},{"role":"user","content":"Weather in Paris?"}],"tools":[{"type":"function","function":{"name":"get_weather","description":"d","parameters":{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}}}],"tool_choice":"auto","temperature":0.7,"top_p":0.9,"max_tokens":64,"stop":["\n"],"seed":3,"stream":true,"stream_options":{"include_usage":true}}' > "$c/chat_tools"
  printf '%s' '{"model":"m","messages":[{"role":"user","content":"hi"},{"role":"assistant","content":null,"tool_calls":[{"id":"c1","type":"function","function":{"name":"f","arguments":"{\"a\":1}"}}]},{"role":"tool","tool_call_id":"c1","content":"ok"}],"tool_choice":{"type":"function","function":{"name":"f"}}}' > "$c/chat_tool_result"
  printf '%s' '{"model":"m","messages":[{"role":"developer","content":[{"type":"text","text":"x"}]},{"role":"user","content":"y"}],"max_completion_tokens":5,"n":1}' > "$c/chat_parts"
  printf '%s' '{"model":"m","prompt":"Once","max_tokens":8,"temperature":0,"stop":"x"}' > "$c/completion"
fi

cd "$out/crashes"
exec "$out/fuzz_openai_request" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
  -dict="$root/fuzz/openai.dict" -print_final_stats=1 "$@" "$out/corpus"
