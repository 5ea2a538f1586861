#!/usr/bin/env bash
# Kernel build figures for kbisect's end-to-end case, measured side by side in
# one run: clean, no-op and incremental builds, a header change with and
# without ccache, and whether the vmlinux signature is stable.
#
#   measure.sh WORKDIR        (WORKDIR/linux is made with make-tree.sh if missing)
#
# Builds use build.sh (kbisect-kernel's reproducible environment, nice -n 10)
# with tiny.config merged over `make tinyconfig`. Two build dirs are used:
# WORKDIR/build-plain (gcc) and WORKDIR/build-ccache (ccache gcc, cache in
# WORKDIR/ccache, emptied first). Prints a table; objects = "CC" lines in the log.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
work=${1:?usage: measure.sh WORKDIR}
mkdir -p "$work"
work=$(cd "$work" && pwd)
src=$work/linux
[ -d "$src/.git" ] || "$here/make-tree.sh" "$src" >"$work/make-tree.out"
export GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null
git -C "$src" config user.name bench
git -C "$src" config user.email bench@example.org
git -C "$src" checkout -q --detach master

plain=$work/build-plain
cached=$work/build-ccache
export CCACHE_DIR=$work/ccache
rm -rf "$plain" "$cached" "$CCACHE_DIR"

rev() { git -C "$src" log --format=%H -1 --grep="$1" master; }
good=$(git -C "$src" tag --sort=v:refname | head -1)
second=$(git -C "$src" tag --sort=v:refname | tail -1)
printk=$(git -C "$src" rev-parse "$second^")
mmnote=$(rev '^mm/page_alloc: when watermarks')
treewide=$(rev '^treewide: reword three')
treewide_parent=$(git -C "$src" rev-parse "$treewide^")

# Scratch commits (detached, not on master): a header change, and comments
# that move lines of code in a file with WARN sites and in one without.
scratch() { # BASE FILE PERL-EXPR SUBJECT
	git -C "$src" checkout -q --detach "$1"
	perl -0777 -pi -e "$3" "$src/$2"
	git -C "$src" commit -q -a -m "$4"
	git -C "$src" rev-parse HEAD
}
header=$(scratch "$treewide" include/linux/kernel.h \
	's/(#endif\s*$)/static inline int kbisect_bench_unused(int x)\n{\n\treturn x + 1;\n}\n\n$1/' \
	"bench: a header change (kernel.h)")
movesys=$(scratch "$second" kernel/sys.c 's/^/\/* Two lines of comment that move\n * every line below. *\/\n/' \
	"bench: comment moving kernel/sys.c lines")
movesort=$(scratch "$second" lib/sort.c 's/^/\/* Two lines of comment that move\n * every line below. *\/\n/' \
	"bench: comment moving lib/sort.c lines")
git -C "$src" checkout -q --detach master

config() { # BUILD-DIR
	mkdir -p "$1"
	make -s -C "$src" O="$1" tinyconfig >/dev/null
	cat "$here/tiny.config" >>"$1/.config"
	make -s -C "$src" O="$1" olddefconfig >/dev/null 2>&1
	grep -v '^#' "$here/tiny.config" | grep . | while read -r line; do
		grep -qxF "$line" "$1/.config" || { echo "olddefconfig dropped $line" >&2; exit 1; }
	done
}

rows=()
build() { # LABEL REV DIR MODE
	git -C "$src" checkout -q --detach "$2"
	local t objs sig
	t=$("$here/build.sh" "$src" "$3" "$4")
	objs=$(grep -c '^  CC ' "$3/build.log" || true)
	sig=$("$here/sig.py" "$3/vmlinux")
	rows+=("$(printf '%-52s %8.1f %6s  %s' "$1" "$t" "$objs" "${sig:0:16}")")
	printf '%s\n' "${rows[-1]}" >&2
	eval "sig_$5=$sig"
}

config "$plain"
config "$cached"
build "clean, gcc (v6.12.117)" "$good" "$plain" noccache p_good
build "no-op rebuild, gcc" "$good" "$plain" noccache p_noop
build "clean, ccache cold" "$good" "$cached" ccache c_good
rm -rf "$cached" && config "$cached"
build "clean, ccache warm" "$good" "$cached" ccache c_warm
build "incr. to $second^ (printk comment)" "$printk" "$plain" noccache p_printk
build "incr. to $second (SUBLEVEL bump only)" "$second" "$plain" noccache p_second
build "incr. mm/page_alloc comment appended" "$mmnote" "$plain" noccache p_mm
build "incr. comment moving kernel/sys.c lines" "$movesys" "$plain" noccache p_movesys
build "incr. comment moving lib/sort.c lines" "$movesort" "$plain" noccache p_movesort
build "incr. to treewide^" "$treewide_parent" "$plain" noccache p_twp
build "incr. treewide (3 .c files), gcc" "$treewide" "$plain" noccache p_tw
build "header change (kernel.h), gcc" "$header" "$plain" noccache p_hdr
build "header change back, gcc" "$treewide" "$plain" noccache p_hdr_back
build "incr. to treewide, ccache" "$treewide" "$cached" ccache c_tw
build "header change, ccache cold" "$header" "$cached" ccache c_hdr
build "header change back, ccache warm" "$treewide" "$cached" ccache c_hdr_back
build "header change again, ccache warm" "$header" "$cached" ccache c_hdr_again
git -C "$src" checkout -q --detach master

same() { if [ "$1" = "$2" ]; then echo same; else echo DIFFERENT; fi; }
echo
printf '%-52s %8s %6s  %s\n' "build" "seconds" "objs" "signature"
printf '%s\n' "${rows[@]}"
echo
echo "same revision, three builds, two build dirs:   $(same "$sig_p_good" "$sig_c_good") / $(same "$sig_p_good" "$sig_c_warm")"
echo "no-op rebuild:                                 $(same "$sig_p_good" "$sig_p_noop")"
echo "release commit (SUBLEVEL bump) vs its parent:  $(same "$sig_p_printk" "$sig_p_second")"
echo "comment appended at end of mm/page_alloc.c:    $(same "$sig_p_second" "$sig_p_mm")"
echo "comment moving lines of kernel/sys.c (WARNs):  $(same "$sig_p_second" "$sig_p_movesys")"
echo "comment moving lines of lib/sort.c (no WARN):  $(same "$sig_p_second" "$sig_p_movesort")"
echo "treewide message rewording (code change):      $(same "$sig_p_twp" "$sig_p_tw")"
echo "gcc vs ccache gcc, same revision:               $(same "$sig_p_tw" "$sig_c_tw")"
echo "ccache: $(ccache -s 2>/dev/null | grep -E 'Hits|Misses' | tr -s ' ' | paste -sd' ')"
