#!/usr/bin/env bash
# The demo's planted flaky bug, bisected with real builds and runs by bayes
# and by syzbot's rules side by side: per strategy and per-run crash chance,
# SEEDS seeds (each a different history), how often the planted culprit is
# found, how often a wrong culprit is reported (and at confidence >= 0.95),
# how often the answer is "unsure" or no culprit, and the mean builds/runs.
#
#   bench/demo-strategies.sh [SEEDS] [CHANCES] [STRATEGIES]
#   (defaults: 40, "0.2 0.1", "bayes syzkaller"; ~15 minutes on 2 cores)
set -euo pipefail
cd "$(dirname "$0")/.."
seeds=${1:-40}
chances=${2:-0.2 0.1}
strategies=${3:-bayes syzkaller}
target=${CARGO_TARGET_DIR:-$PWD/target}
# KBISECT_BIN: measure that binary (built before, e.g. while the tree changes).
bin=${KBISECT_BIN:-}
if [ -z "$bin" ]; then
  cargo build --release --locked -q -p kbisect
  bin=$target/release/kbisect
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
rows=$work/rows.tsv
for st in $strategies; do
  for p in $chances; do
    for ((s = 1; s <= seeds; s++)); do
      d=$work/$st-$p-$s
      code=0
      "$bin" demo --strategy "$st" --repro-chance "$p" --seed "$s" --workdir "$d" --no-progress \
        > "$d.out" 2> "$d.err" || code=$?
      python3 - "$st" "$p" "$s" "$code" "$d" >> "$rows" <<'PY'
import json, re, sys
st, p, s, code, d = sys.argv[1:]
out = open(d + ".out").read()
planted = re.search(r"planted (?:the planted culprit )?([0-9a-f]{40})", out)
m = re.search(r"found the planted culprit ([0-9a-f]{40})", out)
planted = m.group(1) if m else (planted.group(1) if planted else "")
try:
    r = json.load(open(d + "/work/result.json"))
except Exception:
    r = {"kind": "error", "culprits": [], "confidence": 0.0}
bill = re.search(r"demo: [0-9.]+s wall, (\d+) builds, (\d+) runs", out)
builds, runs = (bill.group(1), bill.group(2)) if bill else ("0", "0")
kind = r.get("kind", "error")
culprit = r["culprits"][0]["commit"] if kind == "culprit" and r.get("culprits") else ""
if kind == "culprit":
    verdict = "found" if culprit == planted else "wrong"
else:
    verdict = kind
print("\t".join([st, p, s, code, verdict, f"{r.get('confidence', 0.0):.4f}", builds, runs]))
PY
      rm -rf "$d"
    done
  done
done
python3 - "$rows" <<'PY'
import sys
from collections import defaultdict
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1])]
g = defaultdict(list)
for st, p, s, code, v, conf, b, r in rows:
    g[(st, p)].append((v, float(conf), int(b), int(r)))
print("| strategy | repro chance | seeds | found | wrong culprit | wrong at conf >= 0.95 | unsure | other (no culprit) | mean builds | mean runs |")
print("|---|---|---|---|---|---|---|---|---|---|")
for (st, p), xs in sorted(g.items(), key=lambda kv: (kv[0][0] != "bayes", kv[0][0], -float(kv[0][1]))):
    n = len(xs)
    found = sum(v == "found" for v, *_ in xs)
    wrong = sum(v == "wrong" for v, *_ in xs)
    w95 = sum(v == "wrong" and c >= 0.95 for v, c, *_ in xs)
    unsure = sum(v == "unsure" for v, *_ in xs)
    other = n - found - wrong - unsure
    mb = sum(b for *_, b, _ in xs) / n
    mr = sum(r for *_, r in xs) / n
    print(f"| {st} | {p} | {n} | {found} ({found / n:.1%}) | {wrong} | {w95} | {unsure} | {other} | {mb:.1f} | {mr:.1f} |")
PY
