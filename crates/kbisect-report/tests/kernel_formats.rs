//! Report formats the kernel prints but few corpus logs show, one synthetic
//! log per format, written from the format strings of Linux 6.12 (file named
//! in each test): title, type, frame and the corrupted flag.
#![allow(clippy::unwrap_used)]

mod common;

use common::{log, reporter};

const TASK: &str = "CPU: 0 UID: 0 PID: 4242 Comm: syz.1.2 Not tainted 6.12.0-syzkaller #0
Hardware name: Google Google Compute Engine/Google Compute Engine, BIOS Google 09/13/2024";
const REGS: &str = "RSP: 0018:ffffc90003f1f8f0 EFLAGS: 00010246
RAX: 0000000000000000 RBX: ffff888012345678 RCX: 0000000000000000";
const SYSCALL: &str = " __x64_sys_ioctl+0x19d/0x210
 do_syscall_64+0xcd/0x250
 entry_SYSCALL_64_after_hwframe+0x77/0x7f
 </TASK>";

/// Title, type ("" for unknown), frame and corrupted flag of the first crash.
fn check(data: &[u8], title: &str, typ: &str, frame: &str, corrupted: bool) {
    let rep = reporter()
        .parse(data)
        .unwrap_or_else(|| panic!("no crash: want {title}"));
    assert_eq!(rep.title, title, "report:\n{}", rep.report_text());
    let t = rep.crash_type.to_string();
    assert_eq!(if t == "UNKNOWN" { "" } else { &t }, typ, "{title}");
    assert_eq!(rep.frame, frame, "{title}");
    assert_eq!(
        rep.corrupted, corrupted,
        "{title}: reason {:?}",
        rep.corrupted_reason
    );
}

#[test]
fn workqueue_leak_names_the_work_function() {
    // kernel/workqueue.c process_one_work(), 6.4 and later.
    let new = log(&format!(
        "BUG: workqueue leaked atomic, lock or RCU: kworker/0:1[12]
     preempt=0x00000000 lock=0->1 RCU=0->0 workfn=foo_work_fn
1 lock held by kworker/0:1/12:
 #0: ffff888012345678 (&foo->lock){{+.+.}}-{{3:3}}, at: foo_work_fn+0x10/0x20
{TASK}
Workqueue: events foo_work_fn
Call Trace:
 <TASK>
 dump_stack_lvl+0x116/0x1b0
 process_one_work+0x9c8/0x1b40
 worker_thread+0x6c8/0xf00
 kthread+0x2c1/0x3a0
 ret_from_fork+0x45/0x80
 </TASK>"
    ));
    check(
        &new,
        "BUG: workqueue leaked lock or atomic in foo_work_fn",
        "",
        "foo_work_fn",
        false,
    );
    // The same report before 6.4.
    let old = log(
        "BUG: workqueue leaked lock or atomic: kworker/0:1/0x00000000/12
     last function: foo_work_fn
1 lock held by kworker/0:1/12:",
    );
    check(
        &old,
        "BUG: workqueue leaked lock or atomic in foo_work_fn",
        "",
        "foo_work_fn",
        false,
    );
}

#[test]
fn vfs_use_after_free_notices() {
    // fs/open.c filp_flush(): CHECK_DATA_CORRUPTION() prints the message,
    // then WARNs.
    let close = log(&format!(
        "------------[ cut here ]------------
VFS: Close: file count is 0 (f_op=ext4_file_operations)
WARNING: CPU: 0 PID: 4242 at fs/open.c:1527 filp_flush+0x1a5/0x210
Modules linked in:
{TASK}
RIP: 0010:filp_flush+0x1a5/0x210
{REGS}
Call Trace:
 <TASK>
 foo_release_file+0x1a/0x40
{SYSCALL}"
    ));
    check(
        &close,
        "VFS: Close: file count is zero (use-after-free)",
        "DoS",
        "",
        false,
    );
    // fs/super.c generic_shutdown_super().
    let busy = log(&format!(
        "VFS: Busy inodes after unmount of loop0 (ext4)
WARNING: CPU: 0 PID: 4242 at fs/super.c:650 generic_shutdown_super+0x2d5/0x3a0
{TASK}"
    ));
    check(
        &busy,
        "VFS: Busy inodes after unmount (use-after-free)",
        "DoS",
        "",
        false,
    );
}

