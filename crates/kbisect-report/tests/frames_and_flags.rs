//! Synthetic logs (modelled on Linux 6.12's output, never copied from the
//! corpus) for the rules that pick the guilty frame — infrastructure by
//! defining file and by naming convention, stalls and stack overflows — and
//! for the flags: KMSAN origins, suppressions, corrupted reports.
#![allow(clippy::unwrap_used)]

mod common;

use common::{log, reporter};

const TASK: &str = "CPU: 0 UID: 0 PID: 4242 Comm: syz.1.2 Not tainted 6.12.0-syzkaller #0
Hardware name: Google Google Compute Engine/Google Compute Engine, BIOS Google 09/13/2024";
const REGS: &str = "RSP: 0018:ffffc90003f1f8f0 EFLAGS: 00010246
RAX: 0000000000000000 RBX: ffff888012345678 RCX: 0000000000000000";
const SYSCALL: &str = " do_syscall_64+0xcd/0x250
 entry_SYSCALL_64_after_hwframe+0x77/0x7f
 </TASK>";

fn check(data: &[u8], title: &str, frame: &str, corrupted: bool) {
    let rep = reporter()
        .parse(data)
        .unwrap_or_else(|| panic!("no crash: want {title}"));
    assert_eq!(rep.title, title, "report:\n{}", rep.report_text());
    assert_eq!(rep.frame, frame, "{title}");
    assert_eq!(
        rep.corrupted, corrupted,
        "{title}: reason {:?}",
        rep.corrupted_reason
    );
}

/// A KASAN report whose access is caught in `top` (then `frames`).
fn kasan(top: &str, frames: &str) -> Vec<u8> {
    log(&format!(
        "==================================================================
BUG: KASAN: slab-use-after-free in {top}+0x1a/0x40
Read of size 8 at addr ffff88801234abcd by task syz.1.2/4242

{TASK}
Call Trace:
 <TASK>
 dump_stack_lvl+0x116/0x1b0
 print_report+0xc3/0x620
 kasan_report+0xd9/0x110
 {top}+0x1a/0x40
{frames}
 __x64_sys_ioctl+0x19d/0x210
{SYSCALL}"
    ))
}

/// A general protection fault at `rip`, then `frames`.
fn gpf(rip: &str, frames: &str) -> Vec<u8> {
    log(&format!(
        "Oops: general protection fault, probably for non-canonical address 0xdffffc0000000001: 0000 [#1] PREEMPT SMP KASAN NOPTI
{TASK}
RIP: 0010:{rip}+0x10/0x20
{REGS}
Call Trace:
 <TASK>
{frames}
 __x64_sys_ioctl+0x19d/0x210
{SYSCALL}"
    ))
}

#[test]
fn helpers_by_defining_file() {
    // lib/string.c, lib/vsprintf.c, lib/klist.c, drivers/base/core.c,
    // kernel/locking/qrwlock.c, mm/slub.c: every one is a service the
    // frame below called.
    for (top, below) in [
        ("strcasecmp", " foo_match_name+0x1a/0x40"),
        (
            "dentry_name",
            " vsnprintf+0x1a/0x40\n seq_printf+0x1a/0x40\n foo_show+0x1a/0x40",
        ),
        (
            "klist_put",
            " klist_del+0x1a/0x40\n device_del+0x1a/0x40\n foo_disconnect+0x1a/0x40",
        ),
        (
            "queued_read_lock_slowpath",
            " _raw_read_lock+0x1a/0x40\n foo_lookup+0x1a/0x40",
        ),
        ("kmem_cache_alloc_noprof", " foo_alloc+0x1a/0x40"),
    ] {
        let frame = below.rsplit(' ').next().unwrap().split('+').next().unwrap();
        check(
            &kasan(top, below),
            &format!("KASAN: slab-use-after-free Read in {frame}"),
            frame,
            false,
        );
    }
}

#[test]
fn helpers_by_naming_convention() {
    // Wrappers named after what they wrap: an allocator wrapper, a printk
    // wrapper, a user-copy spelling and an MMIO accessor.
    for (rip, below, frame) in [
        (
            "__kmem_cache_alloc_node",
            " __kmalloc_cache_noprof+0x1a/0x40\n sock_kmalloc+0x1a/0x40\n foo_setsockopt+0x1a/0x40",
            "foo_setsockopt",
        ),
        ("memcpy_orig", " foo_copy_key+0x1a/0x40", "foo_copy_key"),
        ("__get_user_8", " foo_get_args+0x1a/0x40", "foo_get_args"),
        ("ioread32", " foo_read_status+0x1a/0x40", "foo_read_status"),
        ("nla_strscpy", " foo_parse_name+0x1a/0x40", "foo_parse_name"),
    ] {
        check(
            &gpf(rip, below),
            &format!("general protection fault in {frame}"),
            frame,
            false,
        );
    }
}

#[test]
fn a_section_label_is_not_a_function() {
    // kallsyms names addresses past the last function of a section after
    // the linker script's label (include/asm-generic/vmlinux.lds.h).
    check(
        &gpf("__irqentry_text_end", " foo_handle_event+0x1a/0x40"),
        "general protection fault in foo_handle_event",
        "foo_handle_event",
        false,
    );
}

