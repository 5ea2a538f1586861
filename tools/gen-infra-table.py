#!/usr/bin/env python3
"""Generate kbisect-report's table of kernel infrastructure functions.

A stack frame is skipped when choosing the guilty function if the function
is kernel infrastructure: code that other code calls as a service and that
detects or suffers a bug without being its cause. "Infrastructure" is decided
by WHERE THE KERNEL DEFINES THE FUNCTION, not by one log that needed it:

  all       every function defined in the file (pure helpers, the sanitizers'
            and the oops path's machinery, locking primitives);
  exported  the file's EXPORT_SYMBOL*() functions only: the entry points other
            code calls (allocators, the driver core). Their internals are
            not listed: a crash inside an allocator's own code is titled
            after it.

Either way a function whose body holds a WARN/BUG is left out (it is where
the kernel reports the bug), and so are a few exported names that are not
service entry points (EXCLUDE below).

A name ending in `_noprof` (6.10+ allocation profiling) is also listed without
the suffix, the name the same entry point had in earlier kernels.

Also generated: the section labels of the kernel's linker scripts
(`__softirqentry_text_start`, `_etext`, ...). kallsyms can print one of them
in place of the first function of a section; they are not functions.

Usage:
  tools/gen-infra-table.py /path/to/linux > crates/kbisect-report/src/infra_table.rs

The committed output was generated from Debian's linux-source-6.12
(6.12.117-1~deb12u1). Needs only Python 3.
"""

import glob
import os
import re
import sys

