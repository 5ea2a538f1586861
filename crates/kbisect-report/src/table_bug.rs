//! Formats for lines holding `BUG:`: sanitizers (KASAN, KMSAN, KCSAN,
//! KFENCE), bad memory accesses, lockups, atomic-context and lock bugs.

use crate::oops_table::{Extractor, FormatDef as F, OopsDef, TRACE};

pub(crate) const RIP_TRACE: &[&str] = &["{{RIP}}", "{{CALLTRACE}}", TRACE];
pub(crate) const CALL_TRACE: &[&str] = &["{{CALLTRACE}}", TRACE];
pub(crate) const STALL_TRACE: &[&str] = &[
    r"(?:</IRQ>|<EOI>|</NMI>|apic_timer_interrupt|el1_irq|el1h_64_irq|Exception stack|\bIRQ\b.*\bstack\b)",
    "{{RIP}}",
    TRACE,
];
const BAD_ACCESS: &[&str] = &["bad-access in {F}"];
const STALL_ALT: &[&str] = &["stall in {F}"];
const SCHED_SKIP: &[&str] = &[
    "^schedule",
    "^__schedule",
    "^preempt_schedule",
    "^__cond_resched",
    "^_cond_resched",
    "^might_resched",
    "^rcu_note_context_switch",
    "^__might_resched",
    "^dequeue_task",
    "^context_switch",
    "^finish_task_switch",
    "^prepare_task_switch",
    "^syscall_exit_to_user_mode",
    "^__schedule_bug",
    "^schedule_debug",
    "^preempt_count_",
    "^irqentry_exit",
];
/// Lockdep-style "at:" lines are joined with the frame after them, so the
/// first origin frame may sit on the heading's line.
const KMSAN_ORIGIN: &[&str] = &[
    r"(?:Uninit was created at:|Local variable [^\n]* created at:)(?: +{{FUNC}})?",
    TRACE,
];
const LEAK_SKIP: &[&str] = &[
    "kmemleak",
    "^create_object",
    "alloc",
    "^kzalloc",
    "^kmem",
    "^kmalloc",
    "^__kmalloc",
    "^slab_",
    "^new_slab",
    "^krealloc",
    "^kvmalloc",
    "^kmemdup",
    "^kstrdup",
    "^memdup",
    "^__do_kmalloc",
    "^pcpu_",
    "^__alloc",
    "^kobject_",
    "^idr_",
    "^ida_",
    "^xa_",
    "^__xa_",
    "^radix_tree_",
    "^sk_prot_alloc",
    "^vmap",
    "^__vmap",
    "^setup_object",
    "^new_inode$",
    "^kvasprintf",
    "^kasprintf",
];
const PAGE_ALLOC_SKIP: &[&str] = &[
    "^__set_page_owner",
    "^post_alloc_hook",
    "^prep_new_page",
    "^get_page_from_freelist",
    "alloc_pages",
    "folio_alloc",
    "alloc_folio",
    "^__filemap_get_folio",
    "^filemap_",
    "^pagecache_get_page",
    "^grab_cache_page",
    "page_pool_alloc",
    "^page_frag_alloc",
    "^__page_frag",
];
const PREEMPT_SKIP: &[&str] = &[
    "^check_preemption_disabled",
    "^debug_smp_processor_id",
    "^__this_cpu_preempt_check",
    "^this_cpu_",
    "^lockdep_",
];

