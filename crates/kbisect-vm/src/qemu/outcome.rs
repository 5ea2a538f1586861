//! What one run on the test machine amounted to, decided from the console
//! alone (qemu exits 0 after a crash and after a clean run alike), in the
//! engine's terms ([`RunOutcome`]).

use std::path::PathBuf;
use std::time::Duration;

use kbisect_core::{Crash, RunOutcome};
use kbisect_proc::Status;
use kbisect_report::CrashType;

use crate::console::CrashWindow;
use crate::qemu::markers::ReproEnd;

/// The words of syzkaller's log for one run's outcome (`run #i: ...`).
pub fn describe(o: &RunOutcome) -> String {
    match o {
        RunOutcome::Ok => "OK".into(),
        RunOutcome::Crashed(c) => format!("crashed: {}", c.title),
        RunOutcome::BootFailed { reason } => format!("boot failed: {reason}"),
        RunOutcome::TestFailed { reason } => format!("basic kernel testing failed: {reason}"),
        RunOutcome::Infra { reason } => format!("infra problem: {reason}"),
    }
}

/// The title of the crash made when the machine is silent too long.
pub const NO_OUTPUT_TITLE: &str = "no output from test machine";
/// The title of the crash made when the machine goes away mid-run.
pub const LOST_CONNECTION_TITLE: &str = "lost connection to test machine";
/// The title of the crash made when a run exceeds its wall-clock limit.
pub const TIMED_OUT_TITLE: &str = "timed out";

/// One finished run with what was measured on it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunReport {
    /// The run's index (as given in its [`crate::qemu::QemuRun`]).
    pub index: usize,
    /// What the run amounted to.
    pub outcome: RunOutcome,
    /// Wall time of the whole run (qemu's lifetime).
    pub duration: Duration,
    /// From qemu's start to the basic-test marker, when it was seen.
    pub boot_time: Option<Duration>,
    /// How the reproducer ended in the guest, when init said.
    pub repro_end: Option<ReproEnd>,
    /// The console log on disk.
    pub log: PathBuf,
    /// Console bytes (escape sequences stripped) the run printed.
    pub console_bytes: u64,
    /// The log on disk stopped at its cap.
    pub log_truncated: bool,
    /// The console line that started the crash, when the parser found one.
    pub crash_line: Option<String>,
}

/// Why the host stopped qemu before it exited by itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum StopReason {
    /// The caller's cancel token.
    Cancelled,
    /// No basic-test marker within the boot timeout.
    BootTimeout(Duration),
    /// A crash was seen and the wait for the rest of its report is over.
    CrashWait,
    /// Init said it was done and the machine did not go away.
    EndWait,
}

/// Everything the stream and the process said about one run.
#[derive(Debug, Default)]
pub(crate) struct Facts {
    /// qemu's end; `None` when it could not be started (see `spawn_error`).
    pub status: Option<Status>,
    pub spawn_error: Option<String>,
    pub stop: Option<StopReason>,
    pub console_bytes: u64,
    pub basic_ok: bool,
    pub basic_fail: Option<String>,
    pub exec_fail: Option<String>,
    pub end: bool,
    /// The first crash before the basic-test marker.
    pub boot_crash: Option<CrashWindow>,
    /// The first crash after it.
    pub run_crash: Option<CrashWindow>,
    /// The last lines of console, for reasons.
    pub last_lines: String,
    pub stderr_tail: String,
    pub log_error: Option<String>,
    pub idle_timeout: Duration,
    pub wall_timeout: Duration,
}

