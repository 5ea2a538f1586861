//! How one local run becomes a [`RunOutcome`]: a crash (from its output or a
//! signal death), a timeout, silence, a test failure, or OK — or, in
//! `git bisect run`'s exit-code mode, what the exit status says.
//!
//! The verdict is made from what the output showed while it streamed
//! ([`RunOutput`]: the crash wherever it was, and the last lines), never
//! from the whole output, which only the log file holds.

use kbisect_core::{Crash, RunOutcome, RunResult};
use kbisect_proc::Status;
use kbisect_report::CrashType;

use crate::matcher::CrashMatcher;
use crate::output::RunOutput;

/// What decides a run's verdict.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum VerdictMode {
    /// A crash in the output (or a crash signal) is bad; a clean exit 0 is
    /// good; any other exit is a test failure (a skip). syzbot's way.
    #[default]
    Crash,
    /// `git bisect run`'s convention: exit 0 good, 125 skip, 1–127 bad,
    /// 128 and above abort — except 128+N for a crash signal N, a crash.
    ExitCode,
}

fn signal_name(sig: i32) -> &'static str {
    match sig {
        4 => "SIGILL",
        5 => "SIGTRAP",
        6 => "SIGABRT",
        7 => "SIGBUS",
        8 => "SIGFPE",
        9 => "SIGKILL",
        11 => "SIGSEGV",
        13 => "SIGPIPE",
        15 => "SIGTERM",
        31 => "SIGSYS",
        _ => "signal",
    }
}

/// Signals a program dies of when it crashes (not when it is stopped).
fn is_crash_signal(sig: i32) -> bool {
    matches!(sig, 4 | 5 | 6 | 7 | 8 | 11 | 31)
}

fn signal_crash(sig: i32, out: &RunOutput) -> RunResult {
    crashed(
        Crash {
            title: format!("killed by signal {sig} ({})", signal_name(sig)),
            crash_type: CrashType::Unknown,
            report: out.last_lines(),
        },
        None,
    )
}

fn crashed(c: Crash, matched: Option<String>) -> RunResult {
    RunResult {
        outcome: RunOutcome::Crashed(c),
        duration: std::time::Duration::ZERO,
        matched,
    }
}

/// The outcome of one run from its status and its whole output, held in
/// memory (duration left zero). Runs of the local tester stream instead:
/// see [`classify_output`].
pub fn classify(status: Status, console: &[u8], m: &CrashMatcher, mode: VerdictMode) -> RunResult {
    classify_output(status, &RunOutput::of(console, m), mode)
}