pub(crate) static OOPSES: &[OopsDef] = &[OopsDef {
    header: "BUG:",
    // Benign BUG: lines (and arm64's "Oops - BUG:" trap line) are listed in
    // benign.rs.
    suppress: &[],
    formats: &[
        F::new(
            r"BUG: KASAN: ([a-z\-]+) in {{FUNC}}[^\n]*\n(?:[^\n]*\n){0,8}?[^\n]*(Read|Write) (?:of size|at addr) (?:[0-9a-f]+)",
            "KASAN: {1} {3} in {F}",
        )
        .alt(BAD_ACCESS)
        .stack(&[r"BUG: KASAN: (?:[a-z\-]+) in {{FUNC}}", "{{CALLTRACE}}", TRACE], &[]),
        F::new(r"BUG: KASAN: double-free in {{FUNC}}", "KASAN: invalid-free in {F}")
            .alt(&["invalid-free in {F}"])
            .stack(&[r"BUG: KASAN: double-free in {{FUNC}}", "{{CALLTRACE}}", TRACE], &[]),
        F::new(r"BUG: KASAN: (?:double-free or invalid-free|invalid-free) in {{FUNC}}", "KASAN: invalid-free in {F}")
            .alt(&["invalid-free in {F}"])
            .stack(&[r"BUG: KASAN: (?:double-free or invalid-free|invalid-free) in {{FUNC}}", "{{CALLTRACE}}", TRACE], &[]),
        F::new(r"BUG: KASAN: (?:[a-z\-]+) in [^\n]* at addr", "KASAN: {1}")
            .report(r"BUG: KASAN: ([^\n]*)")
            .corrupted(),
        // KASAN always says which access it caught ("Read of size 8 at
        // addr"); without that line the report was cut or interleaved.
        F::new(r"BUG: KASAN: ([a-z\-]+) in {{FUNC}}", "KASAN: {1} in {F}")
            .stack(&[r"BUG: KASAN: (?:[a-z\-]+) in {{FUNC}}", "{{CALLTRACE}}", TRACE], &[])
            .corrupted(),
        F::new(r"BUG: KASAN: ([a-z\-]+) on address", "KASAN: {1} in {F}").stack(CALL_TRACE, &[]),
        // USB infoleaks are all caught in usb_submit_urb() called by the
        // driver; the bug is told apart by where the uninitialised bytes
        // came from (mm/kmsan/report.c: "Uninit was created at:" or "Local
        // variable X created at:"), the allocation site past the allocators.
        F::new(r"BUG: KMSAN: (kernel-usb-infoleak(?:-after-free)?) in {{FUNC}}", "KMSAN: {1} in {F}")
            .alt(&["KMSAN origin in {O}"])
            .stack(&[r"BUG: KMSAN: (?:[a-z\-]+) in {{FUNC}}", "{{CALLTRACE}}", TRACE], &[])
            .origin(KMSAN_ORIGIN, LEAK_SKIP),
        F::new(r"BUG: KMSAN: ([a-z\-]+) in {{FUNC}}", "KMSAN: {1} in {F}")
            .alt(BAD_ACCESS)
            .stack(&[r"BUG: KMSAN: (?:[a-z\-]+) in {{FUNC}}", "{{CALLTRACE}}", TRACE], &[]),
        // kernel/kcsan/report.c: "BUG: KCSAN: %s in %ps / %ps" names both
        // racing functions (already past KCSAN's own frames); the kind is
        // "data-race" or "assert: race" (ASSERT_EXCLUSIVE_*()).
        F::new(r"BUG: KCSAN: ([a-z\-]+(?:: [a-z\-]+)?) in ([a-zA-Z0-9_]+)(?:\.[a-zA-Z0-9_.]+)? / ([a-zA-Z0-9_]+)", "KCSAN: {1} in {2} / {3}").no_stack(),
        F::new(r"BUG: KCSAN: ([a-z\-]+(?:: [a-z\-]+)?) in {{FUNC}}", "KCSAN: {1} in {F}")
            .stack(&[r"BUG: KCSAN: (?:[a-z\-]+) in {{FUNC}}", TRACE], &[])
            .no_stack(),
        F::new(r"BUG: KFENCE: (use-after-free|out-of-bounds|invalid) (read|write) in {{FUNC}}", "KFENCE: {1} {2} in {F}")
            .alt(BAD_ACCESS)
            .stack(&[r"BUG: KFENCE: [a-z\- ]+ in {{FUNC}}", TRACE], &[])
            .no_stack(),
        F::new(r"BUG: KFENCE: ([a-z\- ]+) in {{FUNC}}", "KFENCE: {1} in {F}")
            .stack(&[r"BUG: KFENCE: [a-z\- ]+ in {{FUNC}}", TRACE], &[])
            .no_stack(),
        F::new(r"BUG: memory leak", "memory leak in {F}")
            .stack(&[r"backtrace(?: \(crc [0-9a-f]+\))?:", TRACE], LEAK_SKIP)
            .no_stack(),
        F::new(r"BUG: unable to handle kernel paging request", "BUG: unable to handle kernel paging request in {F}")
            .alt(BAD_ACCESS)
            .stack(RIP_TRACE, &[]),
        F::new(
            r"BUG: unable to handle kernel NULL pointer dereference",
            "BUG: unable to handle kernel NULL pointer dereference in {F}",
        )
        .alt(BAD_ACCESS)
        .stack(RIP_TRACE, &[]),
        F::new(r"BUG: kernel NULL pointer dereference", "BUG: unable to handle kernel NULL pointer dereference in {F}")
            .alt(BAD_ACCESS)
            .stack(RIP_TRACE, &[]),
        F::new(r"BUG: unable to handle page fault", "BUG: unable to handle kernel paging request in {F}")
            .alt(BAD_ACCESS)
            .stack(RIP_TRACE, &[]),
        F::new(r"BUG: unable to handle kernel access to user memory", "BUG: unable to handle kernel access to user memory in {F}")
            .alt(BAD_ACCESS)
            .stack(RIP_TRACE, &[]),
        // A stack overflow's top frames are wherever the stack ran out (often
        // the sanitizer or unwinder): like a stall, it is blamed on the frame
        // above the dispatcher that started the runaway chain or recursion.
        F::new(r"BUG: (?:[A-Z#_]+ )?stack guard page was hit", "BUG: stack guard page was hit in {F}")
            .alt(&["stack-overflow in {F}"])
            .stack_ex(RIP_TRACE, &[], Extractor::Stall),
        F::new(r"BUG: soft lockup - CPU#[0-9]+ stuck for", "BUG: soft lockup in {F}")
            .alt(STALL_ALT)
            .stack_ex(&["{{RIP}}", "{{CALLTRACE}}", TRACE], &[], Extractor::Stall),
        F::new(r"BUG: spinlock (lockup suspected|already unlocked|recursion|bad magic|wrong owner|wrong CPU|trylock failure on UP)", "BUG: spinlock {1} in {F}")
            .stack(CALL_TRACE, &["^spin_", "^do_raw_spin", "^spin_bug", "^spin_dump"]),
        F::new(r"BUG: rwlock (bad magic|recursion|wrong owner|wrong CPU|already unlocked|lockup suspected|trylock failure on UP)", "BUG: rwlock {1} in {F}")
            .stack(CALL_TRACE, &["^rwlock_bug"]),
        F::new(r"BUG: workqueue lockup", "BUG: workqueue lockup").no_stack(),
        F::new(r"BUG: sleeping function called from invalid context", "BUG: sleeping function called from invalid context in {F}")
            .stack(CALL_TRACE, SCHED_SKIP),
        F::new(r"BUG: scheduling while atomic", "BUG: scheduling while atomic in {F}").stack(CALL_TRACE, SCHED_SKIP),
        F::new(r"BUG: using (__this_cpu_[a-z_]+\(\)|smp_processor_id\(\)) in preemptible", "BUG: using {1} in preemptible code in {F}")
            .stack(&[r"caller is {{FUNC}}", "{{CALLTRACE}}", TRACE], PREEMPT_SKIP),
        // With page_owner the allocation stack says who got the bad page.
        F::new(r"BUG: Bad page state", "BUG: Bad page state in {F}")
            .report(r"BUG: Bad page state(?:[^\n]*\n){1,12}?[^\n]*page last allocated via")
            .stack(&[r"page last allocated via", TRACE], PAGE_ALLOC_SKIP),
        // Without page_owner the stack is only the freeing path, which
        // says nothing about who corrupted the page.
        F::new(r"BUG: Bad page state", "BUG: Bad page state in corrupted").corrupted(),
        F::new(r"BUG: Bad rss-counter state", "BUG: Bad rss-counter state").no_stack(),
        // mm/memory.c print_bad_pte() and mm/filemap.c: a page table entry or
        // page-cache page in a state it can never be in. Like the rss
        // counters, named after the state, not after where it was noticed.
        F::new(r"BUG: Bad page map", "BUG: Bad page map").no_stack(),
        // kernel/fork.c check_mm(): page tables left over when an mm is
        // freed ("nr_ptes"/"nr_pmds" before 4.16); the count is not part
        // of the bug's name.
        F::new(r"BUG: non-zero (nr_ptes|nr_pmds|pgtables_bytes) on freeing mm", "BUG: non-zero {1} on freeing mm").no_stack(),
        F::new(r"BUG: Bad page cache", "BUG: Bad page cache").no_stack(),
        // kernel/workqueue.c process_one_work(): a work function returned
        // with a lock, RCU or preemption still held. The work function is
        // named on the report's second line ("last function: f" before 6.4,
        // "workfn=f" since).
        F::new(r"BUG: workqueue leaked (?:lock or atomic|atomic, lock or RCU)", "BUG: workqueue leaked lock or atomic in {1}")
            .report(r"BUG: workqueue leaked (?:lock or atomic|atomic, lock or RCU)[^\n]*\n[^\n]*(?:last function: |workfn=)([a-zA-Z0-9_]+)")
            .no_stack(),
        // powerpc's fault handler (arch/powerpc/mm/fault.c) says what x86's does.
        F::new(r"BUG: Kernel NULL pointer dereference", "BUG: unable to handle kernel NULL pointer dereference in {F}")
            .alt(BAD_ACCESS)
            .stack(RIP_TRACE, &[]),
        F::new(r"BUG: Unable to handle (?:kernel|unknown)", "BUG: unable to handle kernel paging request in {F}")
            .alt(BAD_ACCESS)
            .stack(RIP_TRACE, &[]),
        F::new(r"BUG: bad unlock balance detected!", "BUG: bad unlock balance in {F}")
            .stack(&[r"at: (?:{{PC}} +)?{{FUNC}}", "{{CALLTRACE}}", TRACE], &[]),
        F::new(r"BUG: held lock freed!", "BUG: held lock freed in {F}")
            .stack(&[r"at: (?:{{PC}} +)?{{FUNC}}", "{{CALLTRACE}}", TRACE], &[]),
        F::new(r"BUG: lock held when returning to user space!", "BUG: lock held when returning to user space in {F}")
            .stack(&[r"at: (?:{{PC}} +)?{{FUNC}}"], &[])
            .no_stack(),
        F::new(r"BUG: [^\n]* still has locks held!", "BUG: still has locks held in {F}")
            .stack(&[r"at: (?:{{PC}} +)?{{FUNC}}", "{{CALLTRACE}}", TRACE], &[]),
        F::new(r"BUG: Dentry [^\n]*still in use \([0-9]+\) \[(unmount) of ([a-zA-Z0-9_]+) ([^\]\n]+)\]", "BUG: Dentry still in use in {1}")
            .alt(&["BUG: Dentry still in use [{1} of {2} {3}]"]),
        F::new(r"BUG: Dentry [^\n]*still in use", "BUG: Dentry still in use in {F}")
            .stack(CALL_TRACE, &["^umount_check", "^d_walk", "^shrink_dcache", "^do_one_tree", "^__d_", "^dput"]),
        F::new(r"BUG: Invalid wait context", "WARNING: locking bug in {F}")
            .stack(&[r"stack backtrace:", "{{CALLTRACE}}", TRACE], &[]),
    ],
}];
