#!/usr/bin/env bash
# kill -9 soak: bisect a deterministic generated repository, killing kbisect
# with SIGKILL at random moments and resuming, again and again, and compare
# every final result and journal with an uninterrupted run.
#
#   bench/kill-soak.sh [TRIALS] [MAX_KILLS_PER_TRIAL]    (defaults: 40, 4)
#
# Prints a table: trials, kills, resumes, identical results. The failpoint
# sweep (`cargo test -p kbisect --test failpoints`) covers every point
# exhaustively; this samples the moments in between.
set -euo pipefail
cd "$(dirname "$0")/.."
trials=${1:-40}
max_kills=${2:-4}
cargo build --release --locked -q -p kbisect
bin=$PWD/target/release/kbisect
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# The repository: v1.0, eight commits with a merge, the bug planted in the 5th.
r=$work/repo
git init -q -b master "$r"
g() { git -C "$r" -c user.name=t -c user.email=t@t -c commit.gpgsign=false "$@"; }
echo ok > "$r/state"; g add state; g commit -qm init; g tag v1.0
for i in 1 2 3; do echo "$i" > "$r/f$i"; g add "f$i"; g commit -qm "c$i"; done
g checkout -q -b topic; echo t > "$r/t"; g add t; g commit -qm topic; g checkout -q master
g merge -q --no-ff -m "merge topic" topic
echo bug > "$r/state"; g commit -qam plant
for i in 4 5 6 7; do echo "$i" > "$r/f$i"; g add "f$i"; g commit -qm "c$i"; done
cat > "$work/build.sh" <<'S'
#!/bin/sh
sleep 0.05
cp state "$KBISECT_OUT/state"
S
cat > "$work/test.sh" <<'S'
#!/bin/sh
sleep 0.02
if grep -q bug "$KBISECT_OUT/state"; then echo "BUG: soak crash in frob"; exit 1; fi
echo fine
S
args=(run --repo "$r" --bad master --good v1.0 --build "sh $work/build.sh" --test "sh $work/test.sh" --parallel 2 --no-progress)

# What must come out the same: verdicts per revision, culprit, recorded builds and runs.
digest() {
  python3 - "$1" <<'P'
import json, sys
wd = sys.argv[1]
r = json.load(open(f"{wd}/result.json"))
revs = [(v["commit"], v["verdict"]) for v in r["revisions"]]
lines = []
for l in open(f"{wd}/journal.jsonl").read().splitlines()[1:]:
    e = json.loads(l)
    if e["type"] == "transient":
        continue
    for k in ("outcome", "result"):
        if isinstance(e.get(k), dict):
            e[k].pop("duration", None)
    lines.append(json.dumps(e, sort_keys=True))
print(json.dumps([revs, [c["commit"] for c in r["culprits"]], sorted(lines)]))
P
}

"$bin" "${args[@]}" --workdir "$work/base" > /dev/null 2>&1
want=$(digest "$work/base")
t0=$(date +%s.%N)
"$bin" "${args[@]}" --workdir "$work/timing" > /dev/null 2>&1
span=$(python3 -c "import time; print(max(0.2, time.time() - $t0))")

kills=0; resumes=0; same=0; differ=0
for ((i = 0; i < trials; i++)); do
  wd=$work/t$i
  for ((k = 0; k < max_kills; k++)); do
    "$bin" "${args[@]}" --workdir "$wd" > /dev/null 2>&1 &
    pid=$!
    sleep "$(python3 -c "import random; print(random.uniform(0.01, $span))")"
    if kill -9 "$pid" 2>/dev/null; then kills=$((kills + 1)); fi
    wait "$pid" 2>/dev/null || true
  done
  "$bin" "${args[@]}" --workdir "$wd" > /dev/null 2>&1 || true
  resumes=$((resumes + 1))
  if [ -f "$wd/result.json" ] && [ "$(digest "$wd")" = "$want" ]; then
    same=$((same + 1))
  else
    differ=$((differ + 1))
  fi
  rm -rf "$wd"
done
echo "| trials | kill -9 | final resumes | identical results | different |"
echo "|---|---|---|---|---|"
echo "| $trials | $kills | $resumes | $same | $differ |"
