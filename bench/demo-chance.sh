#!/usr/bin/env bash
# The demo's crash chance per run: generate the demo at each --repro-chance,
# build its start commit (which carries the planted bug), run it N times the
# way the demo's test command does, and count crashes.
#
#   bench/demo-chance.sh [RUNS]    (default 2000)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-2000}
cargo build --release --locked -q -p kbisect
bin=$PWD/target/release/kbisect
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
echo "| --repro-chance | runs | crashed | measured rate |"
echo "|---|---|---|---|"
for p in 0.1 0.2 0.4 0.7 1; do
  d=$work/p$p
  # Plain strategy: one build of the start commit is all this needs.
  "$bin" demo --workdir "$d" --repro-chance "$p" --strategy plain --no-progress > /dev/null 2>&1 || true
  head=$(git -C "$d/repo" rev-parse master)
  prog=$(ls -d "$d"/work/artifacts/"$head"/*/out/demo | head -1)
  crashed=0
  for ((i = 0; i < runs; i++)); do
    # A subshell, so bash's own "Aborted" notice goes to /dev/null too.
    if ! ( "$prog" 'a,b;c' 'd;e' > /dev/null 2>&1 ) 2>/dev/null; then crashed=$((crashed + 1)); fi
  done
  rate=$(python3 -c "print(f'{$crashed / $runs:.3f}')")
  echo "| $p | $runs | $crashed | $rate |"
done
