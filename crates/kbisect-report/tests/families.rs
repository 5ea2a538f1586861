//! One synthetic, realistic report per crash family: the title, type and
//! flags syzbot gives it. Logs are written here (modelled on what the kernel
//! prints), never copied from the corpus.
#![allow(clippy::unwrap_used)]

mod common;

use common::{log, reporter};

const TASK_TRAILER: &str = " __x64_sys_ioctl+0x19d/0x210
 do_syscall_64+0xcd/0x250
 entry_SYSCALL_64_after_hwframe+0x77/0x7f
 </TASK>";

fn check(data: &[u8], title: &str, typ: &str, corrupted: bool) {
    let rep = reporter()
        .parse(data)
        .unwrap_or_else(|| panic!("no crash: want {title}"));
    assert_eq!(rep.title, title, "report:\n{}", rep.report_text());
    let t = rep.crash_type.to_string();
    assert_eq!(if t == "UNKNOWN" { "" } else { &t }, typ, "{title}");
    assert_eq!(
        rep.corrupted, corrupted,
        "{title}: reason {:?}",
        rep.corrupted_reason
    );
}

fn with_trace(head: &str, frames: &str) -> Vec<u8> {
    log(&format!(
        "{head}
CPU: 0 UID: 0 PID: 4242 Comm: syz.1.2 Not tainted 6.12.0-syzkaller #0
Hardware name: Google Google Compute Engine/Google Compute Engine, BIOS Google 09/13/2024
Call Trace:
 <TASK>
 dump_stack_lvl+0x116/0x1b0
{frames}
{TASK_TRAILER}"
    ))
}

#[test]
fn kasan_variants() {
    let frames = " print_report+0xc3/0x620
 kasan_report+0xd9/0x110
 foo_parse+0x1a/0x40
 foo_ioctl+0x55/0x90";
    for (kind, access, typ) in [
        ("slab-out-of-bounds", "Read", "KASAN-READ"),
        ("global-out-of-bounds", "Read", "KASAN-READ"),
        ("stack-out-of-bounds", "Write", "KASAN-WRITE"),
        ("slab-use-after-free", "Read", "KASAN-USE-AFTER-FREE-READ"),
        ("use-after-free", "Write", "KASAN-USE-AFTER-FREE-WRITE"),
        (
            "null-ptr-deref",
            "Write",
            "KASAN-NULL-POINTER-DEREFERENCE-WRITE",
        ),
        ("wild-memory-access", "Read", "KASAN-READ"),
        ("user-memory-access", "Read", "KASAN-READ"),
    ] {
        let head = format!(
            "==================================================================
BUG: KASAN: {kind} in foo_parse+0x1a/0x40
{access} of size 8 at addr ffff88801234abcd by task syz.1.2/4242"
        );
        check(
            &with_trace(&head, frames),
            &format!("KASAN: {kind} {access} in foo_parse"),
            typ,
            false,
        );
    }
}

