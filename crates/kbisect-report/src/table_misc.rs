//! Formats for every other header: faults and traps of all architectures,
//! `kernel BUG`, panics, UBSAN, reboots, netdev leaks, fuzzer failures and
//! Go runtime panics.

use crate::oops_table::{Extractor, FormatDef as F, OopsDef, TRACE};
use crate::table_bug::{CALL_TRACE, RIP_TRACE};

const BAD_ACCESS: &[&str] = &["bad-access in {F}"];
/// ARM: the faulting PC, then the backtrace.
const ARM_PARTS: &[&str] = &["{{RIP}}", "{{CALLTRACE}}", TRACE];
const LIST_SKIP: &[&str] = &["^__list_", "^list_", "^__hlist_", "^hlist_"];
const USERCOPY_SKIP: &[&str] = &[
    "^usercopy_",
    "^__check_heap_object",
    "^check_heap_object",
    "^__check_object_size",
    "^check_object_size",
    "^check_copy_size",
    "^__virt_addr_valid",
    "^check_stack_object",
];
const RUST_PANIC_SKIP: &[&str] = &[
    "^rust_",
    "^_R",
    "^core::",
    "rust_begin_unwind",
    "^__rustc::",
    "^kernel::panic",
    "rust_panic",
    "^<core::",
];
const UBSAN_SKIP: &[&str] = &["^ubsan", "^__ubsan", "^handle_overflow", "^val_to_string"];

