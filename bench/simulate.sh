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
# Then bayes again with a build farm (--build-slots 4 and 9: that many
# builds at once, each round a (k+1)-section), half the trials, on the
# cells without broken builds: wall time against syzkaller's.
#
#   bench/simulate.sh [DAG] [TRIALS]     (about 30 minutes on 2 cores)
#   RANGES="v2.50.0..v2.51.0" bench/simulate.sh     (one range)
set -euo pipefail
cd "$(dirname "$0")/.."
dag=${1:-../shared/dags/git-history.dag.gz}
trials=${2:-200}
ranges=${RANGES:-v2.40.0..v2.55.0 v2.50.0..v2.51.0}
target=${CARGO_TARGET_DIR:-$PWD/target}
# KBISECT_BIN: measure that binary (built before, e.g. while the tree changes).
bin=${KBISECT_BIN:-}
if [ -z "$bin" ]; then
  cargo build --release --locked -q -p kbisect
  bin=$target/release/kbisect
fi
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
sections=${SECTIONS:-main slots}
for r in $ranges; do
  [[ " $sections " == *" main "* ]] || break
  echo "## $r"
  echo
  "$bin" simulate --dag "$dag" --range "$r" --trials "$trials" --seed 1 | tee "$out/$r.txt"
  echo
done
slots=${BUILD_SLOTS:-4 9}
mkdir -p "$out/slots"
for r in $ranges; do
  [[ " $sections " == *" slots "* ]] || break
  for k in $slots; do
    # syzkaller builds one revision at a time whatever the farm: its rows
    # here are the side-by-side reference.
    "$bin" simulate --dag "$dag" --range "$r" --trials $(((trials + 1) / 2)) --seed 1 --broken 0 \
      --strategies syzkaller,bayes --build-slots "$k" > "$out/slots/$k-$r.txt"
  done
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
    if not os.path.isfile(os.path.join(d, f)):
        continue
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
print()
print("## bayes with a build farm (--build-slots k, half the trials, s = 0): wall and cost against syzkaller (one build at a time)")
print()
print(f"{'range':<18} {'p':>4} {'q':>4} {'k':>2} | {'acc':>5} {'builds':>6} {'runs':>6} | {'wall_h':>6} {'wall/syz':>8} {'cost/syz':>8}")
sd = os.path.join(d, "slots")
rows = []
ref = {}
for f_ in sorted(os.listdir(sd)):
    k = int(f_.split("-", 1)[0])
    for line in open(os.path.join(sd, f_)):
        x = line.split()
        if len(x) < len(cols) or x[0] in ("range", "#") or ".." not in x[0]:
            continue
        c = dict(zip(cols, x))
        if c["strategy"] == "syzkaller":
            ref[(k, c["range"], c["p"], c["q"])] = c
        elif c["strategy"] == "bayes":
            rows.append((k, c))
rows.sort(key=lambda kc: (kc[1]["range"], float(kc[1]["q"]), -float(kc[1]["p"]), kc[0]))
for k, c in rows:
    z = ref.get((k, c["range"], c["p"], c["q"]))
    if not z:
        continue
    f = lambda c, k: float(c[k])
    print(f"{c['range']:<18} {c['p']:>4} {c['q']:>4} {k:>2} | {f(c,'acc'):>5.3f} {f(c,'builds'):>6.1f} {f(c,'runs'):>6.1f} | "
          f"{f(c,'wall_h'):>6.2f} {f(c,'wall_h') / f(z,'wall_h'):>8.2f} {f(c,'cost') / f(z,'cost'):>8.2f}")
PY
