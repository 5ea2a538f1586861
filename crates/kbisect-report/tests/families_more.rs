//! Synthetic reports for faults, stalls, hangs, panics and the rules that
//! flag a report as corrupted (second half of `families.rs`).
#![allow(clippy::unwrap_used)]

mod common;

use common::{log, reporter};

fn log_untagged(lines: &str) -> Vec<u8> {
    let mut out = Vec::new();
    for (i, l) in lines.lines().enumerate() {
        out.extend_from_slice(format!("[  100.{i:06}] {l}\n").as_bytes());
    }
    out
}

const TRAILER: &str = " __x64_sys_ioctl+0x19d/0x210
 do_syscall_64+0xcd/0x250
 entry_SYSCALL_64_after_hwframe+0x77/0x7f
 </TASK>";

const REGS: &str = "RSP: 0018:ffffc90003f1f8f0 EFLAGS: 00010246
RAX: 0000000000000000 RBX: ffff888012345678 RCX: 0000000000000000";

fn check(data: &[u8], title: &str, corrupted: bool) {
    let rep = reporter()
        .parse(data)
        .unwrap_or_else(|| panic!("no crash: want {title}"));
    assert_eq!(rep.title, title, "report:\n{}", rep.report_text());
    assert_eq!(
        rep.corrupted, corrupted,
        "{title}: reason {:?}",
        rep.corrupted_reason
    );
}

