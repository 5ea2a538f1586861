#!/usr/bin/env bash
# A real picture of a real run for the README: bisect the demo (real cc
# builds, real runs of the planted flaky crash), render its HTML report with
# `kbisect report`, and screenshot the page with headless Chromium.
#
#   docs/screenshot-report.sh [OUT.png] [-- extra `kbisect demo` flags]
#   (default OUT: docs/report.png; needs Debian's chromium:
#    apt-get install -y chromium)
#
# The demo and the page stay in a temp dir that is removed at the end, so
# the page's links to run logs point nowhere afterwards; the PNG is what is kept.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-docs/report.png}
shift || true
[ "${1:-}" = "--" ] && shift
browser=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$browser" ]; then
  echo "screenshot-report: chromium is not installed (apt-get install -y chromium)" >&2
  exit 1
fi
cargo build --release --locked -q -p kbisect
bin=${CARGO_TARGET_DIR:-$PWD/target}/release/kbisect
work=$(mktemp -d)
profile=$(mktemp -d)
trap 'rm -rf "$work" "$profile"' EXIT
"$bin" demo --workdir "$work/demo" --no-progress "$@" > "$work/demo.out" 2>&1 || {
  echo "screenshot-report: the demo did not find its culprit:" >&2
  tail -5 "$work/demo.out" >&2
}
"$bin" report "$work/demo" --format html -o "$work/demo/work/report.html"
# Chromium wants a writable HOME and profile, no sandbox as root, and must
# not reach the network (the page is self-contained anyway).
HOME=$profile "$browser" --headless --no-sandbox --disable-gpu \
  --disable-background-networking --disable-component-update --disable-sync \
  --no-first-run --hide-scrollbars --user-data-dir="$profile" \
  --window-size=1280,2000 --screenshot="$work/report.png" \
  "file://$work/demo/work/report.html" > "$work/chromium.log" 2>&1 || {
  echo "screenshot-report: chromium failed:" >&2
  tail -5 "$work/chromium.log" >&2
  exit 1
}
cp "$work/report.png" "$out"
echo "screenshot-report: wrote $out"