# (glob relative to the kernel tree, scope, why). Globs that match nothing are
# an error: the list must stay true to the kernel it is run against.
FILES = [
    # String, memory, number and formatting helpers: they read or write
    # what the caller handed them.
    ("lib/string.c", "all", "string and memory helpers"),
    ("lib/string_helpers.c", "all", "string escaping, fortify reports"),
    ("lib/vsprintf.c", "all", "printf engine"),
    ("lib/kstrtox.c", "all", "number parsing"),
    ("lib/hexdump.c", "all", "hex dumps"),
    ("lib/ctype.c", "all", "character classes"),
    ("lib/memcat_p.c", "all", "pointer array concatenation"),
    ("lib/sort.c", "all", "sorting"),
    ("lib/bsearch.c", "all", "binary search"),
    ("lib/crc*.c", "all", "checksums"),
    ("arch/x86/lib/mem*_64.S", "all", "x86 memcpy/memmove/memset"),
    ("arch/x86/lib/copy_user*.S", "all", "x86 user copies"),
    ("arch/x86/lib/copy_mc_64.S", "all", "x86 machine-check safe copies"),
    ("arch/x86/lib/getuser.S", "all", "x86 get_user"),
    ("arch/x86/lib/putuser.S", "all", "x86 put_user"),
    ("arch/x86/lib/usercopy*.c", "all", "x86 user copies"),
    ("arch/x86/lib/retpoline.S", "all", "x86 retpoline thunks"),
    ("arch/arm64/lib/mem*.S", "all", "arm64 memory routines"),
    ("arch/arm64/lib/str*.S", "all", "arm64 string routines"),
    ("arch/arm64/lib/c*_user.S", "all", "arm64 user copies"),
    ("arch/arm64/lib/copy_*_user.S", "all", "arm64 user copies"),
    # User copies and iterators over caller buffers.
    ("lib/usercopy.c", "all", "user copies"),
    ("lib/strncpy_from_user.c", "all", "user string copies"),
    ("lib/strnlen_user.c", "all", "user string length"),
    ("mm/usercopy.c", "all", "hardened usercopy checks"),
    # Lists, trees and reference counts: they report the corruption their
    # caller caused.
    ("lib/list_debug.c", "all", "list corruption checks"),
    ("lib/llist.c", "all", "lock-less lists"),
    ("lib/plist.c", "all", "priority lists"),
    ("lib/klist.c", "all", "klists"),
    ("lib/rbtree.c", "all", "red-black trees"),
    ("lib/refcount.c", "all", "refcount_t"),
    ("lib/percpu-refcount.c", "all", "percpu refcounts"),
    ("lib/lockref.c", "all", "lockref"),
    ("lib/kobject.c", "all", "kobjects"),
    ("lib/kobject_uevent.c", "all", "kobject uevents"),
    ("lib/ref_tracker.c", "all", "reference trackers"),
    # Debugging, reporting and the oops path.
    ("lib/debugobjects.c", "all", "debug objects"),
    ("lib/dump_stack.c", "all", "dump_stack"),
    ("lib/bug.c", "all", "BUG/WARN traps"),
    ("lib/nmi_backtrace.c", "all", "NMI backtraces"),
    ("lib/smp_processor_id.c", "all", "preemption checks"),
    ("lib/stackdepot.c", "all", "stack depot"),
    ("lib/ubsan.c", "all", "UBSAN runtime"),
    ("kernel/panic.c", "all", "panic and WARN"),
    ("kernel/stacktrace.c", "all", "stack traces"),
    ("kernel/kcsan/core.c", "all", "KCSAN runtime"),
    ("kernel/kcsan/report.c", "all", "KCSAN reports"),
    ("kernel/kcsan/debugfs.c", "all", "KCSAN control"),
    ("kernel/kcsan/encoding.h", "all", "KCSAN runtime"),
    ("mm/kasan/common.c", "all", "KASAN runtime"),
    ("mm/kasan/generic.c", "all", "KASAN runtime"),
    ("mm/kasan/report*.c", "all", "KASAN reports"),
    ("mm/kasan/shadow.c", "all", "KASAN shadow"),
    ("mm/kasan/*tags*.c", "all", "KASAN tag modes"),
    ("mm/kasan/init.c", "all", "KASAN init"),
    ("mm/kmsan/core.c", "all", "KMSAN runtime"),
    ("mm/kmsan/hooks.c", "all", "KMSAN hooks"),
    ("mm/kmsan/instrumentation.c", "all", "KMSAN instrumentation"),
    ("mm/kmsan/report.c", "all", "KMSAN reports"),
    ("mm/kmsan/shadow.c", "all", "KMSAN shadow"),
    ("mm/kmsan/init.c", "all", "KMSAN init"),
    ("mm/kfence/core.c", "all", "KFENCE runtime"),
    ("mm/kfence/report.c", "all", "KFENCE reports"),
    ("mm/kmemleak.c", "all", "kmemleak"),
    ("arch/x86/kernel/dumpstack*.c", "all", "x86 stack dumps"),
    ("arch/x86/kernel/stacktrace.c", "all", "x86 stack traces"),
    ("arch/x86/kernel/traps.c", "all", "x86 trap handlers"),
    ("arch/x86/mm/fault.c", "all", "x86 page-fault handler"),
    ("arch/x86/mm/extable.c", "all", "x86 exception fixups"),
    ("arch/arm64/kernel/stacktrace.c", "all", "arm64 stack traces"),
    ("arch/arm64/kernel/traps.c", "all", "arm64 trap handlers"),
    ("arch/arm64/mm/fault.c", "all", "arm64 fault handlers"),
    ("arch/arm64/mm/extable.c", "all", "arm64 exception fixups"),
    # Locking primitives.
    ("kernel/locking/lockdep.c", "all", "lockdep"),
    ("kernel/locking/mutex.c", "all", "mutexes"),
    ("kernel/locking/mutex-debug.c", "all", "mutexes"),
    ("kernel/locking/rwsem.c", "all", "rw-semaphores"),
    ("kernel/locking/semaphore.c", "all", "semaphores"),
    ("kernel/locking/spinlock.c", "all", "spinlocks"),
    ("kernel/locking/spinlock_debug.c", "all", "spinlocks"),
    ("kernel/locking/spinlock_rt.c", "all", "spinlocks (RT)"),
    ("kernel/locking/qspinlock.c", "all", "queued spinlocks"),
    ("kernel/locking/qrwlock.c", "all", "queued rwlocks"),
    ("kernel/locking/osq_lock.c", "all", "optimistic spin queues"),
    ("kernel/locking/rtmutex*.c", "all", "rt-mutexes"),
    ("kernel/locking/rwbase_rt.c", "all", "RT rw locks"),
    ("kernel/locking/ww_rt_mutex.c", "all", "ww-mutexes (RT)"),
    ("kernel/locking/percpu-rwsem.c", "all", "percpu rw-semaphores"),
    ("kernel/locking/irqflag-debug.c", "all", "irq flag checks"),
    # Allocators: their API entry points.
    ("mm/slub.c", "exported", "slab allocator API"),
    ("mm/slab_common.c", "all", "kmalloc/kfree front ends"),
    ("mm/util.c", "exported", "kstrdup/kmemdup/kvmalloc"),
    ("mm/page_alloc.c", "exported", "page allocator API"),
    ("mm/vmalloc.c", "exported", "vmalloc API"),
    ("mm/mempool.c", "all", "mempools"),
    ("mm/percpu.c", "exported", "percpu allocator API"),
    # Waiting for a completion.
    ("kernel/sched/completion.c", "all", "completions"),
    # The driver core: device registration and teardown.
    ("drivers/base/core.c", "exported", "driver core"),
    ("drivers/base/bus.c", "exported", "driver core buses"),
    ("drivers/base/dd.c", "exported", "driver binding"),
    ("drivers/base/driver.c", "exported", "driver core"),
    ("drivers/base/class.c", "exported", "device classes"),
    ("drivers/base/devres.c", "all", "managed resources"),
]

