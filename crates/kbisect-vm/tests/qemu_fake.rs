//! The qemu tester's run classification and limits against scripted fake
//! qemu programs (the process boundary): every outcome, never a hang.

#![allow(clippy::unwrap_used)]

mod common;

use std::time::Duration;

use common::fake::*;
use common::*;
use kbisect_core::RunOutcome;
use kbisect_report::CrashType;
use kbisect_vm::qemu::{LOST_CONNECTION_TITLE, NO_OUTPUT_TITLE, ReproEnd, TIMED_OUT_TITLE};

#[test]
fn clean_run_is_ok_and_the_log_is_stripped() {
    let Some(env) = Env::new() else { return };
    let q = env.qemu(&format!("{PREAMBLE}{BASIC}{END}"));
    let r = env.one(env.cfg(&q));
    assert_eq!(r.outcome, RunOutcome::Ok);
    assert_eq!(r.repro_end, Some(ReproEnd::RanFullTime));
    assert!(r.boot_time.is_some());
    assert_eq!(r.log, env.path("logs/run-3.log"));
    let log = std::fs::read(&r.log).unwrap();
    assert!(
        log.starts_with(b"SeaBIOS (version 1.16.2)\n[    0.000000] Linux"),
        "{}",
        String::from_utf8_lossy(&log)
    );
    assert!(!log.contains(&b'\r') && !log.contains(&0x1b));
    assert_eq!(r.console_bytes, log.len() as u64);
}

#[test]
fn a_kernel_warning_is_titled_by_the_console_parser() {
    let Some(env) = Env::new() else { return };
    let q = env.qemu(&format!("{PREAMBLE}{BASIC}{WARN}"));
    let r = env.one(env.cfg(&q));
    let c = crashed(&r.outcome);
    assert_eq!(c.title, "WARNING in do_sys_openat2");
    assert_eq!(c.crash_type, CrashType::Warning);
    assert!(c.report.contains("Call Trace:"), "{}", c.report);
}

#[test]
fn a_header_split_across_reads_is_found() {
    let Some(env) = Env::new() else { return };
    // The header line arrives in two reads 0.3 s apart.
    let warn = WARN.replacen(
        "[    2.000002] WARNING: CPU: 0 PID: 42 at fs/open.c:1400 do_sys_openat2+0x10/0x20\n",
        "EOF\nprintf '[    2.000002] WARN'\nsleep 0.3\n\
printf 'ING: CPU: 0 PID: 42 at fs/open.c:1400 do_sys_openat2+0x10/0x20\\r\\n'\ncat <<'EOF'\n",
        1,
    );
    assert_ne!(warn, WARN);
    let q = env.qemu(&format!("{PREAMBLE}{BASIC}{warn}"));
    let r = env.one(env.cfg(&q));
    assert_eq!(crashed(&r.outcome).title, "WARNING in do_sys_openat2");
}

#[test]
fn a_crash_followed_by_100_mib_is_still_found_in_bounded_memory() {
    let Some(env) = Env::new() else { return };
    let before = peak_rss_kib();
    let q = env.qemu(&format!(
        "{PREAMBLE}{BASIC}{WARN}yes '[    9.000000] a line the kernel keeps printing after the oops' | head -c 104857600\n"
    ));
    let mut cfg = env.cfg(&q);
    cfg.console_cap = 1 << 20;
    let r = env.one(cfg);
    assert_eq!(crashed(&r.outcome).title, "WARNING in do_sys_openat2");
    assert!(r.console_bytes > 100 << 20, "{}", r.console_bytes);
    assert!(r.log_truncated);
    let log = std::fs::read_to_string(&r.log).unwrap();
    assert!(
        log.contains("[kbisect: console log truncated at 1048576 bytes;"),
        "{}",
        &log[log.len() - 200..]
    );
    // Far less than the output: the window, the log buffer, pipe chunks.
    let grew = peak_rss_kib().saturating_sub(before);
    println!("100 MiB after the crash: VmHWM grew by {grew} KiB");
    assert!(grew < 64 << 10, "peak memory grew by {grew} KiB");
}

#[test]
fn silence_while_the_reproducer_runs_is_no_output() {
    let Some(env) = Env::new() else { return };
    let q = env.qemu(&format!("{PREAMBLE}{BASIC}sleep 60\n"));
    let mut cfg = env.cfg(&q);
    cfg.idle_timeout = Duration::from_secs(1);
    let r = env.one(cfg);
    let c = crashed(&r.outcome);
    assert_eq!(
        (c.title.as_str(), &c.crash_type),
        (NO_OUTPUT_TITLE, &CrashType::NoOutput)
    );
    assert!(r.duration < Duration::from_secs(30));
}

#[test]
fn the_machine_going_away_mid_run_is_lost_connection() {
    let Some(env) = Env::new() else { return };
    let q = env.qemu(&format!(
        "{PREAMBLE}{BASIC}printf 'repro: working\\r\\n'\nexit 0\n"
    ));
    let r = env.one(env.cfg(&q));
    let c = crashed(&r.outcome);
    assert_eq!(c.title, LOST_CONNECTION_TITLE);
    assert_eq!(c.crash_type, CrashType::LostConnection);
    assert!(c.report.contains("repro: working"), "{}", c.report);
}