#[test]
fn kasan_without_access_line_is_corrupted() {
    // The "Read of size" line was lost to an interleaved oops.
    let head = "BUG: KASAN: slab-out-of-bounds in foo_parse+0x1a/0x40
general protection fault: 0000 [#1] SMP KASAN";
    let data = with_trace(head, " foo_parse+0x1a/0x40\n foo_ioctl+0x55/0x90");
    check(
        &data,
        "KASAN: slab-out-of-bounds in foo_parse",
        "KASAN-READ",
        true,
    );
}

#[test]
fn kasan_invalid_free() {
    let head = "BUG: KASAN: double-free in kfree+0x10/0x20
Free of addr ffff88801234abcd by task syz.1.2/4242";
    let data = with_trace(
        head,
        " kasan_report_invalid_free+0x1/0x2\n kfree+0x10/0x20\n foo_release+0x33/0x80",
    );
    check(
        &data,
        "KASAN: invalid-free in foo_release",
        "KASAN-INVALID-FREE",
        false,
    );
}

#[test]
fn ubsan_variants() {
    for (kind, msg, typ) in [
        (
            "shift-out-of-bounds",
            "shift exponent 64 is too large for 64-bit type 'long unsigned int'",
            "UBSAN",
        ),
        (
            "array-index-out-of-bounds",
            "index 5 is out of range for type 'int [4]'",
            "MEMORY_SAFETY_UBSAN",
        ),
        ("division-overflow", "division by zero", "UBSAN"),
        (
            "invalid-load",
            "load of value 2 is not a valid value for type '_Bool'",
            "UBSAN",
        ),
    ] {
        let head = format!("UBSAN: {kind} in drivers/foo/bar.c:123:45\n{msg}");
        let data = with_trace(
            &head,
            " ubsan_epilogue+0xa/0x40\n __ubsan_handle_shift_out_of_bounds+0x1/0x2\n foo_calc+0x1a/0x40",
        );
        check(&data, &format!("UBSAN: {kind} in foo_calc"), typ, false);
    }
}

#[test]
fn kcsan_kfence_kmsan() {
    let kcsan = log(
        "==================================================================
BUG: KCSAN: data-race in foo_read / foo_write

write to 0xffff888012345678 of 4 bytes by task 1 on cpu 0:
 foo_write+0x1a/0x40
 foo_ioctl+0x55/0x90

read to 0xffff888012345678 of 4 bytes by task 2 on cpu 1:
 foo_read+0x1a/0x40
 foo_ioctl+0x55/0x90
==================================================================",
    );
    check(
        &kcsan,
        "KCSAN: data-race in foo_read / foo_write",
        "KCSAN-DATARACE",
        false,
    );

    let kfence = log(
        "==================================================================
BUG: KFENCE: out-of-bounds read in foo_parse+0x1a/0x40

Out-of-bounds read at 0xffff8c2aae2b2ff9 (1B right of kfence-#88):
 foo_parse+0x1a/0x40
 foo_ioctl+0x55/0x90

kfence-#88: 0xffff8c2aae2b2fb0-0xffff8c2aae2b2ff8, size=73, cache=kmalloc-96
==================================================================",
    );
    check(
        &kfence,
        "KFENCE: out-of-bounds read in foo_parse",
        "KFENCE-READ",
        false,
    );

    // KMSAN in a crypto algorithm blames whoever handed it the data.
    let kmsan = log("=====================================================
BUG: KMSAN: uninit-value in aes_encrypt+0x15cc/0x1db0
 aes_encrypt+0x15cc/0x1db0
 aesti_encrypt+0x7d/0xf0
 crypto_cipher_encrypt_one+0x33/0x40
 drbg_ctr_update+0x19a9/0x3700
 foo_setkey+0x265/0x3b0
 __sys_setsockopt+0x43e/0x580

Uninit was created at:
 __kmalloc+0x10/0x20
 foo_alloc+0x10/0x20
=====================================================");
    check(
        &kmsan,
        "KMSAN: uninit-value in foo_setkey",
        "KMSAN-UNINIT-VALUE",
        false,
    );

    let leak = log("=====================================================
BUG: KMSAN: kernel-infoleak in instrument_copy_to_user+0x10/0x20
 instrument_copy_to_user+0x10/0x20
 _copy_to_user+0x10/0x20
 foo_getinfo+0x1a/0x40
 foo_ioctl+0x55/0x90

Uninit was created at:
 __kmalloc+0x10/0x20
 foo_alloc+0x10/0x20
=====================================================");
    check(
        &leak,
        "KMSAN: kernel-infoleak in foo_getinfo",
        "KMSAN-INFO-LEAK",
        false,
    );
}

#[test]
fn atomic_context_and_workqueue() {
    let sleeping = with_trace(
        "BUG: sleeping function called from invalid context at mm/slab.h:123
in_atomic(): 1, irqs_disabled(): 0, non_block: 0, pid: 4242, name: syz.1.2",
        " __might_resched+0x10/0x20\n kmem_cache_alloc_noprof+0x10/0x20\n foo_alloc_locked+0x1a/0x40",
    );
    check(
        &sleeping,
        "BUG: sleeping function called from invalid context in foo_alloc_locked",
        "ATOMIC_SLEEP",
        false,
    );
    let sched = with_trace(
        "BUG: scheduling while atomic: syz.1.2/4242/0x00000002",
        " __schedule_bug+0x10/0x20\n __schedule+0x10/0x20\n schedule+0x10/0x20\n foo_wait+0x1a/0x40",
    );
    check(
        &sched,
        "BUG: scheduling while atomic in foo_wait",
        "ATOMIC_SLEEP",
        false,
    );
    let wq = log(
        "BUG: workqueue lockup - pool cpus=0 node=0 flags=0x0 nice=0 stuck for 31s!
Showing busy workqueues and worker pools:",
    );
    check(&wq, "BUG: workqueue lockup", "", false);
    let rss = log("BUG: Bad rss-counter state mm:ffff888012345678 type:MM_ANONPAGES val:1");
    check(&rss, "BUG: Bad rss-counter state", "", false);
}

#[test]
fn list_corruption_and_kernel_bug() {
    let list = log(&format!(
        "list_del corruption, ffff888012345678->next is LIST_POISON1 (dead000000000100)
------------[ cut here ]------------
kernel BUG at lib/list_debug.c:56!
Oops: invalid opcode: 0000 [#1] PREEMPT SMP KASAN NOPTI
CPU: 0 UID: 0 PID: 4242 Comm: syz.1.2 Not tainted 6.12.0-syzkaller #0
RIP: 0010:__list_del_entry_valid_or_report+0x10/0x20
RSP: 0018:ffffc90003f1f8f0 EFLAGS: 00010246
Call Trace:
 <TASK>
 foo_remove+0x1a/0x40
{TASK_TRAILER}"
    ));
    check(
        &list,
        "BUG: corrupted list in foo_remove",
        "MEMORY_SAFETY_BUG",
        false,
    );
    let bug = log(&format!(
        "------------[ cut here ]------------
kernel BUG at fs/foo/bar.c:123!
Oops: invalid opcode: 0000 [#1] PREEMPT SMP KASAN NOPTI
CPU: 0 UID: 0 PID: 4242 Comm: syz.1.2 Not tainted 6.12.0-syzkaller #0
RIP: 0010:foo_check+0x10/0x20
RSP: 0018:ffffc90003f1f8f0 EFLAGS: 00010246
Call Trace:
 <TASK>
 foo_caller+0x1a/0x40
{TASK_TRAILER}"
    ));
    check(&bug, "kernel BUG in foo_check", "BUG", false);
}

#[test]
fn warnings_with_a_category() {
    let odebug = log(&format!(
        "------------[ cut here ]------------
ODEBUG: free active (active state 0) object: ffff888012345678 object type: timer_list hint: foo_timer+0x0/0x10
WARNING: CPU: 0 PID: 4242 at lib/debugobjects.c:514 debug_print_object+0x1a0/0x2a0
Modules linked in:
CPU: 0 UID: 0 PID: 4242 Comm: syz.1.2 Not tainted 6.12.0-syzkaller #0
RIP: 0010:debug_print_object+0x1a0/0x2a0
RSP: 0018:ffffc90003f1f8f0 EFLAGS: 00010246
Call Trace:
 <TASK>
 debug_check_no_obj_freed+0x10/0x20
 kfree+0x10/0x20
 foo_release+0x1a/0x40
{TASK_TRAILER}"
    ));
    check(
        &odebug,
        "WARNING: ODEBUG bug in foo_release",
        "WARNING",
        false,
    );
    let refcount = log(&format!(
        "------------[ cut here ]------------
refcount_t: underflow; use-after-free.
WARNING: CPU: 0 PID: 4242 at lib/refcount.c:28 refcount_warn_saturate+0x14a/0x210
Modules linked in:
RIP: 0010:refcount_warn_saturate+0x14a/0x210
RSP: 0018:ffffc90003f1f8f0 EFLAGS: 00010246
Call Trace:
 <TASK>
 foo_put+0x1a/0x40
{TASK_TRAILER}"
    ));
    check(
        &refcount,
        "WARNING: refcount bug in foo_put",
        "REFCOUNT_WARNING",
        false,
    );
}

#[test]
fn lockdep_family() {
    let unlock = log(&format!(
        "=====================================
WARNING: bad unlock balance detected!
6.12.0-syzkaller #0 Not tainted
-------------------------------------
syz.1.2/4242 is trying to release lock (&foo->lock) at:
[<ffffffff81234567>] foo_unlock+0x10/0x20
but there are no more locks to release!

other info that might help us debug this:
no locks held by syz.1.2/4242.

stack backtrace:
CPU: 0 UID: 0 PID: 4242 Comm: syz.1.2 Not tainted 6.12.0-syzkaller #0
Call Trace:
 <TASK>
 dump_stack_lvl+0x116/0x1b0
 lock_release+0x10/0x20
 foo_unlock+0x10/0x20
{TASK_TRAILER}"
    ));
    check(
        &unlock,
        "WARNING: bad unlock balance in foo_unlock",
        "LOCKDEP",
        false,
    );
    let key = with_trace(
        "INFO: trying to register non-static key.
The code is fine but needs lockdep annotation, or maybe
you didn't initialize this object before use?
turning off the locking correctness validator.",
        " register_lock_class+0x10/0x20\n __lock_acquire+0x10/0x20\n lock_acquire+0x10/0x20\n _raw_spin_lock_irqsave+0x10/0x20\n foo_notify+0x1a/0x40",
    );
    check(
        &key,
        "INFO: trying to register non-static key in foo_notify",
        "",
        false,
    );
    let circular = log(&format!(
        "======================================================
WARNING: possible circular locking dependency detected
6.12.0-syzkaller #0 Not tainted
------------------------------------------------------
syz.1.2/4242 is trying to acquire lock:
ffff888012345678 (&a->lock){{+.+.}}-{{3:3}}, at: foo_a+0x10/0x20

but task is already holding lock:
ffff888012345679 (&b->lock){{+.+.}}-{{3:3}}, at: foo_b+0x10/0x20

which lock already depends on the new lock.

stack backtrace:
Call Trace:
 <TASK>
 dump_stack_lvl+0x116/0x1b0
 foo_a+0x10/0x20
{TASK_TRAILER}"
    ));
    check(&circular, "possible deadlock in foo_a", "LOCKDEP", false);
    let inconsistent = log(&format!(
        "================================
WARNING: inconsistent lock state
6.12.0-syzkaller #0 Not tainted
--------------------------------
inconsistent {{SOFTIRQ-ON-W}} -> {{IN-SOFTIRQ-W}} usage.
syz.1.2/4242 [HC0[0]:SC1[1]:HE1:SE0] takes:
ffff888012345678 (&x->lock){{+.?.}}-{{2:2}}, at: foo_irq+0x10/0x20
{{SOFTIRQ-ON-W}} state was registered at:
  lock_acquire+0x10/0x20
  foo_init+0x10/0x20

stack backtrace:
Call Trace:
 <TASK>
 dump_stack_lvl+0x116/0x1b0
 foo_irq+0x10/0x20
{TASK_TRAILER}"
    ));
    check(
        &inconsistent,
        "inconsistent lock state in foo_irq",
        "LOCKDEP",
        false,
    );
}