# Whole-page operations (clear_page, copy_page) are not listed: a fault
# there is a bad page, and is titled after them.
#
# Not listed, because the kernel's own bugs live there and syzbot titles them
# so: the unwinders (arch/x86/kernel/unwind_*.c: a KASAN report in
# __unwind_start is an unwinder bug), wait queues (kernel/sched/wait.c: a
# use-after-free in remove_wait_queue is a freed wait-queue head), the KASAN
# quarantine (mm/kasan/quarantine.c), timerqueue and radix-tree internals.

# Nor the API of timers, hrtimers, kthreads, RCU, workqueues, sysfs, IDR,
# XArray, bitmaps and iov_iter: a crash in hrtimer_active() or idr_find() is
# titled after it (the parser's name rules cover the entry points that are
# plumbing, such as queue_work_on() or del_timer_sync()).

# Exported names that are not allocator or helper entry points: lockdep
# pseudo-lock annotations, which lockdep reports name as the place a "lock"
# was taken, and mm/util.c's folio, mmap and accounting helpers.
EXCLUDE = {
    "fs_reclaim_acquire": "lockdep annotation of the reclaim pseudo-lock",
    "fs_reclaim_release": "lockdep annotation of the reclaim pseudo-lock",
    "folio_mapping": "mm/util.c, not an allocator",
    "flush_dcache_folio": "mm/util.c, not an allocator",
    "folio_copy": "mm/util.c, not an allocator",
    "folio_mc_copy": "mm/util.c, not an allocator",
    "vm_mmap": "mm/util.c, not an allocator",
    "vma_set_file": "mm/util.c, not an allocator",
    "account_locked_vm": "mm/util.c, not an allocator",
    "page_offline_begin": "mm/util.c, not an allocator",
    "page_offline_end": "mm/util.c, not an allocator",
    "vm_memory_committed": "mm/util.c, not an allocator",
}

# A function whose own body holds a WARN/BUG is where the kernel says the bug
# shows (e.g. iov_iter_revert, kmem_cache_destroy): it is titled after itself
# unless the parser's name rules or a dedicated report format skip it. So the
# table leaves such detection sites out.
CHECK_RE = re.compile(r"\b(?:WARN|WARN_ON|WARN_ONCE|WARN_ON_ONCE|WARN_RATELIMIT|BUG|BUG_ON|"
                      r"VM_BUG_ON\w*|VM_WARN\w*|DEBUG_LOCKS_WARN_ON|SCHED_WARN_ON|"
                      r"RCU_LOCKDEP_WARN|KASAN_BUG_ON|KFENCE_WARN_ON|WARN_ON_FUNCTION_MISMATCH)\s*\(")