#[test]
fn lockdep_nested_lock_and_table_overflow() {
    // kernel/locking/lockdep.c print_lock_nested_lock_not_held().
    let nested = log(&format!(
        "==================================
WARNING: Nested lock was not taken
6.12.0-syzkaller #0 Not tainted
----------------------------------
syz.1.2/4242 is trying to lock:
ffff888012345678 (&inner->lock){{+.+.}}-{{3:3}}, at: foo_lock_inner+0x10/0x20

but this task is not holding:
&outer->lock

stack backtrace:
{TASK}
Call Trace:
 <TASK>
 dump_stack_lvl+0x116/0x1b0
 __lock_acquire+0x1a/0x40
 lock_acquire+0x1a/0x40
 _raw_spin_lock_nest_lock+0x1a/0x40
 foo_lock_inner+0x10/0x20
 foo_ioctl+0x55/0x90
{SYSCALL}"
    ));
    check(
        &nested,
        "WARNING: nested lock was not taken in foo_lock_inner",
        "LOCKDEP",
        "foo_lock_inner",
        false,
    );
    // print_lockdep_off() then dump_stack(): named by the line itself.
    let keys = log(&format!(
        "BUG: MAX_LOCKDEP_KEYS too low!
turning off the locking correctness validator.
{TASK}
Call Trace:
 <TASK>
 dump_stack_lvl+0x116/0x1b0
 register_lock_class+0x1a/0x40
 foo_init_locks+0x10/0x20
{SYSCALL}"
    ));
    check(&keys, "BUG: MAX_LOCKDEP_KEYS too low!", "", "", false);
}

#[test]
fn kcsan_kinds_and_suffixes() {
    // kernel/kcsan/report.c: "BUG: KCSAN: %s in %ps / %ps", the kind being
    // "data-race" or "assert: race".
    for (kind, typ) in [
        ("data-race", "KCSAN-DATARACE"),
        ("assert: race", "KCSAN-ASSERT"),
    ] {
        let data = log(&format!(
            "==================================================================
BUG: KCSAN: {kind} in foo_read / foo_update.isra.0

write to 0xffff888012345678 of 4 bytes by task 1 on cpu 0:
 foo_update.isra.0+0x1a/0x40
 foo_ioctl+0x55/0x90

read to 0xffff888012345678 of 4 bytes by task 2 on cpu 1:
 foo_read+0x1a/0x40
 foo_ioctl+0x55/0x90
=================================================================="
        ));
        check(
            &data,
            &format!("KCSAN: {kind} in foo_read / foo_update"),
            typ,
            "foo_read",
            false,
        );
    }
    // "BUG: KCSAN: %s in %pS" when the other access is not known.
    let single = log(
        "==================================================================
BUG: KCSAN: data-race in foo_write+0x1a/0x40

race at unknown origin, with read to 0xffff888012345678 of 4 bytes by task 2 on cpu 1:
 foo_write+0x1a/0x40
 foo_ioctl+0x55/0x90
==================================================================",
    );
    check(
        &single,
        "KCSAN: data-race in foo_write",
        "KCSAN-DATARACE",
        "foo_write",
        false,
    );
}

#[test]
fn debug_objects_any_warn_site() {
    // lib/debugobjects.c debug_object_is_on_stack(): WARN_ON(1) after the
    // ODEBUG line; the debug-objects and timer frames are infrastructure.
    let data = log(&format!(
        "ODEBUG: object ffffc90003f1fa00 is on stack ffffc90003f18000, but NOT annotated.
------------[ cut here ]------------
WARNING: CPU: 0 PID: 4242 at lib/debugobjects.c:659 debug_object_is_on_stack+0x14b/0x1a0
Modules linked in:
{TASK}
RIP: 0010:debug_object_is_on_stack+0x14b/0x1a0
{REGS}
Call Trace:
 <TASK>
 __debug_object_init+0x2a2/0x5b0
 debug_object_init+0x1a/0x40
 init_timer_key+0x55/0x1e0
 foo_setup_timer+0x1a/0x40
 foo_ioctl+0x55/0x90
{SYSCALL}"
    ));
    check(
        &data,
        "WARNING: ODEBUG bug in foo_setup_timer",
        "WARNING",
        "foo_setup_timer",
        false,
    );
}

#[test]
fn mm_bad_page_map() {
    // mm/memory.c print_bad_pte().
    let data = log(&format!(
        "BUG: Bad page map in process syz.1.2  pte:8000000012345067 pmd:12345067
page: refcount:0 mapcount:-1 mapping:0000000000000000 index:0x0 pfn:0x12345
addr:0000000020000000 vm_flags:08100073 anon_vma:ffff888012345678 mapping:0000000000000000 index:20000
{TASK}
Call Trace:
 <TASK>
 dump_stack_lvl+0x116/0x1b0
 print_bad_pte+0x1a/0x40
 zap_pte_range+0x1a/0x40
 unmap_page_range+0x1a/0x40
{SYSCALL}"
    ));
    check(&data, "BUG: Bad page map", "", "", false);
}

