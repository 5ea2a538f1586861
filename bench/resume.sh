#!/usr/bin/env bash
# Resume overhead: time from `kbisect run` starting on a work dir with a
# journal to its first new build or run, for a 500-entry journal and, side by
# side, for a 1-entry journal. Prints a markdown table.
# Usage: bench/resume.sh [repeats]   (builds the release binary first)
set -euo pipefail
cd "$(dirname "$0")/.."
reps=${1:-5}
cargo build --release --locked -q -p kbisect
K=$PWD/target/release/kbisect
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# A 300-commit history; the crash comes in at commit 200.
git init -q -b main "$tmp/repo"
(
  cd "$tmp/repo"
  git config user.email bench@example.org && git config user.name bench
  for i in $(seq 1 300); do
    echo "$i" > n.txt
    if [ "$i" -ge 200 ]; then echo yes > bug; fi
    git add -A && git commit -q -m "change $i"
    if [ "$i" = 5 ]; then git tag v1.0; fi
  done
)
cat > "$tmp/repro.sh" <<'EOS'
#!/bin/sh
[ -f "$KBISECT_WORKTREE/bug" ] && { echo "BUG: bench crash in frob"; exit 1; }
exit 0
EOS
chmod +x "$tmp/repro.sh"
args=(--repo "$tmp/repo" --bad HEAD --good v1.0 --build 'cp n.txt "$KBISECT_OUT"/' --test "$tmp/repro.sh" --runs 50 --no-progress)
"$K" run "${args[@]}" --workdir "$tmp/full" >/dev/null 2>&1 || true
lines=$(wc -l < "$tmp/full/journal.jsonl")
measure() { # journal lines to keep -> seconds to first new action (median)
  local keep=$1 times=()
  for _ in $(seq 1 "$reps"); do
    rm -rf "$tmp/w" && cp -a "$tmp/full" "$tmp/w"
    head -n "$keep" "$tmp/full/journal.jsonl" > "$tmp/w/journal.jsonl"
    t=$("$K" run "${args[@]}" --workdir "$tmp/w" 2>&1 | sed -n 's/.*journal replayed in \([0-9.]*\)s.*/\1/p')
    times+=("$t")
  done
  printf '%s\n' "${times[@]}" | sort -n | sed -n "$(( (reps + 1) / 2 ))p"
}
base=$(measure 2)
full=$(measure 501)
echo "full journal of the uninterrupted run: $lines lines"
echo
echo "| journal entries replayed | time to first new build or run (median of $reps) |"
echo "|---|---|"
echo "| 1 | ${base}s |"
echo "| 500 | ${full}s |"
awk -v a="$base" -v b="$full" 'BEGIN { if (a > 0) printf "\nratio 500 / 1: %.2fx\n", b / a }'
