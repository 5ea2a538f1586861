#!/usr/bin/env bash
# build.sh SRC BUILD [ccache|noccache]: one reproducible kernel build (the
# environment kbisect-kernel's `make` module uses), `nice`d; prints the
# wall time in seconds on stdout. Needs BUILD/.config.
set -euo pipefail
src=$1 build=$2 mode=${3:-noccache}
version=$(sed -n 's/^VERSION = //p' "$src/Makefile")
patchlevel=$(sed -n 's/^PATCHLEVEL = //p' "$src/Makefile")
cc=gcc
if [ "$mode" = ccache ]; then cc="ccache gcc"; fi
export KBUILD_BUILD_VERSION=0
export KBUILD_BUILD_TIMESTAMP="Thu Jan  1 00:00:00 UTC 1970"
export KBUILD_BUILD_USER=kbisect KBUILD_BUILD_HOST=kbisect
start=$(date +%s.%N)
nice -n 10 make -C "$src" O="$build" -j"$(nproc)" CC="$cc" HOSTCC=gcc \
	KERNELRELEASE="$version.$patchlevel.0-kbisect" LOCALVERSION= \
	bzImage vmlinux >"$build/build.log" 2>&1 || { tail -30 "$build/build.log" >&2; exit 1; }
end=$(date +%s.%N)
echo "$end - $start" | bc
