#!/usr/bin/env bash
# The kernel end-to-end bisection, measured: `kbisect demo --kernel --prepare`
# (Debian's linux-source-6.12 made into a git tree with a planted WARN), then
# `kbisect run` of its job (kernel builder, qemu TCG tester), then one table:
# per revision the build time (first vs incremental), the guest's boot time
# (kernel clock at "Run /init", median over the revision's runs), the runs
# and the test time; then the totals split into build and test, side by side
# with the seed run (shared/design/sample-bisection.log: 16 revisions in
# 4h03m, build 1h18m, test 2h41m) per revision.
#
#   bench/kernel-e2e.sh [--cold] [WORKDIR]
#
# --cold empties the cache (build dir, ccache, guest programs) first, so the
# first build starts from nothing. The cache is $KBISECT_CACHE_DIR/kernel-e2e
# (else ~/.cache/kbisect/kernel-e2e). bench/kernel-e2e/measure.sh measures
# the builds alone (clean, incremental, header change, with/without ccache).
set -euo pipefail
cd "$(dirname "$0")/.."
cold=0
if [ "${1:-}" = --cold ]; then cold=1; shift; fi
work=${1:-}
if [ -z "$work" ]; then
	work=$(mktemp -d)
	trap 'rm -rf "$work"' EXIT
fi
cache=${KBISECT_CACHE_DIR:-$HOME/.cache/kbisect}/kernel-e2e
[ "$cold" = 1 ] && rm -rf "$cache"
cargo build --release --locked -q -p kbisect
bin=$PWD/target/release/kbisect
mkdir -p "$work"
rm -rf "$work/case"
t0=$(date +%s)
"$bin" demo --kernel --prepare --no-progress --workdir "$work/case" --cache-dir "$cache" >"$work/prepare.out"
t1=$(date +%s)
planted=$(sed -n 's/^planted: \([0-9a-f]*\).*/\1/p' "$work/prepare.out")
"$bin" run "$work/case/job.toml" --no-progress >"$work/run.out" 2>"$work/run.err" || true
t2=$(date +%s)
python3 - "$work/case/work" "$planted" $((t1 - t0)) $((t2 - t1)) <<'P'
import glob, json, os, re, statistics, sys
wd, planted, prep, run_wall = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
r = json.load(open(f"{wd}/result.json"))
found = r["culprits"][0]["commit"] if r["culprits"] else "none"
def boots(commit):
    out = []
    for log in glob.glob(f"{wd}/artifacts/{commit}/*/run-*.log"):
        m = re.search(r"\[\s*([\d.]+)\] Run /init as init process", open(log, errors="replace").read())
        if m:
            out.append(float(m.group(1)))
    return statistics.median(out) if out else float("nan")
print("| # | revision | purpose | verdict | build (s) | boot (s, guest) | runs | test (s) |")
print("|---|---|---|---|---|---|---|---|")
for i, v in enumerate(r["revisions"], 1):
    print(f"| {i} | {v['commit'][:12]} | {v['purpose']} | {v['verdict']} | {v['build_time']:.1f} | "
          f"{boots(v['commit']):.2f} | {len(v['runs'])} | {v['test_time']:.1f} |")
n = r["revisions_tested"]
b, t = r["build_time"], r["test_time"]
first = r["revisions"][0]["build_time"]
inc = [v["build_time"] for v in r["revisions"][1:]]
print()
print(f"planted {planted[:12]}, found {found[:12]}: {'FOUND' if found == planted else 'MISSED'}")
print(f"tree + config: {prep} s; bisection: {run_wall} s wall, {r['total_time']:.0f} s "
      f"(build {b:.0f} s, test {t:.0f} s), {n} revisions, {sum(len(v['runs']) for v in r['revisions'])} runs")
print(f"first build {first:.0f} s, incremental builds median {statistics.median(inc) if inc else 0:.1f} s")
seed_rev, seed_b, seed_t = 16, 78 * 60, 161 * 60
print()
print("| per revision | seed run (syzbot) | this run | ratio |")
print("|---|---|---|---|")
print(f"| total | {(seed_b + seed_t) / seed_rev / 60:.1f} min | {(b + t) / n / 60:.2f} min | {((seed_b + seed_t) / seed_rev) / ((b + t) / n):.0f}x |")
print(f"| build | {seed_b / seed_rev / 60:.1f} min | {b / n / 60:.2f} min | {(seed_b / seed_rev) / (b / n):.0f}x |")
print(f"| test | {seed_t / seed_rev / 60:.1f} min | {t / n / 60:.2f} min | {(seed_t / seed_rev) / (t / n):.0f}x |")
P
