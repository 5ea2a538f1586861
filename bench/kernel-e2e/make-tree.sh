#!/usr/bin/env bash
# Makes the kernel end-to-end bisection case: a git repository of Debian's
# linux-source tarball (one import commit tagged like a stable release), then
# 29 commits on top with three merges and a second release tag, one of which
# plants a WARN_ON_ONCE in prctl(PR_GET_AUXV) that repro.c reaches.
#
#   make-tree.sh [TARBALL] DEST
#
# Deterministic: fixed identities and dates, so the same tarball always gives
# the same commit hashes. Prints "culprit <hash>", "good <tag>", "bad <tag>",
# "head <hash>" on stdout at the end (the test reads them).
#
# Every edit is anchored on text of the 6.12 tree and fails loudly when the
# anchor is missing (a newer tarball), never silently makes a different case.
#
# Commits (oldest first; [built] = compiled by tiny.config, [nobuild] = not,
# [code] = changes the binary, [comment] = comment appended at the end of a
# built file: no line number moves, so the vmlinux signature stays the same):
#   v6.12.117  Linux 6.12.117 (import)
#   Documentation: coding-style: ...                      [nobuild]
#   e1000e: ...                                           [nobuild]
#     docs-next: 3 Documentation commits                  [nobuild]
#   init: drop the full stop of the console warning       [built, code]
#     prctl:  kernel/sys: note on option numbering        [built, comment]
#     prctl:  prctl: warn about PR_GET_AUXV buffers ...   [built, code]  <- CULPRIT
#     prctl:  kernel/sys: note on the uname helpers       [built, comment]
#   ext4: ...                                             [nobuild]
#   Merge branch 'docs-next'
#   tcp: ...  drm: ...                                    [nobuild]
#   lib/string: ...                                       [built, comment]
#   ALSA: ...                                             [nobuild]
#   Merge branch 'prctl'
#   printk: ...                                           [built, comment]
#   v6.12.118  Linux 6.12.118 (SUBLEVEL bump; KERNELRELEASE is fixed by the builder)
#   mm/page_alloc: ...                                    [built, comment]
#     drivers-next: usb, drm, input                       [nobuild]
#   treewide: reword three rarely seen messages          [built, code: 3 .c files]
#   Documentation: admin-guide: ...                       [nobuild]
#   Merge branch 'drivers-next'
#   fork: ...                                             [built, comment]
#   perf tools: ...                                       [nobuild]
#   sched: ... (HEAD, the crash's start commit)            [built, comment]
set -euo pipefail

