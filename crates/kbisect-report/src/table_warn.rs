//! Formats for `WARNING:` (WARN_ON and the lockdep family) and `INFO:`
//! (hung tasks, RCU stalls, lockdep notices).

use crate::oops_table::{Extractor, FormatDef as F, OopsDef, TRACE};
use crate::table_bug::{CALL_TRACE, STALL_TRACE};

/// WARN_ON reports blame the faulting IP or the call trace, not the function
/// on the "WARNING: ... at file:line func" line: a WARNING line without a
/// trace after it is a truncated report.
const WARN_PARTS: &[&str] = &["{{RIP}}", "{{CALLTRACE}}", TRACE];
const LOCK_AT: &[&str] = &[
    r"at: (?:{{PC}} +)?{{FUNC}}",
    r"at: (?:{{PC}} +)?{{FUNC}}",
    TRACE,
];
/// Lock-order reports blame the code that made the lock irq-safe.
const LOCK_ORDER: &[&str] = &[r"which became (?:SOFTIRQ|HARDIRQ)-irq-safe at:", TRACE];
const LOCKDEP_SKIP: &[&str] = &[
    "^process_one_work",
    "^worker_thread",
    "^kill_fasync",
    "^__kill_fasync",
    "^flush_workqueue",
    "^__flush_workqueue",
    "^lock_sock",
    "^release_sock",
    "^lock_timer_base",
    "^__lock_sock",
    "^sk_lock",
    "^lock_page",
    "^lock_rename",
];
const WARN_SKIP: &[&str] = &["^__warn", "^warn_", "^report_bug"];
const ODEBUG_SKIP: &[&str] = &[
    "^debug_",
    "^__debug_",
    "^free_obj_work",
    "^timer_fixup",
    "^work_fixup",
    "^hrtimer_fixup",
    "^__init_work",
    "^destroy_timer_on_stack",
    "^__del_timer",
    "^kvfree",
    "^free_",
    "^__free",
    "^devm_",
    "^devres_",
    "^release_nodes",
    "^vfree",
    "^__vunmap",
];
const HUNG_RE: &str = r"INFO: task [^\n]* (?:blocked for more than [0-9]+ seconds|blocked in I/O wait for more than [0-9]+ seconds)";

