#!/usr/bin/env bash
# Build savings from shared evidence on the DAG's docs-only commits: bayes
# with builds that say which files they used (docs-only commits are folded
# into their parent, never built) against the ablation where they do not
# (--no-fold: every commit is built like any other, and only equal
# signatures afterwards share runs). Same trials, same seed.
#
#   bench/shared-evidence.sh [DAG] [TRIALS]     (default 200; ~5 minutes)
set -euo pipefail
cd "$(dirname "$0")/.."
dag=${1:-../shared/dags/git-history.dag.gz}
trials=${2:-200}
target=${CARGO_TARGET_DIR:-$PWD/target}
cargo build --release --locked -q -p kbisect
bin=$target/release/kbisect
args=(--dag "$dag" --range v2.50.0..v2.51.0,v2.40.0..v2.55.0 --repro-chance 1,0.2
      --unrelated 0 --broken 0,0.1 --strategies bayes --trials "$trials" --seed 1)
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
"$bin" simulate "${args[@]}" | tee "$out/fold.txt"
echo
echo "## --no-fold"
"$bin" simulate "${args[@]}" --no-fold | tee "$out/nofold.txt"
echo
python3 - "$out" <<'PY'
import sys
d = sys.argv[1]
def rows(f):
    out = {}
    for line in open(f"{d}/{f}"):
        x = line.split()
        if len(x) > 15 and ".." in x[0]:
            out[(x[0], x[1], x[2], x[3])] = x
    return out
a, b = rows("fold.txt"), rows("nofold.txt")
print("| range | p | q | s | builds (folded) | builds (--no-fold) | builds saved | commits folded | runs (folded) | runs (--no-fold) | acc (folded) | acc (--no-fold) |")
print("|---|---|---|---|---|---|---|---|---|---|---|---|")
for k in a:
    if k not in b:
        continue
    x, y = a[k], b[k]
    print(f"| {k[0]} | {k[1]} | {k[2]} | {k[3]} | {x[9]} | {y[9]} | {float(y[9]) - float(x[9]):.2f} | {x[11]} | {x[12]} | {y[12]} | {x[5]} | {y[5]} |")
PY
