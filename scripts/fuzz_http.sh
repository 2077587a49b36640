#!/usr/bin/env bash
# Builds the libFuzzer target for the HTTP request parser (fuzz/fuzz_http_request.cpp) with
# clang's address and undefined-behaviour sanitizers and runs it for SECONDS (default 60).
# Usage: scripts/fuzz_http.sh [SECONDS] [extra libFuzzer flags...]
# Output (binary, corpus, crash files) goes to $TSFT_FUZZ_DIR, default build-fuzz-http/.
set -euo pipefail

seconds=${1:-60}
shift || true
root=$(cd "$(dirname "$0")/.." && pwd)
out=${TSFT_FUZZ_DIR:-$root/build-fuzz-http}

if ! command -v clang++ >/dev/null 2>&1; then
  echo "fuzz_http.sh: clang++ is not installed; libFuzzer (-fsanitize=fuzzer) needs clang." >&2
  echo "Install it with: apt-get install clang (scripts/setup.sh does not)" >&2
  exit 2
fi

mkdir -p "$out/corpus" "$out/crashes"
# The parser needs only its own file and core/error.cpp, so nothing else is instrumented.
clang++ -std=c++20 -O1 -g -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
  -fno-omit-frame-pointer -I"$root/src" \
  "$root/fuzz/fuzz_http_request.cpp" "$root/src/serve/http.cpp" "$root/src/core/error.cpp" \
  -o "$out/fuzz_http_request"

# Seeds: a few well-formed requests (plain, pipelined, with a body, 100-continue, bare LF), so
# the fuzzer starts past the request line.
if [ -z "$(ls -A "$out/corpus")" ]; then
  printf 'GET /v1/models HTTP/1.1\r\nHost: localhost\r\n\r\n' > "$out/corpus/get"
  printf 'POST /v1/chat/completions HTTP/1.1\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}' > "$out/corpus/post"
  printf 'GET /a HTTP/1.1\r\n\r\nGET /b HTTP/1.0\r\nConnection: keep-alive\r\n\r\n' > "$out/corpus/pipelined"
  printf 'POST /x?y=1 HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\nhello' > "$out/corpus/expect"
  printf 'GET / HTTP/1.1\nHost: a\n\n' > "$out/corpus/bare_lf"
fi

cd "$out/crashes"
exec "$out/fuzz_http_request" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
  -dict="$root/fuzz/http.dict" -print_final_stats=1 "$@" "$out/corpus"
