#!/usr/bin/env bash
# The simulation benchmark of issue 12: every strategy (plain = git bisect
# run, syzkaller = syzbot's rules, bayes) bisects planted culprits in real
# commit DAGs through the real engine, over the issue's grid: repro chance
# p in {1, 0.7, 0.4, 0.2, 0.1}, unrelated crashes q in {0, 0.02}, broken
# builds s in {0, 0.1}; 200 trials a cell, seed 1. Prints one table per
# range (the 12k-commit v2.40.0..v2.55.0 and the 758-commit
# v2.50.0..v2.51.0) with calibration, then the side-by-side ratios of the
# issue's targets.
#
#   bench/simulate.sh [DAG] [TRIALS]     (about 20 minutes on 2 cores)
#   RANGES="v2.50.0..v2.51.0" bench/simulate.sh     (one range)
set -euo pipefail
cd "$(dirname "$0")/.."
dag=${1:-../shared/dags/git-history.dag.gz}
trials=${2:-200}
ranges=${RANGES:-v2.40.0..v2.55.0 v2.50.0..v2.51.0}
target=${CARGO_TARGET_DIR:-$PWD/target}
cargo build --release --locked -q -p kbisect
bin=$target/release/kbisect
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
for r in $ranges; do
  echo "## $r"
  echo
  "$bin" simulate --dag "$dag" --range "$r" --trials "$trials" --seed 1 | tee "$out/$r.txt"
  echo
done
echo "## targets, side by side (bayes / syzkaller cost and wall, bayes / plain runs, bayes - plain builds)"
echo
python3 - "$out" <<'PY'
import os, sys
d = sys.argv[1]
cols = ["range", "p", "q", "s", "strategy", "acc", "acc*", "wrong", "none", "builds", "rebld",
        "fold", "runs", "cost", "wall_h", "w95"]
by = {}
for f in sorted(os.listdir(d)):
    for line in open(os.path.join(d, f)):
        x = line.split()
        if len(x) < len(cols) or x[0] in ("range", "#") or ".." not in x[0]:
            continue
        c = dict(zip(cols, x))
        by[(c["range"], float(c["p"]), float(c["q"]), float(c["s"]), c["strategy"])] = c
print(f"{'range':<18} {'p':>4} {'q':>4} {'s':>4} | {'acc':>5} {'acc*':>5} {'target':>9} | {'cost/syz':>8} {'wall/syz':>8} | {'runs/plain':>10} {'builds-plain':>12} | {'syz acc':>7}")
for (r, p, q, s, st), b in sorted(by.items(), key=lambda kv: (kv[0][0], kv[0][3], kv[0][2], -kv[0][1])):
    z, pl = by.get((r, p, q, s, "syzkaller")), by.get((r, p, q, s, "plain"))
    if st != "bayes" or not z or not pl:
        continue
    f = lambda c, k: float(c[k])
    tgt = 0.9 if p <= 0.1 else 0.95
    ok = "ok" if f(b, "acc*") >= tgt else "SHORT"
    print(f"{r:<18} {p:>4} {q:>4} {s:>4} | {f(b,'acc'):>5.3f} {f(b,'acc*'):>5.3f} {tgt:>4} {ok:<4} | "
          f"{f(b,'cost') / f(z,'cost'):>8.2f} {f(b,'wall_h') / f(z,'wall_h'):>8.2f} | "
          f"{f(b,'runs') / f(pl,'runs'):>10.2f} {f(b,'builds') - f(pl,'builds'):>12.2f} | {f(z,'acc'):>7.3f}")
PY
