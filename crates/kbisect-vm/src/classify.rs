//! How one local run becomes a [`RunOutcome`]: a crash (from its output or a
//! signal death), a timeout, silence, a test failure, or OK — or, in
//! `git bisect run`'s exit-code mode, what the exit status says.

use kbisect_proc::Status;
use std::sync::{Arc, OnceLock};

use kbisect_core::{Crash, RunOutcome, RunResult};
use kbisect_report::{Config, CrashType, Reporter};
use regex::Regex;

/// Lines that start a crash report in a program's output, by default.
pub const DEFAULT_CRASH_REGEX: &str =
    r"^\s*(BUG:|WARNING:|panic|ERROR: AddressSanitizer|UBSAN:|KASAN:|Kernel panic)";

/// Most lines of output kept as a crash's report.
const REPORT_LINES: usize = 100;

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

/// Finds the crash in a run's output: kbisect-report's console parser first
/// (kernel-style reports), then the crash regexp (user-space programs). A
/// user-given regexp replaces both.
#[derive(Clone)]
pub struct CrashMatcher {
    /// Built on first use (compiling its tables is not free, and a resumed
    /// bisection may never need it); `None` inside when a regexp was given.
    reporter: Arc<OnceLock<Option<Reporter>>>,
    use_reporter: bool,
    re: Regex,
    addr: Regex,
}

impl std::fmt::Debug for CrashMatcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CrashMatcher")
            .field("use_reporter", &self.use_reporter)
            .field("re", &self.re)
            .finish()
    }
}

impl CrashMatcher {
    /// `pattern` matches the line that starts a crash (the line is the title,
    /// or the capture group `title` when the pattern has one).
    pub fn new(pattern: Option<&str>) -> Result<Self, regex::Error> {
        Ok(CrashMatcher {
            reporter: Arc::new(OnceLock::new()),
            use_reporter: pattern.is_none(),
            re: Regex::new(pattern.unwrap_or(DEFAULT_CRASH_REGEX))?,
            addr: Regex::new(r"0x[0-9a-fA-F]+")?,
        })
    }

    /// The crash in `console`, if any: its title, type and report. The
    /// console parser's report wins unless it is corrupted (user-space
    /// output often is, to a kernel parser) and the regexp finds one.
    pub fn find(&self, console: &[u8]) -> Option<Crash> {
        self.find_matched(console).map(|(c, _)| c)
    }

    /// Like [`CrashMatcher::find`], with the output line that started the crash.
    pub fn find_matched(&self, console: &[u8]) -> Option<(Crash, String)> {
        let parsed = self
            .reporter()
            .and_then(|r| r.parse(console))
            .filter(|r| !r.suppressed);
        let from_report = |r: kbisect_report::Report| {
            let report = r.report_text();
            let crash_type = match r.crash_type {
                CrashType::Unknown => crash_type(&r.title),
                t => t,
            };
            let line = report.lines().next().unwrap_or_default().trim().to_string();
            (
                Crash {
                    title: r.title,
                    crash_type,
                    report,
                },
                line,
            )
        };
        match (parsed, self.find_by_regex(console)) {
            (Some(r), _) if !r.corrupted => Some(from_report(r)),
            (_, Some(c)) => Some(c),
            (Some(r), None) => Some(from_report(r)),
            (None, None) => None,
        }
    }

    fn reporter(&self) -> Option<&Reporter> {
        if !self.use_reporter {
            return None;
        }
        // The built-in tables always compile; without them the regexp still works.
        self.reporter
            .get_or_init(|| Reporter::new(&Config::default()).ok())
            .as_ref()
    }

    fn find_by_regex(&self, console: &[u8]) -> Option<(Crash, String)> {
        let text = String::from_utf8_lossy(console);
        let lines: Vec<&str> = text.lines().collect();
        let (at, caps) = lines
            .iter()
            .enumerate()
            .find_map(|(i, l)| self.re.captures(l).map(|c| (i, c)))?;
        let raw = caps.name("title").map_or(lines[at], |m| m.as_str()).trim();
        let title = self.addr.replace_all(raw, "ADDR").into_owned();
        let end = (at + REPORT_LINES).min(lines.len());
        Some((
            Crash {
                crash_type: crash_type(&title),
                title,
                report: lines[at..end].join("\n"),
            },
            lines[at].trim().to_string(),
        ))
    }
}