pub(crate) static OOPSES: &[OopsDef] = &[
    OopsDef {
        header: "general protection fault",
        suppress: &[],
        formats: &[F::new(r"general protection fault", "general protection fault in {F}").alt(BAD_ACCESS).stack(RIP_TRACE, &[])],
    },
    OopsDef {
        header: "stack segment: ",
        suppress: &[],
        formats: &[F::new(r"stack segment: ", "stack segment fault in {F}").stack(RIP_TRACE, &[])],
    },
    OopsDef {
        header: "Unable to handle kernel",
        suppress: &[],
        formats: &[
            F::new(r"Unable to handle kernel NULL pointer dereference", "BUG: unable to handle kernel NULL pointer dereference in {F}")
                .alt(BAD_ACCESS)
                .stack(ARM_PARTS, &[]),
            F::new(r"Unable to handle kernel access to user memory", "BUG: unable to handle kernel access to user memory in {F}")
                .alt(BAD_ACCESS)
                .stack(ARM_PARTS, &[]),
            // Every other fault of arch/arm64/mm/fault.c (paging request,
            // write to read-only memory, execute from non-executable memory,
            // read from unreadable memory, execution of user memory), of
            // arm, riscv and s390: x86 titles all of them as paging requests.
            F::new(r"Unable to handle kernel [a-z]", "BUG: unable to handle kernel paging request in {F}")
                .alt(BAD_ACCESS)
                .stack(ARM_PARTS, &[]),
        ],
    },
    OopsDef {
        header: "kernel BUG",
        suppress: &[],
        formats: &[
            F::new(r"kernel BUG at lib/list_debug\.c", "BUG: corrupted list in {F}").alt(BAD_ACCESS).stack(RIP_TRACE, LIST_SKIP),
            F::new(r"kernel BUG at mm/usercopy\.c", "BUG: bad usercopy in {F}").stack(RIP_TRACE, USERCOPY_SKIP),
            F::new(r"kernel BUG", "kernel BUG in {F}").stack(RIP_TRACE, &[]),
        ],
    },
    OopsDef {
        header: "Kernel BUG",
        suppress: &[],
        formats: &[F::new(r"Kernel BUG", "kernel BUG in {F}").stack(ARM_PARTS, &[])],
    },
    OopsDef {
        header: "list_del corruption",
        suppress: &[],
        formats: &[F::new(r"list_del corruption", "BUG: corrupted list in {F}").alt(BAD_ACCESS).stack(RIP_TRACE, LIST_SKIP)],
    },
    OopsDef {
        header: "list_add corruption",
        suppress: &[],
        formats: &[F::new(r"list_add corruption", "BUG: corrupted list in {F}").alt(BAD_ACCESS).stack(RIP_TRACE, LIST_SKIP)],
    },
    OopsDef {
        header: "divide error:",
        suppress: &[],
        formats: &[F::new(r"divide error:", "divide error in {F}").stack(RIP_TRACE, &[])],
    },
    OopsDef {
        header: "divide_error:",
        suppress: &[],
        formats: &[F::new(r"divide_error:", "divide error in {F}").stack(RIP_TRACE, &[])],
    },
    OopsDef {
        header: "Object already free",
        suppress: &[],
        formats: &[F::new(r"BUG [^\n]*: Object already free", "BUG: Object already free")],
    },
    OopsDef {
        header: "invalid opcode:",
        suppress: &[],
        formats: &[F::new(r"invalid opcode:", "invalid opcode in {F}").stack(RIP_TRACE, &[])],
    },
    OopsDef {
        header: "UBSAN:",
        suppress: &[],
        formats: &[
            F::new(r"UBSAN: Undefined behaviour in", "UBSAN: undefined-behaviour in {F}").stack(CALL_TRACE, UBSAN_SKIP),
            F::new(r"UBSAN: array-index-out-of-bounds in", "UBSAN: array-index-out-of-bounds in {F}")
                .alt(BAD_ACCESS)
                .stack(CALL_TRACE, UBSAN_SKIP),
            F::new(r"UBSAN: ([a-z\-]+) in", "UBSAN: {1} in {F}").stack(CALL_TRACE, UBSAN_SKIP),
        ],
    },
    OopsDef {
        header: "PANIC: double fault",
        suppress: &[],
        formats: &[F::new(r"PANIC: double fault", "PANIC: double fault in {F}").stack(&["{{RIP}}"], &[]).corrupted()],
    },
    OopsDef {
        header: "Kernel panic",
        suppress: &[],
        formats: &[
            F::new(r"Kernel panic - not syncing: Attempted to kill init!", "kernel panic: Attempted to kill init!").no_stack(),
            F::new(r"Kernel panic - not syncing: Couldn't open N_TTY ldisc", "kernel panic: Couldn't open N_TTY ldisc").no_stack(),
            F::new(r"Kernel panic - not syncing: stack-protector: Kernel stack is corrupted in: (?:0x)?[0-9a-f]{8,}", "kernel panic: stack is corrupted in {F}")
                .stack(CALL_TRACE, &["^__stack_chk_fail"]),
            F::new(r"Kernel panic - not syncing: stack-protector: Kernel stack is corrupted in: {{FUNC}}", "kernel panic: stack is corrupted in {1}")
                .no_stack(),
            F::new(r"Kernel panic - not syncing: stack-protector: Kernel stack is corrupted in: ([a-zA-Z0-9_]+)", "kernel panic: stack is corrupted in {1}")
                .no_stack(),
            F::new(r"Kernel panic - not syncing: corrupted stack end detected inside scheduler", "kernel panic: corrupted stack end in {F}")
                .alt(&["stack-overflow in {F}"])
                .stack_ex(CALL_TRACE, &["^schedule", "^__schedule", "^panic", "^schedule_debug", "^preempt_schedule", "^__cond_resched", "^_cond_resched"], Extractor::Stall),
            // arm64's handle_bad_stack() prints the registers, then panics:
            // the panic's trace runs from the overflow stack into the task's.
            F::new(r"Kernel panic - not syncing: kernel stack overflow", "kernel stack overflow in {F}")
                .alt(&["stack-overflow in {F}"])
                .stack_ex(CALL_TRACE, &["^__bad_stack$", "^handle_bad_stack$"], Extractor::Stall),
            // These panics only follow another report (an oops, a WARNING or
            // sanitizer report with panic_on_warn, a hung task, a lockup):
            // caught as the first crash, that report's header was lost.
            F::new(r"Kernel panic - not syncing: (?:Fatal exception|Fatal exception in interrupt)", "kernel panic: Fatal exception").corrupted(),
            F::new(r"Kernel panic - not syncing: (?:[a-zA-Z]+: )?panic_on_warn set", "kernel panic: panic_on_warn set").corrupted(),
            F::new(r"Kernel panic - not syncing: hung_task: blocked tasks", "kernel panic: hung_task: blocked tasks").corrupted(),
            F::new(r"Kernel panic - not syncing: (softlockup: hung tasks|Hard LOCKUP|hardlockup: [a-zA-Z ]+|RCU Stall|panic_on_oops set)", "kernel panic: {1}").corrupted(),
            F::new(r"Kernel panic - not syncing: ([^\n]*?)(?: \.\.\.)?\s*(?:\n|$)", "kernel panic: {1}"),
        ],
    },
    OopsDef {
        header: "Internal error:",
        suppress: &[],
        formats: &[F::new(r"Internal error:", "Internal error in {F}").alt(BAD_ACCESS).stack(ARM_PARTS, &[])],
    },
    OopsDef {
        header: "Unhandled fault:",
        suppress: &[],
        formats: &[F::new(r"Unhandled fault:", "Unhandled fault in {F}").alt(BAD_ACCESS).stack(ARM_PARTS, &[])],
    },
    OopsDef {
        header: "Alignment trap:",
        suppress: &[],
        // The "PC is at" of the die() that follows is where the fixup gave
        // up; the frame comes from the backtrace, and without its heading
        // ("Backtrace:") the report is cut.
        formats: &[F::new(r"Alignment trap:", "Alignment trap in {F}").stack(CALL_TRACE, &[])],
    },
    OopsDef { header: "int3:", suppress: &[], formats: &[F::new(r"int3:", "int3 in {F}").stack(RIP_TRACE, &[])] },
    OopsDef {
        header: "Booting the kernel.",
        // Fuzzed mount options echo random strings, boot banners included
        // (benign.rs).
        suppress: &[],
        formats: &[F::new(r"Booting the kernel\.", "unexpected kernel reboot").no_stack()],
    },
    OopsDef {
        header: "unregister_netdevice: waiting for",
        suppress: &[],
        formats: &[F::new(r"unregister_netdevice: waiting for (?:[^\n ]+) to become free", "unregister_netdevice: waiting for DEV to become free").no_stack()],
    },
    // fs/open.c filp_flush(): closing a file whose count already dropped
    // to zero; like the busy inodes below, a use-after-free of the file.
    OopsDef {
        header: "VFS: Close: file count is 0",
        suppress: &[],
        formats: &[F::new(r"VFS: Close: file count is 0", "VFS: Close: file count is zero (use-after-free)").no_stack()],
    },
    OopsDef {
        header: "VFS: Busy inodes after unmount",
        suppress: &[],
        formats: &[F::new(r"VFS: Busy inodes after unmount", "VFS: Busy inodes after unmount (use-after-free)").no_stack()],
    },
    OopsDef {
        header: "trusty: panic",
        suppress: &[],
        formats: &[F::new(r"trusty: panic [^\n]*ASSERT FAILED at \([^\n]*\): ([^\n]*)", "trusty: ASSERT FAILED: {1}").no_stack()],
    },
    OopsDef {
        header: "trusty: ASSERT FAILED",
        suppress: &[],
        formats: &[F::new(r"trusty: ASSERT FAILED: ([^\n]*)", "trusty: ASSERT FAILED: {1}").no_stack()],
    },
    OopsDef {
        header: "SYZFAIL:",
        suppress: &[],
        formats: &[F::new(r"SYZFAIL: ([^\n]*)", "SYZFAIL: {1}").no_stack()],
    },
    OopsDef {
        header: "SYZFATAL:",
        suppress: &[],
        formats: &[F::new(r"SYZFATAL: ([^\n]*)", "SYZFATAL: {1}").alt(&["SYZFATAL"]).no_stack()],
    },
    OopsDef {
        header: "panicked at",
        suppress: &[],
        // Rust panics: the message is on the line after "panicked at
        // file:line:col:"; the frame is the first one outside the panic
        // machinery (symbols are demangled, e.g. `<T as Trait>::method`).
        formats: &[
            F::new(r"rust_kernel: panicked at [^\n]*\n(?:[^\n]*\n)?[^\n]*?(attempt to [a-z ]+)", "{1} in {F}").stack(CALL_TRACE, RUST_PANIC_SKIP),
            F::new(r"rust_kernel: panicked at [^\n]*:\n([^\n]{1,80})", "{1} in {F}").stack(CALL_TRACE, RUST_PANIC_SKIP),
        ],
    },
    OopsDef {
        // A Go panic of the fuzzer or of a test program: named by its
        // message (the runtime's own "fatal error:" is below).
        header: "panic: ",
        suppress: &[],
        formats: &[F::new(r"panic:([^\n]*)", "panic:{1}").no_stack()],
    },
    OopsDef {
        header: "fatal error: ",
        suppress: &[],
        formats: &[F::new(r"fatal error: ", "go runtime error").no_stack()],
    },
];