pub(crate) fn classify(f: Facts) -> RunOutcome {
    if let Some(e) = f.spawn_error {
        return RunOutcome::Infra { reason: e };
    }
    if let Some(e) = f.log_error {
        return RunOutcome::Infra { reason: e };
    }
    if f.stop == Some(StopReason::Cancelled) {
        return RunOutcome::Infra {
            reason: "interrupted".into(),
        };
    }
    let status = f.status.unwrap_or(Status::Exited(-1));
    // A crash while booting is a boot failure, except the "unexpected
    // reboot" header when init ran anyway: older decompressors print
    // "Booting the kernel." on a normal boot.
    if let Some(c) = &f.boot_crash
        && (!f.basic_ok || c.report.crash_type != CrashType::UnexpectedReboot)
    {
        return RunOutcome::BootFailed {
            reason: c.report.title.clone(),
        };
    }
    if let Some(c) = f.run_crash {
        return RunOutcome::Crashed(Crash {
            title: c.report.title.clone(),
            crash_type: c.report.crash_type.clone(),
            report: c.report.report_text(),
        });
    }
    if let Some(why) = f.basic_fail {
        return RunOutcome::TestFailed { reason: why };
    }
    if !f.basic_ok {
        return boot_failure(&f, status);
    }
    if let Some(why) = f.exec_fail {
        return RunOutcome::TestFailed {
            reason: format!("cannot run the reproducer: {why}"),
        };
    }
    if f.end {
        return RunOutcome::Ok;
    }
    // qemu itself died or failed (host OOM killer, a qemu bug) without the
    // guest saying anything: the machine was lost, not the kernel.
    match (status, f.stop) {
        (Status::Signaled(s), None) => {
            return RunOutcome::Infra {
                reason: format!("qemu was killed by signal {s} while the reproducer ran"),
            };
        }
        (Status::Exited(c), _) if c != 0 => {
            let stderr_last = f.stderr_tail.lines().last().unwrap_or("").trim().to_owned();
            return RunOutcome::Infra {
                reason: format!(
                    "qemu exited with status {c} while the reproducer ran: {stderr_last}"
                ),
            };
        }
        _ => {}
    }
    let tail = f.last_lines.clone();
    let made = |title: &str, crash_type: CrashType| {
        RunOutcome::Crashed(Crash {
            title: title.into(),
            crash_type,
            report: tail.clone(),
        })
    };
    match status {
        Status::NoOutput => made(NO_OUTPUT_TITLE, CrashType::NoOutput),
        Status::TimedOut => made(TIMED_OUT_TITLE, CrashType::Timeout),
        _ => made(LOST_CONNECTION_TITLE, CrashType::LostConnection),
    }
}

/// No basic-test marker and no crash: say what was seen instead.
fn boot_failure(f: &Facts, status: Status) -> RunOutcome {
    let last = match f.last_lines.lines().rev().find(|l| !l.trim().is_empty()) {
        Some(l) => format!(" (last console line: {})", l.trim()),
        None => String::new(),
    };
    let stderr_last = f.stderr_tail.lines().last().unwrap_or("").trim().to_owned();
    match status {
        // qemu that exits at once with an error never got a machine going.
        Status::Exited(c) if c != 0 && f.console_bytes == 0 => {
            return RunOutcome::Infra {
                reason: format!(
                    "qemu exited with status {c} before any console output: {stderr_last}"
                ),
            };
        }
        // qemu itself died (host OOM killer, a qemu bug) before the guest
        // ran anything: the machine was never made.
        Status::Signaled(s) if f.stop.is_none() => {
            return RunOutcome::Infra {
                reason: format!("qemu was killed by signal {s} while the machine booted{last}"),
            };
        }
        _ => {}
    }
    let what = match (f.stop, status) {
        (Some(StopReason::BootTimeout(t)), _) => {
            format!("no sign of the basic test after {}", secs(t))
        }
        (_, Status::NoOutput) => format!("no console output for {}", secs(f.idle_timeout)),
        (_, Status::TimedOut) => format!("timed out after {}", secs(f.wall_timeout)),
        (_, Status::Signaled(s)) => format!("qemu was killed by signal {s}"),
        (_, Status::Exited(0)) => "the machine stopped before init ran the basic test".into(),
        (_, Status::Exited(c)) => {
            format!("qemu exited with status {c} before init ran the basic test: {stderr_last}")
        }
        (_, Status::Cancelled) => "stopped".into(),
    };
    let what = if f.console_bytes == 0 {
        format!("{what}; the kernel printed nothing on the console")
    } else {
        what
    };
    RunOutcome::BootFailed {
        reason: format!("{what}{last}"),
    }
}

fn secs(d: Duration) -> String {
    format!("{}s", d.as_secs_f64().round())
}

#[cfg(test)]
mod tests {
    use super::*;
    use kbisect_report::Report;