#[test]
fn faults_of_all_architectures() {
    let gpf = log(&format!(
        "Oops: general protection fault, probably for non-canonical address 0xdffffc0000000001: 0000 [#1] PREEMPT SMP KASAN NOPTI
KASAN: null-ptr-deref in range [0x0000000000000008-0x000000000000000f]
CPU: 0 UID: 0 PID: 4242 Comm: syz.1.2 Not tainted 6.12.0-syzkaller #0
RIP: 0010:foo_deref+0x10/0x20
{REGS}
Call Trace:
 <TASK>
 foo_caller+0x1a/0x40
{TRAILER}"
    ));
    check(&gpf, "general protection fault in foo_deref", false);
    for (head, title) in [
        (
            "Unable to handle kernel paging request at virtual address dfff800000000001",
            "BUG: unable to handle kernel paging request in foo_arm",
        ),
        (
            "Unable to handle kernel NULL pointer dereference at virtual address 0000000000000008",
            "BUG: unable to handle kernel NULL pointer dereference in foo_arm",
        ),
    ] {
        let arm = log(&format!(
            "{head}
Mem abort info:
  ESR = 0x0000000096000005
Internal error: Oops: 0000000096000005 [#1] PREEMPT SMP
Modules linked in:
CPU: 1 UID: 0 PID: 4242 Comm: syz.1.2 Not tainted 6.12.0-syzkaller #0
pstate: 80400005 (Nzcv daif +PAN -UAO -TCO -DIT -SSBS BTYPE=--)
pc : foo_arm+0x10/0x20
lr : bar_arm+0x10/0x20
sp : ffff80009a2b7a40
Call trace:
 foo_arm+0x10/0x20 (P)
 bar_arm+0x10/0x20
 invoke_syscall+0x98/0x2b8
 el0_svc+0x58/0x16c"
        ));
        check(&arm, title, false);
    }
    let internal = log(
        "Internal error: Oops - BUG: 00000000f2000800 [#1] PREEMPT SMP
Modules linked in:
CPU: 1 UID: 0 PID: 4242 Comm: syz.1.2 Not tainted 6.12.0-syzkaller #0
pc : foo_arm+0x10/0x20
lr : bar_arm+0x10/0x20
Call trace:
 foo_arm+0x10/0x20
 bar_arm+0x10/0x20",
    );
    check(&internal, "Internal error in foo_arm", false);
}

#[test]
fn stack_overflow_and_notices() {
    let guard = log(&format!(
        "BUG: TASK stack guard page was hit at ffffc9000aa2fff8 (stack is ffffc9000aa30000..ffffc9000aa38000)
Oops: stack guard page: 0000 [#1] PREEMPT SMP KASAN NOPTI
CPU: 0 UID: 0 PID: 4242 Comm: syz.1.2 Not tainted 6.12.0-syzkaller #0
RIP: 0010:__sanitizer_cov_trace_pc+0x10/0x70
{REGS}
Call Trace:
 <TASK>
 foo_recurse+0x10/0x20
 foo_recurse+0x10/0x20
 foo_recurse+0x10/0x20
{TRAILER}"
    ));
    check(
        &guard,
        "BUG: stack guard page was hit in foo_recurse",
        false,
    );
    let netdev = log("unregister_netdevice: waiting for batadv0 to become free. Usage count = 3");
    check(
        &netdev,
        "unregister_netdevice: waiting for DEV to become free",
        false,
    );
    let reboot = b"Decompressing Linux... Parsing ELF... done.\nBooting the kernel.\n";
    check(reboot, "unexpected kernel reboot", false);
}

#[test]
fn stall_blames_the_interrupted_code() {
    // The interrupted frame is a lockdep helper called from RCU helpers:
    // all infrastructure above the dispatcher, so the RIP frame is named.
    let stall = log("rcu: INFO: rcu_preempt self-detected stall on CPU
rcu: \t0-....: (10500 ticks this GP) idle=1234/1/0x4000000000000000
Call Trace:
 <IRQ>
 rcu_dump_cpu_stacks+0x10/0x20
 rcu_sched_clock_irq+0x10/0x20
 update_process_times+0x10/0x20
 </IRQ>
 <TASK>
RIP: 0010:lock_is_held_type+0x10/0x20
RSP: 0018:ffffc90003f1f8f0 EFLAGS: 00000246
 rcu_read_lock_held+0x10/0x20
 nfnetlink_rcv_msg+0x10/0x20
 netlink_rcv_skb+0x10/0x20");
    check(
        &stall,
        "INFO: rcu detected stall in lock_is_held_type",
        false,
    );
}

#[test]
fn hang_with_only_unreliable_frames_is_corrupted() {
    let hang = log_untagged(
        "INFO: task syz-executor1:12659 blocked for more than 120 seconds.
      Not tainted 4.15.0-rc2+ #152
\"echo 0 > /proc/sys/kernel/hung_task_timeout_secs\" disables this message.
syz-executor1   D21600 12659   3368 0x00000004
Call Trace:
 __schedule+0x8eb/0x2060
 ? __sched_text_start+0x8/0x8
 ? insert_work+0x5d0/0x5d0",
    );
    check(&hang, "INFO: task hung in corrupted", true);
}

#[test]
fn consequence_panics_are_corrupted() {
    for (msg, title) in [
        ("panic_on_warn set ...", "kernel panic: panic_on_warn set"),
        (
            "hung_task: blocked tasks",
            "kernel panic: hung_task: blocked tasks",
        ),
        ("Fatal exception", "kernel panic: Fatal exception"),
    ] {
        let data = log(&format!(
            "Kernel panic - not syncing: {msg}
CPU: 1 PID: 870 Comm: khungtaskd Not tainted 6.12.0 #5
Call Trace:
 dump_stack+0x194/0x24d
 panic+0x1e4/0x41c
 watchdog+0x91d/0xd60
 kthread+0x33c/0x400"
        ));
        check(&data, title, true);
    }
    let sysrq = log("Kernel panic - not syncing: sysrq triggered crash
Call Trace:
 dump_stack+0x1db/0x2d0
 panic+0x2cb/0x65c
 sysrq_handle_crash+0x1f/0x20
 write_sysrq_trigger+0x7c/0x90");
    check(&sysrq, "kernel panic: sysrq triggered crash", false);
}

#[test]
fn lost_headers_are_corrupted() {
    // Old SLUB debug lines without the "BUG <cache>" header before them.
    let slub = log_untagged("INFO: Freed in foo_free_rcu+0x14/0x20 age=624 cpu=0 pid=3");
    check(
        &slub,
        "INFO: Freed in foo_free_rcu age=NUM cpu=NUM pid=NUM",
        true,
    );
    let bare = b"INFO:\n";
    check(bare, "INFO: corrupted", true);
    // Bad page state without page_owner's allocation stack.
    let page = log("BUG: Bad page state in process syz.1.2  pfn:1b317b
page: refcount:0 mapcount:0 mapping:0000000000000000 index:0x0 pfn:0x1b317b
page dumped because: PAGE_FLAGS_CHECK_AT_FREE flag(s) set
Call trace:
 dump_stack+0x1c/0x28
 bad_page+0x1a4/0x1c4
 free_unref_page+0x80/0x3dc
 foo_put_pages+0xb94/0x1c08");
    check(&page, "BUG: Bad page state in corrupted", true);
}

#[test]
fn kernel_stack_regs_variants() {
    let hashed = log_untagged(
        "WARNING: kernel stack regs at         (ptrval) in syzkaller547737:4493 has bad 'bp' value         (ptrval)",
    );
    check(&hashed, "WARNING: kernel stack regs has bad value", false);
    let fp = log_untagged(
        "WARNING: kernel stack frame pointer at         (ptrval) in syzkaller601944:4492 has bad value         (ptrval)",
    );
    check(&fp, "WARNING: kernel stack regs has bad value", false);
    let raw = log_untagged(
        "WARNING: kernel stack regs at ffff8801d100fea8 in syz-executor1:16059 has bad 'bp' value ffff8801d100ff28",
    );
    check(&raw, "WARNING: kernel stack regs has bad 'bp' value", false);
}

#[test]
fn spliced_and_interleaved_stacks_are_corrupted() {
    // The fault injector's dump_stack() lost its header and landed in ours.
    let spliced = log_untagged(
        "WARNING: CPU: 0 PID: 18900 at kernel/kthread.c:769 kthread_insert_work_sanity_check+0xb8/0x130
Kernel panic - not syncing: panic_on_warn set ...
Call Trace:
 dump_stack+0x14d/0x20b
 should_fail+0x11f/0x170
 should_failslab+0x121/0x190
 kmem_cache_alloc_node+0x2ed/0x810
 __alloc_skb+0xc6/0x590
 netlink_sendmsg+0x967/0xd50",
    );
    check(&spliced, "WARNING in corrupted", true);
    // Another oops printed between two frames of ours.
    let mixed = log_untagged(
        "==================================================================
BUG: KASAN: stack-out-of-bounds in foo_lookup+0x50/0x60
Read of size 4 at addr ffff8880a9eb8cbc by task syz-executor/1
Call Trace:
 dump_stack+0x1db/0x2d0
 kasan_report+0x8c/0x2ba
 foo_lookup+0x50/0x60
list_add corruption. next->prev should be prev (ffff8880ae72d8d8), but was ffff8880a9eb8600.
 foo_err+0xbc9/0x1890
 do_syscall_64+0x1a3/0x800",
    );
    check(
        &mixed,
        "KASAN: stack-out-of-bounds Read in foo_lookup",
        true,
    );
    // A one-line notice in the middle of a stack is harmless.
    let notice = log_untagged(
        "INFO: task syz-executor0:6102 blocked for more than 120 seconds.
Call Trace:
 __schedule+0x8eb/0x2060
 schedule+0x10/0x20
 foo_netns_setup+0x10/0x20
unregister_netdevice: waiting for lo to become free. Usage count = 6
 copy_net_ns+0x10/0x20
 create_new_namespaces+0x10/0x20",
    );
    check(&notice, "INFO: task hung in foo_netns_setup", false);
}

#[test]
fn riscv_trace_without_call_trace_line() {
    let data = log("------------[ cut here ]------------
WARNING: CPU: 0 PID: 10040 at io_uring/foo.c:3026 foo_exit_work+0x44c/0xbc0
Modules linked in:
CPU: 0 UID: 0 PID: 10040 Comm: kworker/u8:0 Not tainted 6.12.0-syzkaller #0
Hardware name: riscv-virtio,qemu (DT)
epc : foo_exit_work+0x44c/0xbc0
 ra : foo_exit_work+0x44c/0xbc0
status: 0000000200000120 badaddr: ffffffff80014264 cause: 0000000000000003
[<ffffffff80014264>] foo_exit_work+0x44c/0xbc0
[<ffffffff801c2668>] process_one_work+0x930/0x1e14
[<ffffffff801c408c>] worker_thread+0x540/0xcbc
[<ffffffff801e3054>] kthread+0x37c/0x778");
    check(&data, "WARNING in foo_exit_work", false);
}

#[test]
fn rust_panic_names_the_trait_method() {
    let data = log(&format!(
        "rust_kernel: panicked at rust/kernel/page_size_compat.rs:60:5:
attempt to add with overflow
------------[ cut here ]------------
kernel BUG at rust/helpers/bug.c:7!
Oops: invalid opcode: 0000 [#1] PREEMPT SMP KASAN PTI
RIP: 0010:rust_helper_BUG+0x8/0x10
Call Trace:
 <TASK>
 _RNvCscSpY9Juk0HT_7___rustc17rust_begin_unwind+0x15b/0x160
 _RNvNtCs9jEwPDbx20M_4core9panicking9panic_fmt+0x84/0x90
 _RNvXs1_CscPPBqWtAqum_11ashmem_rustNtB5_6AshmemNtNtCs43vyB533jt3_6kernel10miscdevice10MiscDevice4mmap+0xe44/0xfb0
 mmap_region+0x1371/0x1bd0
{TRAILER}"
    ));
    let rep = reporter().parse(&data).unwrap();
    assert_eq!(
        rep.title,
        "attempt to add with overflow in <ashmem_rust::Ashmem as kernel::miscdevice::MiscDevice>::mmap"
    );
    assert_eq!(
        rep.frame,
        "<ashmem_rust::Ashmem as kernel::miscdevice::MiscDevice>::mmap"
    );
    let other = log(&format!(
        "rust_kernel: panicked at drivers/foo/lib.rs:12:9:
called `Option::unwrap()` on a `None` value
Call Trace:
 <TASK>
 _RNvNtCs9jEwPDbx20M_4core9panicking9panic_fmt+0x84/0x90
 _RNvMNtCs1234_6kernel4fileNtB2_4File3get+0x10/0x20
{TRAILER}"
    ));
    check(
        &other,
        "called `Option::unwrap()` on a `None` value in <kernel::file::File>::get",
        false,
    );
}

#[test]
fn guilty_file_skips_held_locks() {
    let report = b"BUG: sleeping function called from invalid context at arch/x86/mm/fault.c:1372
1 lock held by syz-executor/1:
 #0:  (sk_lock-AF_ALG){+.+.}, at: [<0000000035a74818>] af_alg_wait_for_data+0x2f2/0x650 crypto/af_alg.c:768
Call Trace:
 __might_sleep+0x95/0x190 kernel/sched/core.c:6042
 foo_walk_done+0x72b/0xde0 crypto/foo_walk.c:139
";
    assert_eq!(reporter().guilty_file(report), "crypto/foo_walk.c");
}