#[test]
fn arch_fault_handlers() {
    // arch/arm64/mm/fault.c __do_kernel_fault(): every message but the NULL
    // dereference and user-memory ones is titled as a paging request.
    for msg in [
        "write to read-only memory",
        "execute from non-executable memory",
        "read from unreadable memory",
        "paging request",
    ] {
        let data = log(&format!(
            "Unable to handle kernel {msg} at virtual address ffff800080001234
Mem abort info:
  ESR = 0x000000009600004f
Internal error: Oops: 000000009600004f [#1] PREEMPT SMP
Modules linked in:
{TASK}
pstate: 80400005 (Nzcv daif +PAN -UAO -TCO -DIT -SSBS BTYPE=--)
pc : foo_write+0x10/0x20
lr : foo_ioctl+0x10/0x20
sp : ffff80009a2b7a40
Call trace:
 foo_write+0x10/0x20 (P)
 foo_ioctl+0x10/0x20
 __arm64_sys_ioctl+0x98/0x2b8
 invoke_syscall+0x98/0x2b8
 el0_svc+0x58/0x16c"
        ));
        check(
            &data,
            "BUG: unable to handle kernel paging request in foo_write",
            "MEMORY_SAFETY_BUG",
            "foo_write",
            false,
        );
    }
    // arch/powerpc/mm/fault.c and show_regs() ("NIP [addr] f").
    let ppc = log(&format!(
        "BUG: Kernel NULL pointer dereference on read at 0x00000008
Faulting instruction address: 0xc00000000012a9f4
Oops: Kernel access of bad area, sig: 11 [#1]
{TASK}
NIP:  c00000000012a9f4 LR: c00000000012a9e0 CTR: 0000000000000000
NIP [c00000000012a9f4] foo_read+0x24/0x80
LR [c00000000012a9e0] foo_ioctl+0x20/0x80
Call Trace:
[c00000003ae5b800] [c00000000012a9e0] foo_ioctl+0x20/0x80
[c00000003ae5b860] [c00000000016ab98] sys_ioctl+0x1cc/0x534"
    ));
    check(
        &ppc,
        "BUG: unable to handle kernel NULL pointer dereference in foo_read",
        "NULL-POINTER-DEREFERENCE",
        "foo_read",
        false,
    );
}

#[test]
fn warn_without_a_file() {
    // kernel/panic.c __warn() without bug-table file information.
    let data = log(&format!(
        "WARNING: CPU: 0 PID: 4242 at foo_check+0x10/0x20
Modules linked in:
{TASK}
RIP: 0010:foo_check+0x10/0x20
{REGS}
Call Trace:
 <TASK>
 foo_ioctl+0x55/0x90
{SYSCALL}"
    ));
    check(&data, "WARNING in foo_check", "WARNING", "foo_check", false);
}

#[test]
fn mm_check_mm_leftovers() {
    // kernel/fork.c check_mm(): the count is not part of the title.
    let data = log("BUG: non-zero pgtables_bytes on freeing mm: 4096");
    check(
        &data,
        "BUG: non-zero pgtables_bytes on freeing mm",
        "",
        "",
        false,
    );
}

#[test]
fn spinlock_debug_kinds() {
    // kernel/locking/spinlock_debug.c spin_bug(): "BUG: spinlock %s on
    // CPU#%d, %s/%d", then dump_stack().
    let data = log(&format!(
        "BUG: spinlock trylock failure on UP on CPU#0, syz.1.2/4242
 lock: 0xffff888012345678, .magic: dead4ead, .owner: syz.1.2/4242, .owner_cpu: 0
{TASK}
Call Trace:
 <TASK>
 dump_stack_lvl+0x116/0x1b0
 do_raw_spin_trylock+0x1a/0x40
 _raw_spin_trylock+0x1a/0x40
 foo_try+0x1a/0x40
{SYSCALL}"
    ));
    check(
        &data,
        "BUG: spinlock trylock failure on UP in foo_try",
        "LOCKDEP",
        "foo_try",
        false,
    );
}

#[test]
fn go_panic_is_named_by_its_message() {
    // A panic of the fuzzer (Go), next to the runtime's "fatal error:".
    let data = b"2024/10/02 11:34:15 executing program 1:\npanic: runtime error: index out of range [5] with length 3\n\ngoroutine 1 [running]:\nmain.main()\n";
    check(
        data,
        "panic: runtime error: index out of range [NUM] with length NUM",
        "DoS",
        "",
        false,
    );
}
