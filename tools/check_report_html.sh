#!/usr/bin/env bash
# Opens an evaluation report.html in headless Chromium and checks what the browser parsed: the
# page loads, holds as many <svg> charts as it says (<meta name="toolsft-svg-count">), ends with
# its footer, has no <script>, and parses as XML too (so every inline SVG is well-formed).
# Optionally writes a screenshot of the whole page.
#
# Usage: tools/check_report_html.sh REPORT.html [SCREENSHOT.png]
#   TSFT_SHOT_WIDTH (default 1280): screenshot width in CSS pixels.
#   TSFT_SHOT_HEIGHT (default 8000): window height; the page below it is not in the screenshot.
set -euo pipefail

if [[ $# -lt 1 || $# -gt 2 ]]; then
  echo "usage: $0 REPORT.html [SCREENSHOT.png]" >&2
  exit 2
fi
html="$(realpath "$1")"
shot="${2:-}"
die() { echo "check_report_html: $html: $*" >&2; exit 1; }

browser=""
for b in chromium chromium-browser google-chrome; do
  if command -v "$b" >/dev/null 2>&1; then browser="$b"; break; fi
done
if [[ -z "$browser" ]]; then
  echo "check_report_html: chromium not found: run scripts/setup.sh (installs the Debian package 'chromium')" >&2
  exit 1
fi
[[ -f "$html" ]] || die "no such file"

expected="$(grep -o '<meta name="toolsft-svg-count" content="[0-9]*"' "$html" | grep -o '[0-9]*"$' | tr -d '"' || true)"
[[ -n "$expected" ]] || die "no <meta name=\"toolsft-svg-count\"> (not a toolsft report?)"

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
# A private profile: no state shared with other runs or the user's browser.
run_browser() {
  timeout 90 "$browser" --headless --no-sandbox --disable-gpu --no-first-run --no-default-browser-check \
    --user-data-dir="$tmp/profile" --disable-dev-shm-usage --force-device-scale-factor=1 \
    --hide-scrollbars "$@" 2>>"$tmp/stderr"
}
url() { local p="${1//%/%25}"; p="${p// /%20}"; echo "file://${p//#/%23}"; }
count_svg() { grep -o '<svg[ >]' "$1" | wc -l | tr -d ' '; }

# 1. As HTML, the way a reader opens it.
run_browser --dump-dom "$(url "$html")" >"$tmp/dom.html" || { tail -5 "$tmp/stderr" >&2; die "chromium failed"; }
[[ -s "$tmp/dom.html" ]] || die "chromium returned an empty DOM"
got="$(count_svg "$tmp/dom.html")"
[[ "$got" == "$expected" ]] || die "the parsed page has $got <svg> elements, the report says $expected"
grep -q '<footer id="report-end"' "$tmp/dom.html" || die "the parsed page does not end with its footer (text escaped wrongly?)"
! grep -qi '<script' "$tmp/dom.html" || die "the parsed page holds a <script> element (unescaped text?)"

# 2. As XHTML: the XML parser stops at the first ill-formed tag and shows a <parsererror>.
sed 's|<html lang="en">|<html xmlns="http://www.w3.org/1999/xhtml" lang="en">|' "$html" >"$tmp/page.xhtml"
run_browser --dump-dom "$(url "$tmp/page.xhtml")" >"$tmp/dom.xhtml" || die "chromium failed on the XHTML copy"
if grep -q 'parsererror' "$tmp/dom.xhtml"; then
  sed -n 's/.*<parsererror[^>]*>\(.\{0,300\}\).*/\1/p' "$tmp/dom.xhtml" | sed 's/<[^>]*>/ /g' >&2
  die "not well-formed XML (see the parser's message above)"
fi
got="$(count_svg "$tmp/dom.xhtml")"
[[ "$got" == "$expected" ]] || die "parsed as XML the page has $got <svg> elements, the report says $expected"

# 3. Screenshot: a tall window, then the empty rows below the page are cut off.
if [[ -n "$shot" ]]; then
  width="${TSFT_SHOT_WIDTH:-1280}"
  run_browser --window-size="$width,${TSFT_SHOT_HEIGHT:-8000}" --screenshot="$tmp/shot.png" "$(url "$html")" >/dev/null ||
    die "chromium could not take a screenshot"
  python3 "$(dirname "$0")/crop_png_bottom.py" "$tmp/shot.png" "$shot" 24
  echo "screenshot: $shot"
fi
echo "check_report_html: ok ($expected charts, HTML and XML parse clean)"