#[test]
fn stack_overflow_blames_the_frame_above_the_dispatcher() {
    // arch/x86/kernel/traps.c handle_stack_overflow(): the top frames are
    // wherever the stack ran out; the notifier recursion started in the
    // netlink handler that rtnetlink_rcv_msg() dispatched to.
    let mut chain = String::new();
    for _ in 0..4 {
        chain.push_str(
            " notifier_call_chain+0xb5/0x200
 call_netdevice_notifiers_info+0xb5/0x130
 __netdev_update_features+0x95d/0x17d0
 bond_netdev_event+0x5d6/0xa80\n",
        );
    }
    let data = log(&format!(
        "BUG: TASK stack guard page was hit at ffffc9001a6e7fe8 (stack is ffffc9001a6e8000..ffffc9001a6effff)
Oops: stack guard page: 0000 [#1] PREEMPT SMP KASAN NOPTI
{TASK}
RIP: 0010:arch_stack_walk+0x57/0xe0
{REGS}
Call Trace:
 <TASK>
 stack_trace_save+0x8c/0xc0
 kasan_save_stack+0x1b/0x40
 kfree+0xeb/0x670
 pskb_expand_head+0xb0b/0x1060
{chain} __rtnl_newlink+0x13af/0x1760
 rtnl_newlink+0x64/0xa0
 rtnetlink_rcv_msg+0x44e/0xb70
 netlink_rcv_skb+0x153/0x420
 netlink_sendmsg+0x85b/0xda0
 __sock_sendmsg+0xcf/0x120
 __sys_sendmsg+0xe5/0x1b0
{SYSCALL}"
    ));
    check(
        &data,
        "BUG: stack guard page was hit in rtnl_newlink",
        "rtnl_newlink",
        false,
    );
    // Recursion in a protocol's setsockopt: __sys_setsockopt() dispatches
    // through proto_ops, the handler above it is the story.
    let recursion = log(&format!(
        "BUG: TASK stack guard page was hit at ffffc900054afff8 (stack is ffffc900054b0000..ffffc900054b8000)
Oops: stack guard page: 0000 [#1] PREEMPT SMP KASAN NOPTI
{TASK}
RIP: 0010:__sanitizer_cov_trace_const_cmp4+0x17/0x70
{REGS}
Call Trace:
 <TASK>
 foo_setsockopt+0x90/0xe40
 foo_setsockopt+0x128/0xe40
 foo_setsockopt+0x128/0xe40
 __sys_setsockopt+0x2db/0x610
 __x64_sys_setsockopt+0xba/0x150
{SYSCALL}"
    ));
    check(
        &recursion,
        "BUG: stack guard page was hit in foo_setsockopt",
        "foo_setsockopt",
        false,
    );
}

#[test]
fn arm64_stack_overflow() {
    // arch/arm64/kernel/traps.c handle_bad_stack(): registers, then
    // nmi_panic("kernel stack overflow"), whose trace runs into the task's.
    let data = log("Insufficient stack space to handle exception!
ESR: 0x0000000096000047 -- DABT (current EL)
FAR: 0xffff800089b27ff0
Task stack:     [0xffff800089b28000..0xffff800089b30000]
pc : foo_recurse+0x10/0x40
lr : foo_recurse+0x2c/0x40
Kernel panic - not syncing: kernel stack overflow
CPU: 1 UID: 0 PID: 4242 Comm: syz.1.2 Not tainted 6.12.0-syzkaller #0
Call trace:
 dump_backtrace+0x1a/0x40
 show_stack+0x1a/0x40
 dump_stack_lvl+0x1a/0x40
 panic+0x1a/0x40
 nmi_panic+0x1a/0x40
 handle_bad_stack+0x1a/0x40
 __bad_stack+0x1a/0x40
 foo_recurse+0x10/0x40
 foo_recurse+0x2c/0x40
 foo_recurse+0x2c/0x40
 foo_ioctl+0x1a/0x40
 __arm64_sys_ioctl+0x98/0x2b8
 invoke_syscall+0x98/0x2b8
 el0_svc+0x58/0x16c");
    check(
        &data,
        "kernel stack overflow in foo_ioctl",
        "foo_ioctl",
        false,
    );
}

#[test]
fn kmsan_usb_infoleak_names_the_origin() {
    // mm/kmsan/report.c: "Local variable %s created at:" then the frames
    // of the function that owns the variable.
    let data = log(&format!(
        "=====================================================
BUG: KMSAN: kernel-usb-infoleak in usb_submit_urb+0x6c1/0x2aa0
 usb_submit_urb+0x6c1/0x2aa0
 foo_usb_send+0x5f0/0x16f0
 foo_connect+0x143e/0x1960
 foo_probe+0x177/0x2c0

Local variable req created at:
 foo_connect+0x1029/0x1960
 foo_probe+0x177/0x2c0

Bytes 4-7 of 18 are uninitialized
Memory access of size 18 starts at ffff888090c4fe00

{TASK}
====================================================="
    ));
    let rep = reporter().parse(&data).unwrap();
    assert_eq!(rep.title, "KMSAN: kernel-usb-infoleak in foo_usb_send");
    assert_eq!(
        rep.alt_titles,
        vec!["KMSAN origin in foo_connect".to_string()]
    );
    assert_eq!(rep.crash_type.to_string(), "KMSAN-INFO-LEAK");
    assert!(!rep.corrupted, "{}", rep.corrupted_reason);
}

#[test]
fn the_fuzzer_dying_of_its_own_causes_is_suppressed() {
    let crash = format!(
        "WARNING: CPU: 0 PID: 4242 at drivers/foo/bar.c:12 foo_check+0x10/0x20
Modules linked in:
{TASK}
RIP: 0010:foo_check+0x10/0x20
Call Trace:
 <TASK>
 foo_ioctl+0x55/0x90
{SYSCALL}"
    );
    for line in [
        "fatal error: unexpected signal during runtime execution",
        "signal SIGBUS: bus error",
        "lowmemorykiller: Killing 'syz-executor.3' (4242) (tgid 4242), adj 1000,",
    ] {
        let mut data = log(&crash);
        data.extend_from_slice(format!("{line}\n").as_bytes());
        let rep = reporter().parse(&data).unwrap();
        assert!(rep.suppressed, "{line}");
    }
    let rep = reporter().parse(&log(&crash)).unwrap();
    assert!(!rep.suppressed);
}

#[test]
fn another_cpus_oops_before_the_stack_is_not_our_frame() {
    // Untagged console: a WARNING, the panic_on_warn panic, its task line,
    // then a second CPU's oops before our trace got printed.
    let mut data = Vec::new();
    for (i, l) in format!(
        "WARNING: CPU: 1 PID: 4242 at drivers/foo/bar.c:12 foo_check+0x10/0x20
Kernel panic - not syncing: panic_on_warn set ...
CPU: 1 UID: 0 PID: 4242 Comm: syz.1.2 Not tainted 6.12.0-syzkaller #0
Call Trace:
Oops: general protection fault, probably for non-canonical address 0xdffffc0000000001: 0000 [#1] PREEMPT SMP KASAN NOPTI
CPU: 0 UID: 0 PID: 4243 Comm: syz.1.3 Not tainted 6.12.0-syzkaller #0
RIP: 0010:bar_deref+0x4/0x10
{REGS}
Call Trace:
 <TASK>
 bar_caller+0x1a/0x40
{SYSCALL}"
    )
    .lines()
    .enumerate()
    {
        data.extend_from_slice(format!("[  100.{i:06}] {l}\n").as_bytes());
    }
    check(&data, "WARNING in corrupted", "corrupted", true);
}

#[test]
fn an_interleaved_lockdep_banner_is_not_trusted() {
    // kernel/locking/lockdep.c lockdep_rcu_suspicious(): header, kernel
    // version, rule — another task's line inside it (untagged console).
    let mut data = Vec::new();
    for (i, l) in format!(
        "=============================
WARNING: suspicious RCU usage
6.12.0-syzkaller #0 Not tainted
FAULT_INJECTION: forcing a failure.
-----------------------------
net/foo/bar.c:123 suspicious rcu_dereference_check() usage!

other info that might help us debug this:

stack backtrace:
{TASK}
Call Trace:
 <TASK>
 dump_stack_lvl+0x116/0x1b0
 lockdep_rcu_suspicious+0x1a/0x40
 foo_lookup+0x1a/0x40
{SYSCALL}"
    )
    .lines()
    .enumerate()
    {
        data.extend_from_slice(format!("[  100.{i:06}] {l}\n").as_bytes());
    }
    let rep = reporter().parse(&data).unwrap();
    assert_eq!(rep.title, "WARNING: suspicious RCU usage");
    assert_eq!(rep.crash_type.to_string(), "WARNING");
    assert!(rep.corrupted);
}

#[test]
fn a_trace_cut_at_its_heading_is_corrupted() {
    // A KASAN report whose "Call Trace:" is followed straight by the next
    // stack's heading: the frames were lost.
    let data = log(&format!(
        "==================================================================
BUG: KASAN: slab-use-after-free in foo_parse+0x1a/0x40
Read of size 8 at addr ffff88801234abcd by task syz.1.2/4242

{TASK}
Call Trace:
Allocated by task 4242:
 kasan_save_stack+0x1b/0x40
 __kmalloc_noprof+0x1a/0x40
 foo_alloc+0x1a/0x40
 foo_ioctl+0x55/0x90

Freed by task 4242:
 kasan_save_stack+0x1b/0x40
 kfree+0x1a/0x40
 foo_free+0x1a/0x40
 foo_ioctl+0x55/0x90
=================================================================="
    ));
    let rep = reporter().parse(&data).unwrap();
    assert_eq!(rep.title, "KASAN: slab-use-after-free Read in foo_parse");
    assert!(rep.corrupted);
    assert_eq!(rep.corrupted_reason, "no frames in a stack trace");
}