    fn window(title: &str, t: CrashType) -> CrashWindow {
        CrashWindow {
            report: Report {
                title: title.into(),
                crash_type: t,
                report: b"report".to_vec(),
                ..Report::default()
            },
            text: Vec::new(),
            offset: 0,
            crash_offset: 0,
            dropped_after: 0,
        }
    }

    fn booted() -> Facts {
        Facts {
            status: Some(Status::Exited(0)),
            console_bytes: 100,
            basic_ok: true,
            ..Facts::default()
        }
    }

    #[test]
    fn clean_and_crashed_runs() {
        let mut f = booted();
        f.end = true;
        assert_eq!(classify(f), RunOutcome::Ok);
        let mut f = booted();
        f.run_crash = Some(window("WARNING in f", CrashType::Warning));
        assert_eq!(
            classify(f),
            RunOutcome::Crashed(Crash {
                title: "WARNING in f".into(),
                crash_type: CrashType::Warning,
                report: "report".into()
            })
        );
    }

    #[test]
    fn tester_made_crashes() {
        let title = |o: RunOutcome| match o {
            RunOutcome::Crashed(c) => (c.title, c.crash_type),
            o => panic!("{o:?}"),
        };
        let f = booted();
        assert_eq!(
            title(classify(f)),
            (LOST_CONNECTION_TITLE.into(), CrashType::LostConnection)
        );
        let mut f = booted();
        f.status = Some(Status::NoOutput);
        assert_eq!(
            title(classify(f)),
            (NO_OUTPUT_TITLE.into(), CrashType::NoOutput)
        );
        let mut f = booted();
        f.status = Some(Status::TimedOut);
        assert_eq!(
            title(classify(f)),
            (TIMED_OUT_TITLE.into(), CrashType::Timeout)
        );
    }

    #[test]
    fn qemu_dying_after_the_boot_is_the_machine_lost() {
        let mut f = booted();
        f.status = Some(Status::Signaled(9));
        assert_eq!(
            classify(f),
            RunOutcome::Infra {
                reason: "qemu was killed by signal 9 while the reproducer ran".into()
            }
        );
        let mut f = booted();
        f.status = Some(Status::Exited(1));
        f.stderr_tail = "qemu: fatal: lost\n".into();
        assert_eq!(
            classify(f),
            RunOutcome::Infra {
                reason: "qemu exited with status 1 while the reproducer ran: qemu: fatal: lost"
                    .into()
            }
        );
    }

    #[test]
    fn boot_problems() {
        let f = Facts {
            status: Some(Status::Exited(0)),
            console_bytes: 10,
            boot_crash: Some(window(
                "kernel panic: VFS: Unable to mount root fs",
                CrashType::DoS,
            )),
            ..Facts::default()
        };
        assert_eq!(
            classify(f),
            RunOutcome::BootFailed {
                reason: "kernel panic: VFS: Unable to mount root fs".into()
            }
        );
        // The decompressor's "Booting the kernel." on a boot that worked.
        let mut f = booted();
        f.end = true;
        f.boot_crash = Some(window(
            "unexpected kernel reboot",
            CrashType::UnexpectedReboot,
        ));
        assert_eq!(classify(f), RunOutcome::Ok);
        let f = Facts {
            status: Some(Status::Exited(1)),
            stderr_tail: "qemu: could not load kernel 'x'".into(),
            ..Facts::default()
        };
        assert_eq!(
            classify(f),
            RunOutcome::Infra {
                reason: "qemu exited with status 1 before any console output: qemu: could not load kernel 'x'"
                    .into()
            }
        );
        let f = Facts {
            status: Some(Status::Cancelled),
            stop: Some(StopReason::BootTimeout(Duration::from_secs(60))),
            console_bytes: 5,
            last_lines: "a\nlast words\n\n".into(),
            ..Facts::default()
        };
        assert_eq!(
            classify(f),
            RunOutcome::BootFailed {
                reason: "no sign of the basic test after 60s (last console line: last words)"
                    .into()
            }
        );
        let f = Facts {
            status: Some(Status::Exited(0)),
            basic_fail: Some("the trivial program ended with status 0x100".into()),
            console_bytes: 5,
            ..Facts::default()
        };
        assert!(matches!(classify(f), RunOutcome::TestFailed { .. }));
    }
}
