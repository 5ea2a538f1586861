//! The local tester reads a run's output as it streams (issue 8, point 4):
//! the whole output goes to the run's log file up to its cap, and a crash
//! is found wherever it is, however much output follows it, in bounded
//! memory — in the console parser's mode and in a user regexp's.

#![allow(clippy::unwrap_used, clippy::print_stdout)]

mod common;

use std::time::Duration;

use common::*;
use kbisect_core::{CrashType, InfraError, RunOutcome, RunResult};
use kbisect_proc::CancelToken;
use kbisect_vm::{LocalTester, LocalTesterConfig, VerdictMode};

const MIB: u64 = 1 << 20;

fn config(command: &str) -> LocalTesterConfig {
    LocalTesterConfig {
        command: command.into(),
        cwd: None,
        env: Vec::new(),
        parallel: 1,
        timeout: Duration::from_secs(300),
        idle_timeout: None,
        crash_regex: None,
        verdict: VerdictMode::Crash,
    }
}

/// Prints `before`, then `n` bytes of noise lines, then exits `code`.
fn command(before: &str, n: u64, code: i32) -> String {
    format!(
        "printf '%s\\n' '{before}'; yes 'a line the program keeps printing after it crashed' | head -c {n}; exit {code}"
    )
}

struct Ran {
    result: RunResult,
    log: Vec<u8>,
    hwm_growth_kib: u64,
}

fn run_one(cfg: LocalTesterConfig, log_cap: Option<u64>) -> Ran {
    let dir = tempfile::tempdir().unwrap();
    let mut t = LocalTester::new(cfg, CancelToken::new()).unwrap();
    if let Some(cap) = log_cap {
        t = t.with_log_cap(cap);
    }
    let logs = dir.path().join("logs");
    let before = peak_rss_kib();
    let mut r = run_tester(&mut t, &build(Some(dir.path())), &logs, 4, 1).unwrap();
    let hwm_growth_kib = peak_rss_kib().saturating_sub(before);
    Ran {
        result: r.remove(0),
        log: std::fs::read(logs.join("run-4-0.log")).unwrap(),
        hwm_growth_kib,
    }
}

fn crash(r: &RunResult) -> &kbisect_core::Crash {
    match &r.outcome {
        RunOutcome::Crashed(c) => c,
        o => panic!("expected a crash, got {o:?}"),
    }
}

#[test]
fn a_crash_line_then_100_mib_is_still_the_crash_and_memory_stays_bounded() {
    let line = "BUG: demo: use-after-free in parse_record";
    let ran = run_one(config(&command(line, 100 * MIB, 1)), Some(MIB));
    let c = crash(&ran.result);
    assert_eq!(c.title, line);
    assert_eq!(c.crash_type, CrashType::Bug);
    assert!(c.report.starts_with(line), "{}", &c.report[..80]);
    assert_eq!(ran.result.matched.as_deref(), Some(line));
    // The log holds the first MiB and says how much more there was.
    assert!(ran.log.starts_with(format!("{line}\na line").as_bytes()));
    let note = format!(
        "\n[kbisect: console log truncated at {MIB} bytes; {} more bytes not written]\n",
        100 * MIB + line.len() as u64 + 1 - MIB
    );
    assert!(
        ran.log.ends_with(note.as_bytes()),
        "{}",
        String::from_utf8_lossy(&ran.log[ran.log.len() - 200..])
    );
    println!(
        "100 MiB after the crash line: VmHWM grew by {} KiB",
        ran.hwm_growth_kib
    );
    assert!(ran.hwm_growth_kib < 64 << 10, "{} KiB", ran.hwm_growth_kib);
}

#[test]
fn a_kernel_style_report_then_100_mib_is_titled_by_the_console_parser() {
    let report = "[   12.000001] WARNING: CPU: 0 PID: 1 at fs/open.c:10 do_sys_open+0x10/0x20\n\
[   12.000003] RIP: 0010:do_sys_open+0x10/0x20\n[   12.000004] Call Trace:\n\
[   12.000006]  __x64_sys_openat+0x1/0x2\n[   12.000007]  do_syscall_64+0x1/0x2";
    let cmd = format!(
        "cat <<'EOF'\n{report}\nEOF\nyes '[   13.000000] noise after the oops' | head -c {}\nexit 0",
        100 * MIB
    );
    let ran = run_one(config(&cmd), None);
    let c = crash(&ran.result);
    assert_eq!(c.title, "WARNING in do_sys_open");
    assert_eq!(c.crash_type, CrashType::Warning);
    assert!(c.report.contains("Call Trace:"), "{}", c.report);
    assert_eq!(
        ran.result.matched.as_deref(),
        Some("[   12.000001] WARNING: CPU: 0 PID: 1 at fs/open.c:10 do_sys_open+0x10/0x20")
    );
    // 64 MiB of log by default.
    assert!(ran.log.len() as u64 > 64 * MIB && (ran.log.len() as u64) < 65 * MIB);
    assert!(ran.hwm_growth_kib < 64 << 10, "{} KiB", ran.hwm_growth_kib);
}

#[test]
fn a_user_regexp_is_applied_to_each_line_of_the_stream() {
    let mut cfg = config(&format!(
        "{}; echo 'FATAL (second 0x2)'",
        command("  FATAL (bad pointer 0xdeadbeef) in worker", 20 * MIB, 3)
    ));
    cfg.crash_regex = Some(r"^\s*FATAL \((?P<title>[^)]*)\)".into());
    let ran = run_one(cfg, Some(4096));
    let c = crash(&ran.result);
    assert_eq!(c.title, "bad pointer ADDR");
    assert_eq!(
        ran.result.matched.as_deref(),
        Some("FATAL (bad pointer 0xdeadbeef) in worker")
    );
    assert_eq!(c.report.lines().count(), 100);
}

#[test]
fn reasons_and_reports_come_from_the_end_of_the_stream() {
    // A test failure names the last line, after 30 MiB of output.
    let ran = run_one(
        config(&format!(
            "yes noise | head -c {}; echo 'the last words'; exit 2",
            30 * MIB
        )),
        Some(MIB),
    );
    assert_eq!(
        ran.result.outcome,
        RunOutcome::TestFailed {
            reason: "test exited with status 2: the last words".into()
        }
    );
    // A crash signal's report is the last lines.
    let ran = run_one(
        config(&format!(
            "yes noise | head -c {}; echo 'dying'; kill -SEGV $$",
            30 * MIB
        )),
        Some(MIB),
    );
    let c = crash(&ran.result);
    assert_eq!(c.title, "killed by signal 11 (SIGSEGV)");
    assert_eq!(c.report.lines().count(), 100);
    assert!(c.report.ends_with("dying"), "{}", c.report);
}

#[test]
fn a_log_dir_that_cannot_be_written_stops_the_tester() {
    let dir = tempfile::tempdir().unwrap();
    let mut t = LocalTester::new(config("echo hi"), CancelToken::new()).unwrap();
    // A file where the log dir should be.
    let logs = dir.path().join("logs");
    std::fs::write(&logs, "").unwrap();
    match run_tester(&mut t, &build(Some(dir.path())), &logs, 0, 1) {
        Err(InfraError::Environment { what, .. }) => {
            assert!(what.starts_with("cannot create"), "{what}")
        }
        r => panic!("{r:?}"),
    }
}
