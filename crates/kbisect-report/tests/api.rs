//! Regression cases for the public API, independent of the corpus.
#![allow(clippy::unwrap_used)]

use kbisect_report::{Config, CrashType, Reporter, crash_type_of_title};

fn reporter() -> Reporter {
    Reporter::new(&Config::default()).unwrap()
}

const KASAN: &[u8] =
    b"[   10.000000][ T100] ==================================================================
[   10.000001][ T100] BUG: KASAN: slab-use-after-free in foo_read+0x10/0x20
[   10.000002][ T100] Read of size 8 at addr ffff888012345678 by task syz.1.2/100
[   10.000003][ T100] CPU: 0 UID: 0 PID: 100 Comm: syz.1.2 Not tainted 6.14.0 #0
[   10.000004][ T100] Call Trace:
[   10.000005][ T100]  <TASK>
[   10.000006][ T100]  dump_stack_lvl+0x10/0x20
[   10.000007][ T100]  print_report+0x10/0x20
[   10.000008][ T100]  kasan_report+0x10/0x20
[   10.000009][ T100]  foo_read+0x10/0x20
[   10.000010][ T100]  __x64_sys_read+0x10/0x20
[   10.000011][ T100]  do_syscall_64+0x10/0x20
[   10.000012][ T100]  </TASK>
";

const HANG: &[u8] =
    b"[  500.000000][   T30] INFO: task syz.0.5:200 blocked for more than 143 seconds.
[  500.000001][   T30] Call Trace:
[  500.000002][   T30]  <TASK>
[  500.000003][   T30]  __schedule+0x10/0x20
[  500.000004][   T30]  schedule+0x10/0x20
[  500.000005][   T30]  rwsem_down_write_slowpath+0x10/0x20
[  500.000006][   T30]  down_write+0x10/0x20
[  500.000007][   T30]  rtnl_lock+0x10/0x20
[  500.000008][   T30]  do_setlink+0x10/0x20
[  500.000009][   T30]  </TASK>
";

#[test]
fn kasan_report_fields() {
    let rep = reporter().parse(KASAN).unwrap();
    assert_eq!(rep.title, "KASAN: slab-use-after-free Read in foo_read");
    assert_eq!(rep.crash_type, CrashType::KasanUseAfterFreeRead);
    assert_eq!(rep.alt_titles, vec!["bad-access in foo_read".to_string()]);
    assert_eq!(rep.frame, "foo_read");
    assert!(!rep.corrupted, "{}", rep.corrupted_reason);
    assert_eq!(rep.executor.unwrap().to_string(), "proc=1, id=2");
    assert!(rep.report.starts_with(b"=========="));
    assert!(!rep.panicked);
}

#[test]
fn hung_task_buckets_rtnl() {
    let rep = reporter().parse(HANG).unwrap();
    assert_eq!(rep.title, "INFO: task hung in rtnl_lock");
    assert_eq!(rep.crash_type, CrashType::Hang);
}

#[test]
fn parse_all_finds_each_crash() {
    let mut log = b"[    1.0] booting\n".to_vec();
    log.extend_from_slice(KASAN);
    log.extend_from_slice(b"[  100.0] executing program\n");
    log.extend_from_slice(HANG);
    let all = reporter().parse_all(&log);
    let titles: Vec<&str> = all.iter().map(|r| r.title.as_str()).collect();
    assert_eq!(
        titles,
        vec![
            "KASAN: slab-use-after-free Read in foo_read",
            "INFO: task hung in rtnl_lock"
        ]
    );
    assert!(all[0].start < all[1].start);
    assert_eq!(
        reporter().parse_from(&log, all[0].end).unwrap().title,
        all[1].title
    );
}

#[test]
fn false_alarms_are_not_crashes() {
    let r = reporter();
    for line in [
        &b"[ 1.0] INFO: lockdep is turned off.\n"[..],
        b"[ 1.0] ODEBUG: object is on stack, but not annotated\n",
        b"[ 1.0] WARNING: The mand mount option has been deprecated and\n",
        b"[ 1.0] fuse: Unknown parameter 'Booting the kernel.'\n",
    ] {
        assert!(!r.contains_crash(line), "{}", String::from_utf8_lossy(line));
    }
}

#[test]
fn titles_are_normalised() {
    let r = reporter();
    let rep = r
        .parse(b"[ 1.0] unregister_netdevice: waiting for lo to become free. Usage count = 2\n")
        .unwrap();
    assert_eq!(
        rep.title,
        "unregister_netdevice: waiting for DEV to become free"
    );
    let rep = r
        .parse(b"SYZFAIL: wrong response packet\n (errno 16: Device or resource busy)\n")
        .unwrap();
    assert_eq!(rep.title, "SYZFAIL: wrong response packet");
    assert_eq!(rep.crash_type, CrashType::SyzFailure);
}

#[test]
fn type_is_a_function_of_the_title() {
    assert_eq!(
        crash_type_of_title("possible deadlock in foo"),
        CrashType::Lockdep
    );
    assert_eq!(
        crash_type_of_title("memory leak in foo"),
        CrashType::MemoryLeak
    );
    assert_eq!(
        crash_type_of_title("unexpected kernel reboot"),
        CrashType::UnexpectedReboot
    );
    assert_eq!(crash_type_of_title("something else"), CrashType::Unknown);
}
