#!/usr/bin/env bash
# A deterministic bug (the demo with --repro-chance 1) on generated
# repositories: `git bisect run` against kbisect's strategies over the same
# repository and the same range (good = v1.0, bad = master), runs and
# builds side by side. The demo's own numbers (release walk, no good commit
# given) are shown too.
#
#   bench/git-bisect-vs-bayes.sh [SEEDS]      (default 10)
set -euo pipefail
cd "$(dirname "$0")/.."
seeds=${1:-10}
target=${CARGO_TARGET_DIR:-$PWD/target}
# KBISECT_BIN: measure that binary (built before, e.g. while the tree changes).
bin=${KBISECT_BIN:-}
if [ -z "$bin" ]; then
  cargo build --release --locked -q -p kbisect
  bin=$target/release/kbisect
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cat > "$work/test.sh" <<'SH'
#!/bin/sh
# git bisect run's script: build (125 = skip), then one run of the reproducer.
out=$(mktemp -d)
make -s OUT="$out" >/dev/null 2>&1 || { rm -rf "$out"; exit 125; }
echo run >> "$COUNT"
"$out/demo" 'a,b;c' 'd;e' > "$out/log" 2>&1
code=$?
grep -q "BUG:" "$out/log" && { rm -rf "$out"; exit 1; }
rm -rf "$out"
[ $code -eq 0 ] || exit 1
exit 0
SH
chmod +x "$work/test.sh"
echo "| seed | commits | git bisect run: runs | bayes (--good v1.0): builds / runs | bayes / git runs | syzkaller (--good v1.0): builds / runs | plain (--good v1.0): builds / runs | bayes demo (release walk): builds / runs |"
echo "|---|---|---|---|---|---|---|---|"
tot_git=0; tot_bayes=0
for ((s = 1; s <= seeds; s++)); do
  d=$work/s$s
  demo=$("$bin" demo --strategy bayes --repro-chance 1 --seed "$s" --workdir "$d" --no-progress 2>/dev/null || true)
  demo_bill=$(echo "$demo" | sed -n 's/^demo: [0-9.]*s wall, \([0-9]*\) builds, \([0-9]*\) runs.*/\1 \/ \2/p')
  repo=$d/repo
  commits=$(git -C "$repo" rev-list --count master)
  # git bisect run on a clone (it moves HEAD).
  git clone -q "$repo" "$d/gb"
  export COUNT=$d/gb-count
  : > "$COUNT"
  (cd "$d/gb" && git bisect start master v1.0 >/dev/null && git bisect run "$work/test.sh" > "$d/gb.log" 2>&1 && git bisect reset >/dev/null 2>&1) || true
  git_runs=$(wc -l < "$COUNT")
  row=()
  for st in bayes syzkaller plain; do
    w=$d/run-$st
    "$bin" run --repo "$repo" --bad master --good v1.0 --strategy "$st" \
      --build 'make -s OUT="$KBISECT_OUT"' --test '"$KBISECT_OUT/demo" '"'"'a,b;c'"'"' '"'"'d;e'"'"'' \
      --workdir "$w" --no-progress > /dev/null 2> "$w.err" || true
    bill=$(sed -n 's/.*(builds: \([0-9]*\) new, [0-9]* from journal; runs: \([0-9]*\) new.*/\1 \2/p' "$w.err" | tail -1)
    row+=("$bill")
  done
  read -r bb br <<< "${row[0]}"
  ratio=$(python3 -c "print(f'{$br / max($git_runs, 1):.2f}')")
  tot_git=$((tot_git + git_runs)); tot_bayes=$((tot_bayes + br))
  echo "| $s | $commits | $git_runs | $bb / $br | $ratio | ${row[1]/ / \/ } | ${row[2]/ / \/ } | $demo_bill |"
  rm -rf "$d"
done
echo
python3 -c "print(f'total: git bisect run {$tot_git} runs, bayes {$tot_bayes} runs: {$tot_bayes / max($tot_git, 1):.2f} x')"
