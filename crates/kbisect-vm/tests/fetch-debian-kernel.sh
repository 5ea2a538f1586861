#!/usr/bin/env bash
# Fetches a Debian distribution kernel (vmlinuz) for the qemu tester's
# boot tests without installing it: `apt-get download` + `dpkg -x` into a cache
# dir. Prints the path of the vmlinuz on stdout; exits non-zero with a
# one-line reason on stderr when it cannot.
#
#   fetch-debian-kernel.sh [CACHE_DIR]
#
# CACHE_DIR defaults to $KBISECT_CACHE_DIR/debian-kernel, else
# ~/.cache/kbisect/debian-kernel. The package is the meta-package
# $KBISECT_DEBIAN_KERNEL (default linux-image-6.12-cloud-amd64: the cloud
# flavour is a third of the size of the generic one and boots faster under
# emulation), resolved to the versioned image package apt offers today.
# Needs apt's package lists (`apt-get update` once); no root needed.
set -euo pipefail

cache="${1:-${KBISECT_CACHE_DIR:-$HOME/.cache/kbisect}/debian-kernel}"
meta="${KBISECT_DEBIAN_KERNEL:-linux-image-6.12-cloud-amd64}"

die() { echo "fetch-debian-kernel: $*" >&2; exit 1; }

command -v apt-cache >/dev/null 2>&1 || die "apt-cache not found (not a Debian system)"
command -v dpkg >/dev/null 2>&1 || die "dpkg not found"

# A versioned package (linux-image-6.12.117+deb12-cloud-amd64) depends on
# nothing named linux-image-*; a meta-package depends on exactly one.
pkg="$meta"
dep="$(apt-cache depends "$meta" 2>/dev/null | sed -n 's/^ *Depends: \(linux-image-[^ ]*\)$/\1/p' | head -n1 || true)"
[ -n "$dep" ] && pkg="$dep"
apt-cache show "$pkg" >/dev/null 2>&1 || die "apt does not know $pkg (run apt-get update, or set KBISECT_DEBIAN_KERNEL)"

dest="$cache/$pkg"
found() { ls "$dest"/boot/vmlinuz-* 2>/dev/null | head -n1; }
if [ -n "$(found)" ]; then
  found
  exit 0
fi

mkdir -p "$cache"
work="$(mktemp -d "$cache/.fetch.XXXXXX")"
trap 'rm -rf "$work"' EXIT
# apt drops privileges to _apt for downloads when run as root; that user
# cannot write into a private temp dir, so the download runs unsandboxed.
( cd "$work" && apt-get download -q -o APT::Sandbox::User=root "$pkg" >/dev/null 2>"$work/apt.err" ) \
  || die "apt-get download $pkg failed: $(tail -n1 "$work/apt.err")"
deb="$(ls "$work"/*.deb 2>/dev/null | head -n1 || true)"
[ -n "$deb" ] || die "apt-get download $pkg produced no .deb"
mkdir -p "$work/x"
dpkg -x "$deb" "$work/x" || die "dpkg -x $deb failed"
ls "$work"/x/boot/vmlinuz-* >/dev/null 2>&1 || die "$pkg holds no boot/vmlinuz-*"
# Only the kernel image is kept: the modules are 100+ MB and unused (the
# initramfs holds no modules).
mkdir -p "$work/keep/boot"
mv "$work"/x/boot/vmlinuz-* "$work/keep/boot/"
rm -rf "$dest"
mv "$work/keep" "$dest"
found
