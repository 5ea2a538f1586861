//! Finds the crash in a local run's output as the output streams: the
//! console parser (kernel-style reports) through a [`ConsoleScanner`], and
//! the crash regexp applied to each line. Both keep only a bounded window
//! from their first hit on, so a crash is found wherever it is in the
//! output and memory does not grow with it.

use std::sync::{Arc, OnceLock};

use kbisect_core::Crash;
use kbisect_report::{Config, CrashType, Reporter};
use regex::Regex;
use regex::bytes::Regex as BytesRegex;

use crate::console::{ConsoleScanner, CrashWindow, LineSplitter, ScanLimits};

/// Lines that start a crash report in a program's output, by default.
pub const DEFAULT_CRASH_REGEX: &str =
    r"^\s*(BUG:|WARNING:|panic|ERROR: AddressSanitizer|UBSAN:|KASAN:|Kernel panic)";

/// Most lines of output kept as a crash's report.
pub(crate) const REPORT_LINES: usize = 100;
/// Most bytes kept as a regexp crash's report (a few very long lines).
const REPORT_BYTES: usize = 256 << 10;

/// Finds the crash in a run's output: kbisect-report's console parser first
/// (kernel-style reports), then the crash regexp (user-space programs). A
/// user-given regexp replaces both.
#[derive(Clone)]
pub struct CrashMatcher {
    /// Built on first use (compiling its tables is not free, and a resumed
    /// bisection may never need it); `None` inside when a regexp was given.
    reporter: Arc<OnceLock<Option<Reporter>>>,
    use_reporter: bool,
    re: BytesRegex,
    addr: Regex,
    limits: ScanLimits,
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
    /// or the capture group `title` when the pattern has one). It is applied
    /// to each line of output on its own (without its newline), so `^` and
    /// `$` are the line's start and end.
    pub fn new(pattern: Option<&str>) -> Result<Self, regex::Error> {
        Ok(CrashMatcher {
            reporter: Arc::new(OnceLock::new()),
            use_reporter: pattern.is_none(),
            re: BytesRegex::new(pattern.unwrap_or(DEFAULT_CRASH_REGEX))?,
            addr: Regex::new(r"0x[0-9a-fA-F]+")?,
            limits: ScanLimits::default(),
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
        let mut s = self.stream();
        s.push(console);
        s.finish()
    }

    /// A scan of one run's output, fed as it arrives.
    pub fn stream(&self) -> CrashStream<'_> {
        CrashStream {
            matcher: self,
            parser: self
                .reporter()
                .map(|r| ConsoleScanner::with_limits(r, self.limits)),
            lines: LineSplitter::new(self.limits.max_line),
            hit: None,
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
}

/// The crash search over one run's output (see [`CrashMatcher::stream`]).
pub struct CrashStream<'m> {
    matcher: &'m CrashMatcher,
    parser: Option<ConsoleScanner<'m>>,
    lines: LineSplitter,
    hit: Option<RegexHit>,
}

/// The first line the regexp matched and the lines after it.
struct RegexHit {
    title: String,
    line: String,
    report: Vec<u8>,
    lines: usize,
}

impl RegexHit {
    fn full(&self) -> bool {
        self.lines >= REPORT_LINES || self.report.len() >= REPORT_BYTES
    }
}

impl CrashStream<'_> {
    /// Feeds the next piece of output.
    pub fn push(&mut self, chunk: &[u8]) {
        if let Some(p) = self.parser.as_mut() {
            p.push(chunk);
        }
        if self.hit.as_ref().is_some_and(RegexHit::full) {
            return;
        }
        let (m, hit) = (self.matcher, &mut self.hit);
        self.lines
            .push(chunk, &mut |block| regex_block(m, hit, block));
    }

    /// Whether a crash has been seen in the whole lines pushed so far.
    pub fn crashed(&self) -> bool {
        self.hit.is_some() || self.parser.as_ref().is_some_and(ConsoleScanner::crashed)
    }

    /// Ends the output (an unfinished last line counts): the crash and the
    /// line that started it.
    pub fn finish(mut self) -> Option<(Crash, String)> {
        let (m, hit) = (self.matcher, &mut self.hit);
        self.lines.finish(&mut |block| regex_block(m, hit, block));
        let parsed = self
            .parser
            .take()
            .and_then(ConsoleScanner::finish)
            .filter(|w| !w.report.suppressed);
        let by_regex = self.hit.take().map(|h| {
            (
                Crash {
                    crash_type: crash_type(&h.title),
                    title: h.title,
                    report: String::from_utf8_lossy(&h.report).into_owned(),
                },
                h.line,
            )
        });
        match (parsed, by_regex) {
            (Some(w), _) if !w.report.corrupted => Some(from_window(w)),
            (_, Some(c)) => Some(c),
            (Some(w), None) => Some(from_window(w)),
            (None, None) => None,
        }
    }
}

/// Applies the regexp to each line of `block` until a hit's report is full.
fn regex_block(m: &CrashMatcher, hit: &mut Option<RegexHit>, block: &[u8]) {
    for raw in block.split_inclusive(|&b| b == b'\n') {
        let line = raw.strip_suffix(b"\n").unwrap_or(raw);
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        match hit {
            Some(h) if h.full() => return,
            Some(h) => {
                h.report.push(b'\n');
                h.report.extend_from_slice(line);
                h.lines += 1;
            }
            None => {
                let Some(caps) = m.re.captures(line) else {
                    continue;
                };
                let raw_title = caps.name("title").map_or(line, |t| t.as_bytes());
                let raw_title = String::from_utf8_lossy(raw_title);
                let mut report = line.to_vec();
                report.truncate(REPORT_BYTES);
                *hit = Some(RegexHit {
                    title: m.addr.replace_all(raw_title.trim(), "ADDR").into_owned(),
                    line: String::from_utf8_lossy(line).trim().to_string(),
                    report,
                    lines: 1,
                });
            }
        }
    }
}

/// The parser's crash, and its header line (not the context before it).
fn from_window(w: CrashWindow) -> (Crash, String) {
    let line = w.header_line();
    let r = w.report;
    let report = r.report_text();
    let crash_type = match r.crash_type {
        CrashType::Unknown => crash_type(&r.title),
        t => t,
    };
    (
        Crash {
            title: r.title,
            crash_type,
            report,
        },
        line,
    )
}

pub(crate) fn crash_type(title: &str) -> CrashType {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn feed(m: &CrashMatcher, out: &[u8], size: usize) -> Option<(Crash, String)> {
        let mut s = m.stream();
        for c in out.chunks(size) {
            s.push(c);
        }
        s.finish()
    }

    #[test]
    fn a_regexp_hit_split_across_chunks_is_found_at_any_chunk_size() {
        let m = CrashMatcher::new(Some(r"^FATAL \((?P<title>.*)\)")).unwrap();
        let out = b"one\r\ntwo\nFATAL (bad pointer 0xdead)\r\nafter 1\nafter 2";
        for size in [1, 2, 3, 7, out.len()] {
            let (c, line) = feed(&m, out, size).unwrap();
            assert_eq!(c.title, "bad pointer ADDR", "{size}");
            assert_eq!(line, "FATAL (bad pointer 0xdead)");
            assert_eq!(c.report, "FATAL (bad pointer 0xdead)\nafter 1\nafter 2");
        }
    }

    #[test]
    fn the_regexp_report_is_bounded_and_the_first_hit_wins() {
        let m = CrashMatcher::new(Some(r"^FATAL")).unwrap();
        let mut out = b"FATAL first\n".to_vec();
        for i in 0..1000 {
            out.extend_from_slice(format!("FATAL line {i}\n").as_bytes());
        }
        let (c, line) = feed(&m, &out, 4096).unwrap();
        assert_eq!(line, "FATAL first");
        assert_eq!(c.report.lines().count(), REPORT_LINES);
    }

    #[test]
    fn the_parser_wins_unless_corrupted() {
        let m = CrashMatcher::new(None).unwrap();
        let log = b"[  1.0] WARNING: CPU: 0 PID: 1 at net/core/dev.c:1 foo_bar+0x1/0x2\n\
[  1.1] RIP: 0010:foo_bar+0x1/0x2\n[  1.2] Call Trace:\n[  1.3]  baz+0x1/0x2\n";
        let (c, line) = feed(&m, &[b"[  0.9] before\n".as_slice(), log].concat(), 5).unwrap();
        assert_eq!(c.title, "WARNING in foo_bar");
        assert!(line.starts_with("[  1.0] WARNING: CPU: 0 PID: 1"), "{line}");
        // User-space output: the regexp's title.
        let (c, line) = feed(&m, b"x\nBUG: demo: use-after-free in f\n", 3).unwrap();
        assert_eq!(c.title, "BUG: demo: use-after-free in f");
        assert_eq!(line, c.title);
        assert!(feed(&m, b"all fine\n", 2).is_none());
    }
}