pub(crate) static OOPSES: &[OopsDef] = &[
    OopsDef {
        header: "WARNING:",
        // Benign WARNING: lines are listed in benign.rs.
        suppress: &[],
        formats: &[
            // Every WARN in lib/debugobjects.c is a debug-objects report
            // (debug_print_object(), debug_object_is_on_stack(), ...).
            F::new(r"WARNING: [^\n]*lib/debugobjects\.c", "WARNING: ODEBUG bug in {F}")
                .stack_body(WARN_PARTS, ODEBUG_SKIP),
            F::new(r"WARNING: [^\n]*(?:mm/usercopy\.c|usercopy_warn)", "WARNING: bad usercopy in {F}")
                .stack_body(WARN_PARTS, &["^usercopy_", "^__check_heap_object", "^check_heap_object", "^__check_object_size", "^check_object_size", "^check_copy_size"]),
            F::new(r"WARNING: [^\n]*lib/kobject\.c", "WARNING: kobject bug in {F}").stack_body(WARN_PARTS, &["^kobject_", "^kobj_"]),
            F::new(r"WARNING: [^\n]*fs/proc/generic\.c", "WARNING: proc registration bug in {F}")
                .stack_body(WARN_PARTS, &["^proc_register", "^proc_create", "^proc_mkdir", "^proc_net_mkdir", "^_proc_mkdir", "^proc_symlink"]),
            F::new(r"WARNING: [^\n]*(?:lib/refcount\.c|refcount_warn_saturate)", "WARNING: refcount bug in {F}")
                .stack_body(WARN_PARTS, &["^refcount_", "^__refcount_"]),
            F::new(r"refcount_t: [^\n]*(?:\n[^\n]*)*?WARNING: ", "WARNING: refcount bug in {F}")
                .stack_body(WARN_PARTS, &["^refcount_", "^__refcount_"]),
            F::new(r"WARNING: [^\n]*mm/vmalloc\.c[^\n]*__vmalloc_node", "WARNING: zero-size vmalloc in {F}")
                .stack_body(WARN_PARTS, &["^__vmalloc", "^vmalloc", "^vzalloc", "^kvmalloc", "^kvzalloc"]),
            F::new(r"WARNING: [^\n]*(?:mm/slab_common\.c|mm/util\.c|mm/slab\.c|mm/slub\.c):[0-9]+ (?:__)?k(?:v)?(?:malloc|realloc)", "WARNING: kmalloc bug in {F}")
                .stack_body(WARN_PARTS, &["^kmalloc", "^__kmalloc", "^kvmalloc", "^__kvmalloc", "^krealloc", "^free_large_kmalloc"]),
            F::new(r"WARNING: [^\n]*(?:kernel/locking/lockdep\.c|DEBUG_LOCKS_WARN_ON)", "WARNING: locking bug in {F}")
                .stack_body(WARN_PARTS, &["^lock_", "^__lock_", "^check_", "^validate_"]),
            F::new(r"DEBUG_LOCKS_WARN_ON\([^\n]*\n[^\n]*(?:\n[^\n]*)?WARNING: ", "WARNING: locking bug in {F}")
                .stack_body(WARN_PARTS, &["^lock_", "^__lock_", "^check_", "^validate_"]),
            F::new(r"WARNING: possible circular locking dependency detected", "possible deadlock in {F}")
                .report(r"WARNING: possible circular locking dependency detected(?:[^\n]*\n)+?[^\n]*is trying to acquire lock")
                .stack(LOCK_AT, LOCKDEP_SKIP),
            F::new(r"WARNING: possible recursive locking detected", "possible deadlock in {F}")
                .report(r"WARNING: possible recursive locking detected(?:[^\n]*\n)+?[^\n]*is trying to acquire lock")
                .stack(LOCK_AT, LOCKDEP_SKIP),
            F::new(r"WARNING: (?:SOFTIRQ|HARDIRQ)-(?:safe|READ-safe) -> (?:SOFTIRQ|HARDIRQ)-(?:unsafe|READ-unsafe) lock order detected", "possible deadlock in {F}")
                .stack(LOCK_ORDER, LOCKDEP_SKIP),
            F::new(r"WARNING: possible irq lock inversion dependency detected", "possible deadlock in {F}").stack(LOCK_AT, LOCKDEP_SKIP),
            F::new(r"WARNING: inconsistent lock state", "inconsistent lock state in {F}")
                .report(r"WARNING: inconsistent lock state(?:[^\n]*\n)+?[^\n]*takes:")
                .stack(&[r"takes:", r"at: (?:{{PC}} +)?{{FUNC}}", "{{CALLTRACE}}", TRACE], LOCKDEP_SKIP),
            // kernel/locking/lockdep.c lockdep_rcu_suspicious() opens with a
            // fixed banner: the header, the kernel version, a rule of dashes.
            // Another task's line inside the banner means the report was
            // interleaved: it is titled by its first line and not trusted.
            F::new(r"WARNING: suspicious RCU usage", "WARNING: suspicious RCU usage in {F}")
                .report(r"WARNING: suspicious RCU usage[^\n]*\n[^\n]*\n-+\n(?:[^\n]*\n)+?[^\n]*stack backtrace:")
                .stack(&[r"(?:Call (?:T|t)race:|stack backtrace:)", TRACE], &["^rcu_", "^__rcu_", "^lockdep_rcu", "^debug_lockdep"]),
            // Kernels that print raw addresses name the register; once
            // pointers are hashed ("(ptrval)") both variants read alike.
            F::new(r"WARNING: kernel stack regs at [0-9a-f]+ in [^\n]* has bad 'bp' value", "WARNING: kernel stack regs has bad 'bp' value").no_stack(),
            F::new(r"WARNING: kernel stack (?:regs|frame pointer) at [^\n]* has bad (?:'[a-z]+' )?value", "WARNING: kernel stack regs has bad value").no_stack(),
            F::new(r"WARNING: bad unlock balance detected!", "WARNING: bad unlock balance in {F}")
                .stack(&[r"at: (?:{{PC}} +)?{{FUNC}}", "{{CALLTRACE}}", TRACE], LOCKDEP_SKIP),
            F::new(r"WARNING: held lock freed!", "WARNING: held lock freed in {F}")
                .stack(&[r"at: (?:{{PC}} +)?{{FUNC}}", "{{CALLTRACE}}", TRACE], LOCKDEP_SKIP),
            F::new(r"WARNING: lock held when returning to user space!", "WARNING: lock held when returning to user space in {F}")
                .stack(&[r"at: (?:{{PC}} +)?{{FUNC}}"], &[])
                .no_stack(),
            // kernel/locking/lockdep.c print_lock_nested_lock_not_held().
            F::new(r"WARNING: Nested lock was not taken", "WARNING: nested lock was not taken in {F}")
                .stack(&[r"at: (?:{{PC}} +)?{{FUNC}}", "{{CALLTRACE}}", TRACE], LOCKDEP_SKIP),
            F::new(r"WARNING: [^\n]* still has locks held!", "WARNING: still has locks held in {F}")
                .stack(&[r"at: (?:{{PC}} +)?{{FUNC}}", "{{CALLTRACE}}", TRACE], LOCKDEP_SKIP),
            F::new(r"WARNING: [^\n]*drivers/usb/core/urb\.c[^\n]*usb_submit_urb", "WARNING in {F}/usb_submit_urb").stack_body(WARN_PARTS, WARN_SKIP),
            // kernel/panic.c __warn(): "WARNING: CPU: %d PID: %d at %s:%d %pS",
            // without the file when the bug table has none ("at %pS"), and
            // "WARNING: at %s:%d %pS()" on 2.6/3.x kernels.
            F::new(r"WARNING: (?:(?:[^\n]* )?at {{SRC}} |(?:\[[^\n]*\] )?{{SRC}} at )", "WARNING in {F}").stack_body(WARN_PARTS, WARN_SKIP),
            F::new(r"WARNING: CPU: [0-9]+ PID: [0-9]+ at [a-zA-Z0-9_]+(?:\.[a-z0-9.]+)?\+0x", "WARNING in {F}").stack_body(WARN_PARTS, WARN_SKIP),
        ],
    },
    OopsDef {
        header: "INFO:",
        suppress: &[],
        formats: &[
            F::new(HUNG_RE, "INFO: task hung in {F}")
                .alt(&["hang in {F}"])
                .stack_ex(&["{{CALLTRACE}}", TRACE], &[], Extractor::Hang),
            F::new(r"INFO: task [^\n]* can't die for more than [0-9]+ seconds", "INFO: task can't die in {F}")
                .alt(&["hang in {F}"])
                .stack_ex(&["{{CALLTRACE}}", TRACE], &[], Extractor::Hang),
            F::new(r"INFO: rcu_(?:preempt|sched|bh|tasks[a-z_]*) (?:self-)?detected(?: expedited)? stalls?", "INFO: rcu detected stall in {F}")
                .alt(&["stall in {F}"])
                .stack_ex(STALL_TRACE, &[], Extractor::Stall),
            F::new(r"INFO: rcu_(?:preempt|sched|bh) detected stall", "INFO: rcu detected stall in {F}")
                .alt(&["stall in {F}"])
                .stack_ex(STALL_TRACE, &[], Extractor::Stall),
            F::new(r"INFO: trying to register non-static key", "INFO: trying to register non-static key in {F}")
                .stack(CALL_TRACE, &["^register_lock_class", "^__lock_acquire", "^lock_acquire", "^assign_lock_key", "^lockdep_init_map", "^look_up_lock_class"]),
            F::new(r"INFO: suspicious RCU usage", "INFO: suspicious RCU usage in {F}")
                .stack(&[r"(?:Call (?:T|t)race:|stack backtrace:)", TRACE], &["^rcu_", "^__rcu_", "^lockdep_rcu", "^debug_lockdep"]),
            F::new(r"INFO: possible circular locking dependency detected", "possible deadlock in {F}").stack(LOCK_AT, LOCKDEP_SKIP),
            F::new(r"INFO: possible recursive locking detected", "possible deadlock in {F}").stack(LOCK_AT, LOCKDEP_SKIP),
            F::new(r"INFO: (?:SOFTIRQ|HARDIRQ)-(?:safe|READ-safe) -> (?:SOFTIRQ|HARDIRQ)-(?:unsafe|READ-unsafe) lock order detected", "possible deadlock in {F}")
                .stack(LOCK_AT, LOCKDEP_SKIP),
            F::new(r"INFO: possible irq lock inversion dependency detected", "possible deadlock in {F}").stack(LOCK_AT, LOCKDEP_SKIP),
            F::new(r"INFO: inconsistent lock state", "inconsistent lock state in {F}")
                .stack(&[r"takes:", r"at: (?:{{PC}} +)?{{FUNC}}", "{{CALLTRACE}}", TRACE], LOCKDEP_SKIP),
            // SLUB debug prints these inside a "BUG <cache>: ..." report; seen
            // as the first crash line, the report's own header was lost.
            F::new(r"(INFO: (?:Allocated in|Freed in|Slab 0x|Object 0x|0x[0-9a-f]+-0x)[^\n]*)", "{1}").corrupted(),
        ],
    },
];