#[test]
fn a_run_past_its_wall_clock_limit_is_timed_out() {
    let Some(env) = Env::new() else { return };
    let q = env.qemu(&format!(
        "{PREAMBLE}{BASIC}while :; do printf 'repro: still busy\\r\\n'; sleep 0.1; done\n"
    ));
    let mut cfg = env.cfg(&q);
    cfg.boot_timeout = Duration::from_secs(2);
    cfg.run_time = Duration::ZERO;
    cfg.idle_timeout = Duration::from_secs(1);
    cfg.crash_wait = Duration::ZERO;
    cfg.end_wait = Duration::ZERO;
    cfg.wall_slack = Duration::from_secs(1);
    let r = env.one(cfg);
    let c = crashed(&r.outcome);
    assert_eq!(
        (c.title.as_str(), &c.crash_type),
        (TIMED_OUT_TITLE, &CrashType::Timeout)
    );
}

#[test]
fn a_panic_before_init_is_a_boot_failure_with_the_parsers_title() {
    let Some(env) = Env::new() else { return };
    let q = env.qemu(&format!(
        "{PREAMBLE}printf '[    1.100000] Kernel panic - not syncing: VFS: Unable to mount root fs on unknown-block(0,0)\\r\\n'\n"
    ));
    let r = env.one(env.cfg(&q));
    match &r.outcome {
        RunOutcome::BootFailed { reason } => {
            assert!(
                reason.starts_with("kernel panic: VFS: Unable to mount root fs"),
                "{reason}"
            )
        }
        o => panic!("{o:?}"),
    }
    assert_eq!(r.boot_time, None);
}

#[test]
fn a_warning_while_booting_is_a_boot_failure_even_when_init_runs() {
    let Some(env) = Env::new() else { return };
    // A kernel without panic_on_warn: it warns at boot and goes on.
    let boot_warn = WARN.replace("[    2.", "[    0.").replace(
        "[    2.000013] Kernel panic - not syncing: kernel: panic_on_warn set ...\n",
        "",
    );
    let q = env.qemu(&format!("{PREAMBLE}{boot_warn}{BASIC}sleep 60\n"));
    let mut cfg = env.cfg(&q);
    cfg.crash_wait = Duration::from_secs(1);
    let r = env.one(cfg);
    assert_eq!(
        r.outcome,
        RunOutcome::BootFailed {
            reason: "WARNING in do_sys_openat2".into()
        }
    );
    assert!(r.duration < Duration::from_secs(30), "{:?}", r.duration);
}

#[test]
fn no_basic_test_marker_in_time_is_a_boot_failure() {
    let Some(env) = Env::new() else { return };
    let q = env.qemu(&format!("{PREAMBLE}sleep 60\n"));
    let mut cfg = env.cfg(&q);
    cfg.boot_timeout = Duration::from_secs(1);
    let r = env.one(cfg);
    assert_eq!(
        r.outcome,
        RunOutcome::BootFailed {
            reason: "no sign of the basic test after 1s (last console line: [    1.000000] Run /init as init process)".into()
        }
    );
    // Silent from the start.
    let q = env.qemu("sleep 60\n");
    let mut cfg = env.cfg(&q);
    cfg.boot_timeout = Duration::from_secs(1);
    match env.one(cfg).outcome {
        RunOutcome::BootFailed { reason } => {
            assert!(reason.contains("the kernel printed nothing"), "{reason}")
        }
        o => panic!("{o:?}"),
    }
    // The machine stops before init (a kernel that halts).
    let q = env.qemu(&format!("{PREAMBLE}exit 0\n"));
    match env.one(env.cfg(&q)).outcome {
        RunOutcome::BootFailed { reason } => {
            assert!(
                reason.starts_with("the machine stopped before init ran"),
                "{reason}"
            )
        }
        o => panic!("{o:?}"),
    }
}

#[test]
fn a_failed_basic_test_or_exec_is_a_test_failure() {
    let Some(env) = Env::new() else { return };
    let q = env.qemu(&format!(
        "{PREAMBLE}printf 'KBISECT-BASIC-FAIL: the trivial program ended with status 0x7f00\\r\\nKBISECT-END\\r\\n'\n"
    ));
    assert_eq!(
        env.one(env.cfg(&q)).outcome,
        RunOutcome::TestFailed {
            reason: "the trivial program ended with status 0x7f00".into()
        }
    );
    let q = env.qemu(&format!(
        "{PREAMBLE}{BASIC}printf 'KBISECT-REPRO-EXEC-FAIL: exec /kbisect/repro: Exec format error\\r\\nKBISECT-REPRO-EXIT: 127\\r\\nKBISECT-END\\r\\n'\n"
    ));
    let r = env.one(env.cfg(&q));
    assert_eq!(
        r.outcome,
        RunOutcome::TestFailed {
            reason: "cannot run the reproducer: exec /kbisect/repro: Exec format error".into()
        }
    );
    assert_eq!(r.repro_end, Some(ReproEnd::Exited(127)));
}

#[test]
fn the_machine_is_stopped_after_a_crash_and_after_the_end() {
    let Some(env) = Env::new() else { return };
    // A kernel that keeps running after its report (no panic_on_warn).
    let q = env.qemu(&format!("{PREAMBLE}{BASIC}{WARN}sleep 60\n"));
    let mut cfg = env.cfg(&q);
    cfg.crash_wait = Duration::from_secs(1);
    let r = env.one(cfg);
    assert_eq!(crashed(&r.outcome).title, "WARNING in do_sys_openat2");
    assert!(r.duration < Duration::from_secs(30));
    // A kernel without ACPI that halts instead of powering off.
    let q = env.qemu(&format!("{PREAMBLE}{BASIC}{END}sleep 60\n"));
    let mut cfg = env.cfg(&q);
    cfg.end_wait = Duration::from_secs(1);
    let r = env.one(cfg);
    assert_eq!(r.outcome, RunOutcome::Ok);
    assert!(r.duration < Duration::from_secs(30));
}