# Function-like macros that prefix a definition without naming it.
ATTR_MACROS = {
    "__attribute__", "__printf", "__scanf", "__section", "__aligned", "__acquires",
    "__releases", "__must_hold", "__alloc_size", "__diag_ignore", "__no_sanitize_address",
    "__assume_aligned", "__realloc_size", "__cond_acquires", "__counted_by", "asm",
    "__nocfi", "__bpf_kfunc", "__weak", "__malloc", "__always_unused",
}

KEYWORDS = {"if", "for", "while", "switch", "return", "sizeof", "do", "else", "typeof"}

COMMENT_RE = re.compile(r"/\*.*?\*/|//[^\n]*", re.S)
STRING_RE = re.compile(r'"(?:\\.|[^"\\\n])*"|\'(?:\\.|[^\'\\\n])*\'')
PREPROC_RE = re.compile(r"^[ \t]*#(?:[^\n]*\\\n)*[^\n]*", re.M)
EXPORT_RE = re.compile(r"\bEXPORT_(?:SYMBOL|SYMBOL_GPL|SYMBOL_NS|SYMBOL_NS_GPL|SYMBOL_FOR_MODULES)\s*\(\s*([A-Za-z_][A-Za-z0-9_]*)")
ASM_FUNC_RE = re.compile(r"\b(?:SYM_FUNC_START(?:_LOCAL|_WEAK|_NOALIGN|_LOCAL_NOALIGN)?|SYM_TYPED_FUNC_START|SYM_CODE_START(?:_LOCAL|_NOALIGN)?|SYM_FUNC_ALIAS(?:_WEAK|_MEMFUNC)?|ENTRY|SYM_INNER_LABEL(?:_ALIGN)?)\s*\(\s*([A-Za-z_][A-Za-z0-9_]*)")
IDENT_BEFORE_PAREN = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)\s*\($")
LABEL_RE = re.compile(r"\b(_{0,3}[A-Za-z_][A-Za-z0-9_]*)\s*=\s*\.\s*;")


def strip_c(text):
    # Keep line structure; preprocessor directives (with continuations) and
    # comments go, string literals become empty.
    text = COMMENT_RE.sub(lambda m: "\n" * m.group(0).count("\n"), text)
    text = STRING_RE.sub('""', text)
    return PREPROC_RE.sub("", text)


def c_functions(text):
    """Names of the functions a C file defines (bodies at file scope)."""
    return [name for name, _ in c_definitions(text)]


def c_definitions(text):
    """(name, body) of the functions a C file defines."""
    src = strip_c(text)
    defs = []
    depth = 0
    head_start = 0
    name, body_start = None, 0
    i = 0
    n = len(src)
    while i < n:
        c = src[i]
        if c == "{":
            if depth == 0:
                name = definition_name(src[head_start:i])
                body_start = i
            depth += 1
        elif c == "}":
            depth = max(0, depth - 1)
            if depth == 0:
                if name:
                    defs.append((name, src[body_start : i + 1]))
                name = None
                head_start = i + 1
        elif c == ";" and depth == 0:
            head_start = i + 1
        i += 1
    return defs


def definition_name(head):
    """The function name of a definition head, or None (struct, initializer...)."""
    head = head.strip()
    if not head or "=" in top_level(head):
        return None
    # Walk the top-level parenthesis groups; the function's own parameter
    # list is the first group not opened by an attribute macro.
    depth = 0
    for j, c in enumerate(head):
        if c == "(":
            if depth == 0:
                m = IDENT_BEFORE_PAREN.search(head[: j + 1])
                if m:
                    ident = m.group(1)
                    if ident in ATTR_MACROS or ident.startswith("__attribute"):
                        pass
                    elif ident in KEYWORDS or ident.isupper():
                        return None
                    else:
                        return ident
            depth += 1
        elif c == ")":
            depth -= 1
    return None


def top_level(s):
    """The characters of `s` outside parentheses and brackets."""
    out, depth = [], 0
    for c in s:
        if c in "([":
            depth += 1
        elif c in ")]":
            depth -= 1
        elif depth == 0:
            out.append(c)
    return "".join(out)


def asm_functions(text):
    return [m.group(1) for m in ASM_FUNC_RE.finditer(COMMENT_RE.sub("", text))]


def exported(text):
    return [m.group(1) for m in EXPORT_RE.finditer(COMMENT_RE.sub("", text))]


def with_legacy_names(names):
    out = set(names)
    for n in names:
        if n.endswith("_noprof"):
            out.add(n[: -len("_noprof")])
    return out


def linker_labels(root):
    labels = set()
    for pat in ["include/asm-generic/vmlinux.lds.h", "arch/x86/kernel/vmlinux.lds.S",
                "arch/arm64/kernel/vmlinux.lds.S"]:
        path = os.path.join(root, pat)
        if not os.path.exists(path):
            sys.exit("missing %s" % pat)
        for m in LABEL_RE.finditer(open(path, errors="replace").read()):
            name = m.group(1)
            if name != "." and not name.isupper():
                labels.add(name)
    return labels


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    root = sys.argv[1]
    version = kernel_version(root)
    rows = []
    for pat, scope, why in FILES:
        paths = sorted(glob.glob(os.path.join(root, pat)))
        paths = [p for p in paths if "test" not in os.path.basename(p)]
        if not paths:
            sys.exit("no file matches %s" % pat)
        for path in paths:
            rel = os.path.relpath(path, root)
            text = open(path, errors="replace").read()
            checks = set()
            if path.endswith(".S"):
                defined = asm_functions(text) + exported(text)
            else:
                defs = c_definitions(text)
                defined = [d for d, _ in defs]
                checks = {d for d, body in defs if CHECK_RE.search(body)}
            if scope == "exported":
                names = set(exported(text)) & set(defined) or set(exported(text))
            else:
                names = set(defined)
            names = with_legacy_names(names - checks - set(EXCLUDE))
            if names:
                rows.append((rel, scope, why, sorted(names)))
    labels = sorted(linker_labels(root))
    emit(version, rows, labels)


def kernel_version(root):
    mk = open(os.path.join(root, "Makefile")).read()
    parts = [re.search(r"^%s = *(\S*)" % k, mk, re.M) for k in ("VERSION", "PATCHLEVEL", "SUBLEVEL")]
    return ".".join(p.group(1) for p in parts if p)


def emit(version, rows, labels):
    out = sys.stdout
    total = sum(len(r[3]) for r in rows)
    out.write("//! GENERATED by `tools/gen-infra-table.py` from Linux %s (Debian\n" % version)
    out.write("//! linux-source-6.12). Do not edit: change the script and re-run it.\n")
    out.write("//!\n")
    out.write("//! Kernel infrastructure by where the kernel defines it: every function of\n")
    out.write("//! the `all` files, the exported entry points of the `exported` ones (%d\n" % total)
    out.write("//! names). See the script for why each file is listed.\n\n")
    out.write("/// (file, scope, why, space-separated function names).\n")
    out.write("#[rustfmt::skip]\n")
    out.write("pub(crate) static INFRA_FILES: &[(&str, &str, &str, &str)] = &[\n")
    for rel, scope, why, names in rows:
        out.write('    ("%s", "%s", "%s",\n     "%s"),\n' % (rel, scope, why, " ".join(names)))
    out.write("];\n\n")
    out.write("/// Section labels of the linker scripts (not functions).\n")
    out.write("#[rustfmt::skip]\n")
    out.write('pub(crate) static SECTION_LABELS: &str = "%s";\n' % " ".join(labels))


if __name__ == "__main__":
    main()
