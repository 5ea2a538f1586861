//! How one local run becomes a [`RunOutcome`]: a crash (from its output or a
//! signal death), a timeout, silence, a test failure, or OK.

use kbisect_proc::Status;
use std::sync::{Arc, OnceLock};

use kbisect_report::{Config, CrashType, Reporter};
use regex::Regex;

use crate::model::{Crash, RunOutcome};

/// Lines that start a crash report in a program's output, by default.
pub const DEFAULT_CRASH_REGEX: &str =
    r"^\s*(BUG:|WARNING:|panic|ERROR: AddressSanitizer|UBSAN:|KASAN:|Kernel panic)";

/// Most lines of output kept as a crash's report.
const REPORT_LINES: usize = 100;

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
            Crash {
                title: r.title,
                crash_type,
                report,
            }
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

    fn find_by_regex(&self, console: &[u8]) -> Option<Crash> {
        let text = String::from_utf8_lossy(console);
        let lines: Vec<&str> = text.lines().collect();
        let (at, caps) = lines
            .iter()
            .enumerate()
            .find_map(|(i, l)| self.re.captures(l).map(|c| (i, c)))?;
        let raw = caps.name("title").map_or(lines[at], |m| m.as_str()).trim();
        let title = self.addr.replace_all(raw, "ADDR").into_owned();
        let end = (at + REPORT_LINES).min(lines.len());
        Some(Crash {
            crash_type: crash_type(&title),
            title,
            report: lines[at..end].join("\n"),
        })
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
        6 => "SIGABRT",
        7 => "SIGBUS",
        8 => "SIGFPE",
        9 => "SIGKILL",
        11 => "SIGSEGV",
        13 => "SIGPIPE",
        15 => "SIGTERM",
        _ => "signal",
    }
}

/// The outcome of one run from its status and output.
pub fn classify(status: Status, console: &[u8], m: &CrashMatcher) -> RunOutcome {
    match status {
        Status::TimedOut => RunOutcome::Crashed(Crash {
            title: "timed out".into(),
            crash_type: CrashType::Timeout,
            report: tail(console),
        }),
        Status::NoOutput => RunOutcome::Crashed(Crash {
            title: "no output from test machine".into(),
            crash_type: CrashType::NoOutput,
            report: tail(console),
        }),
        Status::Cancelled => RunOutcome::Infra {
            reason: "interrupted".into(),
        },
        Status::Signaled(sig) => m.find(console).map_or_else(
            || {
                RunOutcome::Crashed(Crash {
                    title: format!("killed by signal {sig} ({})", signal_name(sig)),
                    crash_type: CrashType::Unknown,
                    report: tail(console),
                })
            },
            RunOutcome::Crashed,
        ),
        Status::Exited(code) => match m.find(console) {
            Some(c) => RunOutcome::Crashed(c),
            None if code == 0 => RunOutcome::Ok,
            None => {
                let last = String::from_utf8_lossy(console)
                    .lines()
                    .rev()
                    .find(|l| !l.trim().is_empty())
                    .map(|l| format!(": {}", l.trim()))
                    .unwrap_or_default();
                RunOutcome::TestFailed {
                    reason: format!("test exited with status {code}{last}"),
                }
            }
        },
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
        match classify(Status::Signaled(6), out, &m()) {
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
        assert_eq!(classify(Status::Exited(0), b"fine\n", &m()), RunOutcome::Ok);
        assert!(matches!(
            classify(Status::Exited(2), b"oops\n", &m()),
            RunOutcome::TestFailed { reason } if reason == "test exited with status 2: oops"
        ));
        assert!(matches!(
            classify(Status::Signaled(11), b"", &m()),
            RunOutcome::Crashed(c) if c.title == "killed by signal 11 (SIGSEGV)"
        ));
        assert!(matches!(
            classify(Status::TimedOut, b"", &m()),
            RunOutcome::Crashed(c) if c.crash_type == CrashType::Timeout
        ));
        assert!(matches!(
            classify(Status::NoOutput, b"", &m()),
            RunOutcome::Crashed(c) if c.title == "no output from test machine"
        ));
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