fn crash_type(title: &str) -> CrashType {
    if title.starts_with("BUG:") {
        CrashType::Bug
    } else if title.starts_with("WARNING:") {
        CrashType::Warning
    } else if title.contains("AddressSanitizer") || title.starts_with("KASAN") {
        CrashType::MemorySafetyBug
    } else if title.starts_with("UBSAN") {
        CrashType::Ubsan
    } else {
        CrashType::Unknown
    }
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

fn signal_crash(sig: i32, console: &[u8]) -> RunResult {
    crashed(
        Crash {
            title: format!("killed by signal {sig} ({})", signal_name(sig)),
            crash_type: CrashType::Unknown,
            report: tail(console),
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

fn last_line(console: &[u8]) -> String {
    String::from_utf8_lossy(console)
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .map(|l| format!(": {}", l.trim()))
        .unwrap_or_default()
}

/// The outcome of one run from its status and output (duration left zero).
pub fn classify(status: Status, console: &[u8], m: &CrashMatcher, mode: VerdictMode) -> RunResult {
    let plain = |outcome| RunResult::new(outcome);
    match status {
        Status::TimedOut => plain(RunOutcome::Crashed(Crash {
            title: "timed out".into(),
            crash_type: CrashType::Timeout,
            report: tail(console),
        })),
        Status::NoOutput => plain(RunOutcome::Crashed(Crash {
            title: "no output from test machine".into(),
            crash_type: CrashType::NoOutput,
            report: tail(console),
        })),
        Status::Cancelled => plain(RunOutcome::Infra {
            reason: "interrupted".into(),
        }),
        Status::Signaled(sig) => match m.find_matched(console) {
            Some((c, line)) => crashed(c, Some(line)),
            None if is_crash_signal(sig) || mode == VerdictMode::Crash => {
                signal_crash(sig, console)
            }
            // Killed from outside (SIGKILL, SIGTERM): git bisect run aborts.
            None => plain(RunOutcome::Infra {
                reason: format!("test killed by signal {sig} ({})", signal_name(sig)),
            }),
        },
        Status::Exited(code) => {
            // A shell wrapper reports its child's crash as 128 + signal.
            let child_signal = (code > 128 && is_crash_signal(code - 128)).then_some(code - 128);
            let found = m.find_matched(console);
            match mode {
                VerdictMode::Crash => match (found, child_signal) {
                    (Some((c, line)), _) => crashed(c, Some(line)),
                    (None, Some(sig)) => signal_crash(sig, console),
                    (None, None) if code == 0 => plain(RunOutcome::Ok),
                    (None, None) => plain(RunOutcome::TestFailed {
                        reason: format!("test exited with status {code}{}", last_line(console)),
                    }),
                },
                VerdictMode::ExitCode => match (code, found, child_signal) {
                    (0, _, _) => plain(RunOutcome::Ok),
                    (125, _, _) => plain(RunOutcome::TestFailed {
                        reason: format!("test exited with status 125 (skip){}", last_line(console)),
                    }),
                    (1..=127, Some((c, line)), _) | (_, Some((c, line)), Some(_)) => {
                        crashed(c, Some(line))
                    }
                    (1..=127, None, _) => crashed(
                        Crash {
                            title: format!("test failed with exit status {code}"),
                            crash_type: CrashType::Unknown,
                            report: tail(console),
                        },
                        None,
                    ),
                    (_, None, Some(sig)) => signal_crash(sig, console),
                    _ => plain(RunOutcome::Infra {
                        reason: format!(
                            "test exited with status {code} (git bisect run would abort){}",
                            last_line(console)
                        ),
                    }),
                },
            }
        }
    }
}

fn tail(console: &[u8]) -> String {
    let text = String::from_utf8_lossy(console);
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(REPORT_LINES)..].join("\n")
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