/// The outcome of one run from its status and what its output showed
/// (duration left zero).
pub fn classify_output(status: Status, out: &RunOutput, mode: VerdictMode) -> RunResult {
    let plain = |outcome| RunResult::new(outcome);
    let found = out.crash.clone();
    match status {
        Status::TimedOut => plain(RunOutcome::Crashed(Crash {
            title: "timed out".into(),
            crash_type: CrashType::Timeout,
            report: out.last_lines(),
        })),
        Status::NoOutput => plain(RunOutcome::Crashed(Crash {
            title: "no output from test machine".into(),
            crash_type: CrashType::NoOutput,
            report: out.last_lines(),
        })),
        Status::Cancelled => plain(RunOutcome::Infra {
            reason: "interrupted".into(),
        }),
        Status::Signaled(sig) => match found {
            Some((c, line)) => crashed(c, Some(line)),
            None if is_crash_signal(sig) || mode == VerdictMode::Crash => signal_crash(sig, out),
            // Killed from outside (SIGKILL, SIGTERM): git bisect run aborts.
            None => plain(RunOutcome::Infra {
                reason: format!("test killed by signal {sig} ({})", signal_name(sig)),
            }),
        },
        Status::Exited(code) => {
            // A shell wrapper reports its child's crash as 128 + signal.
            let child_signal = (code > 128 && is_crash_signal(code - 128)).then_some(code - 128);
            let last_line = || out.last_line_suffix();
            match mode {
                VerdictMode::Crash => match (found, child_signal) {
                    (Some((c, line)), _) => crashed(c, Some(line)),
                    (None, Some(sig)) => signal_crash(sig, out),
                    (None, None) if code == 0 => plain(RunOutcome::Ok),
                    (None, None) => plain(RunOutcome::TestFailed {
                        reason: format!("test exited with status {code}{}", last_line()),
                    }),
                },
                VerdictMode::ExitCode => match (code, found, child_signal) {
                    (0, _, _) => plain(RunOutcome::Ok),
                    (125, _, _) => plain(RunOutcome::TestFailed {
                        reason: format!("test exited with status 125 (skip){}", last_line()),
                    }),
                    (1..=127, Some((c, line)), _) | (_, Some((c, line)), Some(_)) => {
                        crashed(c, Some(line))
                    }
                    (1..=127, None, _) => crashed(
                        Crash {
                            title: format!("test failed with exit status {code}"),
                            crash_type: CrashType::Unknown,
                            report: out.last_lines(),
                        },
                        None,
                    ),
                    (_, None, Some(sig)) => signal_crash(sig, out),
                    _ => plain(RunOutcome::Infra {
                        reason: format!(
                            "test exited with status {code} (git bisect run would abort){}",
                            last_line()
                        ),
                    }),
                },
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m() -> CrashMatcher {
        CrashMatcher::new(None).unwrap()
    }

    #[test]
    fn crash_line_is_the_title() {
        let out = b"starting\nBUG: demo: use-after-free in parse_record\nstack\n";
        match classify(Status::Signaled(6), out, &m(), VerdictMode::Crash).outcome {
            RunOutcome::Crashed(c) => {
                assert_eq!(c.title, "BUG: demo: use-after-free in parse_record");
                assert_eq!(c.crash_type, CrashType::Bug);
                assert!(c.report.contains("use-after-free"), "{}", c.report);
            }
            o => panic!("{o:?}"),
        }
    }

    #[test]
    fn statuses_without_crash_lines() {
        assert_eq!(
            classify(Status::Exited(0), b"fine\n", &m(), VerdictMode::Crash).outcome,
            RunOutcome::Ok
        );
        assert!(matches!(
            classify(Status::Exited(2), b"oops\n", &m(), VerdictMode::Crash).outcome,
            RunOutcome::TestFailed { reason } if reason == "test exited with status 2: oops"
        ));
        assert!(matches!(
            classify(Status::Signaled(11), b"", &m(), VerdictMode::Crash).outcome,
            RunOutcome::Crashed(c) if c.title == "killed by signal 11 (SIGSEGV)"
        ));
        assert!(matches!(
            classify(Status::TimedOut, b"", &m(), VerdictMode::Crash).outcome,
            RunOutcome::Crashed(c) if c.crash_type == CrashType::Timeout
        ));
        assert!(matches!(
            classify(Status::NoOutput, b"", &m(), VerdictMode::Crash).outcome,
            RunOutcome::Crashed(c) if c.title == "no output from test machine"
        ));
    }

    #[test]
    fn exit_code_mode_is_git_bisect_runs_convention() {
        let e = |code, out: &[u8]| classify(Status::Exited(code), out, &m(), VerdictMode::ExitCode);
        assert_eq!(e(0, b"").outcome, RunOutcome::Ok);
        assert!(matches!(e(125, b"").outcome, RunOutcome::TestFailed { .. }));
        assert!(matches!(
            e(1, b"assert failed\n").outcome,
            RunOutcome::Crashed(c) if c.title == "test failed with exit status 1"
        ));
        assert!(matches!(e(200, b"").outcome, RunOutcome::Infra { .. }));
        // 128 + SIGSEGV from a shell wrapper is a crash in both modes.
        for mode in [VerdictMode::Crash, VerdictMode::ExitCode] {
            let r = classify(Status::Exited(139), b"Segmentation fault\n", &m(), mode);
            assert!(
                matches!(&r.outcome, RunOutcome::Crashed(c) if c.title == "killed by signal 11 (SIGSEGV)"),
                "{mode:?}: {r:?}"
            );
        }
    }

    #[test]
    fn the_matched_line_is_kept() {
        let m = CrashMatcher::new(Some(r"^FATAL")).unwrap();
        let r = classify(
            Status::Exited(1),
            b"ok\n  FATAL x\nFATAL boom\n",
            &m,
            VerdictMode::Crash,
        );
        assert_eq!(r.matched.as_deref(), Some("FATAL boom"));
    }

    #[test]
    fn kernel_reports_come_from_the_console_parser() {
        let log = b"[  1.0] WARNING: CPU: 0 PID: 1 at net/core/dev.c:1 foo_bar+0x1/0x2\n";
        let c = m().find(log).unwrap();
        assert_eq!(c.crash_type, CrashType::Warning);
        assert!(c.title.starts_with("WARNING"), "{}", c.title);
    }

    #[test]
    fn custom_regex_with_title_group_and_addresses() {
        let m = CrashMatcher::new(Some(r"^FATAL \((?P<title>.*)\)")).unwrap();
        let c = m.find(b"x\nFATAL (bad pointer 0xdeadbeef)\n").unwrap();
        assert_eq!(c.title, "bad pointer ADDR");
    }
}