if [ $# -eq 1 ]; then
	tarball=/usr/src/linux-source-6.12.tar.xz
	dest=$1
elif [ $# -eq 2 ]; then
	tarball=$1
	dest=$2
else
	echo "usage: $0 [TARBALL] DEST" >&2
	exit 2
fi
[ -r "$tarball" ] || { echo "make-tree.sh: cannot read $tarball" >&2; exit 2; }
if [ -e "$dest" ] && [ -n "$(ls -A "$dest")" ]; then
	echo "make-tree.sh: $dest exists and is not empty" >&2
	exit 2
fi

mkdir -p "$dest"
tar -xJf "$tarball" -C "$dest" --strip-components=1
cd "$dest"

# Debian's .gitignore ends with a block ignoring every top-level entry
# ("/*", "!/debian/"); keep the kernel's own rules, drop that block.
awk '/^# Debian packaging/ { skip = 1 } skip && /^!\/debian\/$/ { skip = 0; next } !skip' \
	.gitignore >.gitignore.new
# The block's leading "#" line stays behind harmlessly; the rest is the kernel's.
mv .gitignore.new .gitignore

export GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null
git init -q -b master .
git config core.autocrlf false
git config gc.auto 0
git config user.name "Stable Maintainer"
git config user.email "stable-maint@example.org"
if git check-ignore -q --no-index Makefile; then
	echo "make-tree.sh: .gitignore still ignores top-level files" >&2
	exit 1
fi

base=1731830400 # 2024-11-17 08:00 UTC
step=0
stamp() {
	step=$((step + 1))
	export GIT_AUTHOR_DATE="@$((base + step * 3600)) +0000"
	export GIT_COMMITTER_DATE="$GIT_AUTHOR_DATE"
}

# commit NAME EMAIL SUBJECT BODY [TRAILER...]
commit() {
	local name=$1 email=$2 subject=$3 body=$4
	shift 4
	local msg
	# Trailers form the last paragraph, as git interpret-trailers reads them.
	msg="$subject"$'\n\n'"$body"$'\n'
	for t in "$@"; do msg+=$'\n'"$t"; done
	msg+=$'\n'"Signed-off-by: $name <$email>"
	stamp
	git add -A
	git -c user.name="$name" -c user.email="$email" commit -q -m "$msg"
}

merge() { # BRANCH SUBJECT
	stamp
	git merge -q --no-ff --no-edit -m "$2" "$1"
}

# replace FILE OLD NEW: exactly one occurrence of OLD must exist.
replace() {
	local f=$1
	OLD=$2 NEW=$3 perl -0777 -pi -e '
		my $n = () = /\Q$ENV{OLD}\E/g;
		die "make-tree.sh: expected 1 match in $ARGV, found $n\n" unless $n == 1;
		s/\Q$ENV{OLD}\E/$ENV{NEW}/;' "$f"
}

# Appends a comment at the very end of FILE: no line of code moves.
append_c() { [ -f "$1" ] || { echo "missing $1" >&2; exit 1; }; printf '\n/* %s */\n' "$2" >>"$1"; }
append_txt() { [ -f "$1" ] || { echo "missing $1" >&2; exit 1; }; printf '\n%s\n' "$2" >>"$1"; }

ALICE=("Alice Doc" "alice@example.org")
BOB=("Bob Net" "bob@example.net")
CAROL=("Carol Core" "carol@example.com")
DAVE=("Dave Drivers" "dave@example.com")
EVE=("Eve Reviewer" "eve@example.org")

# --- the release --------------------------------------------------------------
version=$(sed -n 's/^VERSION = //p' Makefile)
patchlevel=$(sed -n 's/^PATCHLEVEL = //p' Makefile)
sublevel=$(sed -n 's/^SUBLEVEL = //p' Makefile)
good_tag="v$version.$patchlevel.$sublevel"
bad_tag="v$version.$patchlevel.$((sublevel + 1))"
stamp
git add -A
git commit -q -m "Linux $version.$patchlevel.$sublevel"
git tag -a "$good_tag" -m "Linux $version.$patchlevel.$sublevel"

# --- up to the second release --------------------------------------------------
append_txt Documentation/process/coding-style.rst "Prefer the kernel's own helpers over open-coded equivalents."
commit "${ALICE[@]}" "Documentation: coding-style: prefer existing helpers" \
	"Say once that existing helpers beat open-coded loops."

append_c drivers/net/ethernet/intel/e1000e/netdev.c "The watchdog task runs every two seconds."
commit "${BOB[@]}" "e1000e: document the watchdog period" \
	"The period was only implied by the timer setup."

git branch docs-next
git checkout -q docs-next
append_txt Documentation/admin-guide/README.rst "See also the kernel-parameters document."
commit "${ALICE[@]}" "Documentation: admin-guide: point at kernel-parameters" "A cross reference readers asked for."
append_txt Documentation/filesystems/proc.rst "Fields may be added at the end of these files."
commit "${ALICE[@]}" "Documentation: proc: fields may be appended" "State the compatibility rule."
append_txt Documentation/process/howto.rst "Patches are reviewed on the mailing lists."
commit "${ALICE[@]}" "Documentation: howto: where review happens" "One line for newcomers."
git checkout -q master

replace init/main.c 'pr_err("Warning: unable to open an initial console.\n");' \
	'pr_err("Warning: unable to open an initial console\n");'
commit "${CAROL[@]}" "init: drop the full stop of the console warning" \
	"Kernel messages do not end with a full stop."

git branch prctl
git checkout -q prctl
append_c kernel/sys.c "prctl option numbers are ABI: new options only ever get new numbers."
commit "${CAROL[@]}" "kernel/sys: note on prctl option numbering" "Comment only."
# The planted bug: a sanity check that userspace can trip at will.
replace kernel/sys.c \
	'	unsigned long size = min_t(unsigned long, sizeof(mm->saved_auxv), len);

	if (size && copy_to_user(addr, mm->saved_auxv, size))' \
	'	unsigned long size = min_t(unsigned long, sizeof(mm->saved_auxv), len);

	/* A buffer that cannot hold one (type, value) pair is a caller bug. */
	WARN_ON_ONCE(len && len < 2 * sizeof(unsigned long));
	if (size && copy_to_user(addr, mm->saved_auxv, size))'
commit "${CAROL[@]}" "prctl: warn about PR_GET_AUXV buffers too short for an entry" \
	"A buffer shorter than one auxv entry cannot be what the caller meant:
make such calls visible." \
	"Reviewed-by: ${EVE[0]} <${EVE[1]}>" "Cc: stable@vger.kernel.org"
append_c kernel/sys.c "The uname helpers above copy at most __NEW_UTS_LEN + 1 bytes."
commit "${CAROL[@]}" "kernel/sys: note on the uname helpers" "Comment only."
git checkout -q master

append_c fs/ext4/super.c "Journal checksums are verified before replay."
commit "${DAVE[@]}" "ext4: note when journal checksums are verified" "Comment only."
merge docs-next "Merge branch 'docs-next'"
append_c net/ipv4/tcp.c "tcp_poll() must not sleep."
commit "${BOB[@]}" "tcp: say that tcp_poll() must not sleep" "Comment only."
append_c drivers/gpu/drm/drm_drv.c "drm_dev_unplug() may be called with open files."
commit "${DAVE[@]}" "drm: document drm_dev_unplug() with open files" "Comment only."
append_c lib/string.c "Architectures may override any of the helpers above."
commit "${CAROL[@]}" "lib/string: architectures may override helpers" "Comment only."
append_c sound/core/init.c "Cards are freed once the last file is closed."
commit "${DAVE[@]}" "ALSA: core: when cards are freed" "Comment only."
merge prctl "Merge branch 'prctl'"
append_c kernel/printk/printk.c "The console lock is not taken from NMI context."
commit "${CAROL[@]}" "printk: note on NMI context" "Comment only."

replace Makefile "SUBLEVEL = $sublevel" "SUBLEVEL = $((sublevel + 1))"
stamp
git commit -q -a -m "Linux $version.$patchlevel.$((sublevel + 1))"
git tag -a "$bad_tag" -m "Linux $version.$patchlevel.$((sublevel + 1))"

# --- after the second release ---------------------------------------------------
append_c mm/page_alloc.c "Watermarks are recomputed when min_free_kbytes changes."
commit "${CAROL[@]}" "mm/page_alloc: when watermarks are recomputed" "Comment only."

git branch drivers-next
git checkout -q drivers-next
append_c drivers/usb/core/hub.c "Port power is switched per port where the hub supports it."
commit "${DAVE[@]}" "usb: hub: per-port power switching note" "Comment only."
append_c drivers/gpu/drm/drm_file.c "Events are dropped when the file is closed."
commit "${DAVE[@]}" "drm: file: closed files drop events" "Comment only."
append_c drivers/input/input.c "Handlers see events in registration order."
commit "${DAVE[@]}" "Input: event order note" "Comment only."
git checkout -q master

replace init/main.c 'pr_err("Failed to execute %s (error %d)\n",
		       ramdisk_execute_command, ret);' \
	'pr_err("Failed to execute %s (error %d) from the initramfs\n",
		       ramdisk_execute_command, ret);'
replace kernel/panic.c '"panic_on_taint: bitmask=0x%lx nousertaint_mode=%s\n"' \
	'"panic_on_taint: bitmask=0x%lx, nousertaint_mode=%s\n"'
replace fs/exec.c "with NULL argv: empty string added" "with NULL argv: added an empty string"
commit "${CAROL[@]}" "treewide: reword three rarely seen messages" \
	"Touches init/main.c, kernel/panic.c and fs/exec.c."
append_txt Documentation/admin-guide/sysrq.rst "The sysrq key is disabled by default on some distributions."
commit "${ALICE[@]}" "Documentation: sysrq: default state varies" "One line."
merge drivers-next "Merge branch 'drivers-next'"
append_c kernel/fork.c "copy_process() is the only place a task_struct is born."
commit "${CAROL[@]}" "fork: where tasks are born" "Comment only."
append_c tools/perf/builtin-record.c "The ring buffer size is rounded to a power of two."
commit "${BOB[@]}" "perf record: ring buffer rounding note" "Comment only."
append_c kernel/sched/core.c "The runqueue lock nests inside pi_lock."
commit "${CAROL[@]}" "sched: lock nesting note" "Comment only."

culprit=$(git log --format=%H -1 --grep='^prctl: warn about PR_GET_AUXV' prctl)
git branch -q -D docs-next prctl drivers-next
echo "culprit $culprit"
echo "good $good_tag"
echo "bad $bad_tag"
echo "head $(git rev-parse HEAD)"
echo "commits $(git rev-list --count "$good_tag"..HEAD)"
