//! Crash detection on a console stream, in bounded memory.
//!
//! A kernel keeps printing after an oops (other CPUs' reports, the panic,
//! hung-task dumps), so a tester that keeps only the tail of a run's output
//! loses the crash once enough follows it. The scanner looks at the stream
//! as it arrives instead: each block of whole lines goes through
//! [`Reporter::contains_crash`] (an unfinished last line waits for the next
//! chunk, so a header split across reads is still seen), and from the first
//! crash on it keeps only a window — some context before the header line and
//! a bounded amount after it — which is what [`Reporter::parse`] needs to
//! title it. Memory is bounded by the window whatever the run prints.

use std::collections::VecDeque;

use kbisect_report::{Report, Reporter};

/// How much of the stream the scanner keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScanLimits {
    /// Bytes of console kept before the crash header line (context).
    pub before: usize,
    /// Bytes kept from the crash header line on (the report lies in them).
    pub after: usize,
    /// A "line" longer than this is scanned without waiting for its end
    /// (bounds the carry when a program prints no newlines).
    pub max_line: usize,
}

impl Default for ScanLimits {
    fn default() -> Self {
        ScanLimits {
            before: 16 << 10,
            after: 512 << 10,
            max_line: 64 << 10,
        }
    }
}

/// The first crash of a stream: the parser's report and the bytes it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CrashWindow {
    /// The parsed crash; offsets in it are relative to `text`.
    pub report: Report,
    /// Context before the header line, the header line, and what followed
    /// (up to [`ScanLimits::after`]).
    pub text: Vec<u8>,
    /// Offset of `text` in the stream.
    pub offset: u64,
    /// Offset of the crash header line in the stream.
    pub crash_offset: u64,
    /// Bytes of the stream after the window that were not kept.
    pub dropped_after: u64,
}

impl CrashWindow {
    /// The crash header line (trimmed), as the console printed it.
    pub fn header_line(&self) -> String {
        let at = usize::try_from(self.crash_offset - self.offset).unwrap_or(0);
        let rest = self.text.get(at..).unwrap_or_default();
        let end = rest.iter().position(|&b| b == b'\n').unwrap_or(rest.len());
        String::from_utf8_lossy(&rest[..end]).trim().to_owned()
    }
}

/// Splits a stream into blocks of whole lines, carrying an unfinished last
/// line over to the next chunk.
#[derive(Debug, Clone)]
pub struct LineSplitter {
    carry: Vec<u8>,
    max_line: usize,
}

impl LineSplitter {
    /// A splitter that gives up waiting for a newline after `max_line` bytes.
    pub fn new(max_line: usize) -> LineSplitter {
        LineSplitter {
            carry: Vec::new(),
            max_line: max_line.max(1),
        }
    }

    /// Calls `f` with the whole lines `chunk` completes (one block per call).
    pub fn push(&mut self, chunk: &[u8], f: &mut dyn FnMut(&[u8])) {
        match chunk.iter().rposition(|&b| b == b'\n') {
            Some(nl) => {
                let (lines, rest) = chunk.split_at(nl + 1);
                if self.carry.is_empty() {
                    f(lines);
                } else {
                    self.carry.extend_from_slice(lines);
                    let block = std::mem::take(&mut self.carry);
                    f(&block);
                }
                self.carry.extend_from_slice(rest);
            }
            None => self.carry.extend_from_slice(chunk),
        }
        if self.carry.len() > self.max_line {
            let block = std::mem::take(&mut self.carry);
            f(&block);
        }
    }

    /// Bytes waiting for the end of their line.
    pub fn pending(&self) -> usize {
        self.carry.len()
    }

    /// Hands over what is left (a last line without its newline).
    pub fn finish(&mut self, f: &mut dyn FnMut(&[u8])) {
        if !self.carry.is_empty() {
            let block = std::mem::take(&mut self.carry);
            f(&block);
        }
    }
}

/// Finds the first crash in a console stream fed in arbitrary chunks.
///
/// ```
/// use kbisect_vm::ConsoleScanner;
/// use kbisect_report::{Config, Reporter};
///
/// let r = Reporter::new(&Config::default()).unwrap();
/// let mut s = ConsoleScanner::new(&r);
/// s.push(b"[ 1.0] booting\n[ 1.1] WARN");
/// s.push(b"ING: CPU: 0 PID: 1 at fs/a.c:1 f+0x1/0x2\n[ 1.2] RIP: 0010:f+0x1/0x2\n");
/// s.push(b"[ 1.3] Call Trace:\n[ 1.4]  g+0x1/0x2\n");
/// assert!(s.crashed());
/// assert_eq!(s.finish().unwrap().report.title, "WARNING in f");
/// ```
pub struct ConsoleScanner<'r> {
    reporter: &'r Reporter,
    limits: ScanLimits,
    lines: LineSplitter,
    state: ScanState,
}

/// What the scanner holds between chunks.
struct ScanState {
    /// Stream bytes handed to the line splitter's callback so far.
    consumed: u64,
    /// The last `before` bytes of lines seen before any crash.
    recent: VecDeque<u8>,
    /// Set at the first crash.
    window: Option<Window>,
}

struct Window {
    text: Vec<u8>,
    offset: u64,
    crash_at: usize,
    dropped_after: u64,
}

impl<'r> ConsoleScanner<'r> {
    /// A scanner with the default [`ScanLimits`].
    pub fn new(reporter: &'r Reporter) -> ConsoleScanner<'r> {
        ConsoleScanner::with_limits(reporter, ScanLimits::default())
    }

    /// A scanner keeping what `limits` say.
    pub fn with_limits(reporter: &'r Reporter, limits: ScanLimits) -> ConsoleScanner<'r> {
        ConsoleScanner {
            reporter,
            limits,
            lines: LineSplitter::new(limits.max_line),
            state: ScanState {
                consumed: 0,
                recent: VecDeque::new(),
                window: None,
            },
        }
    }

    /// Feeds the next piece of the stream.
    pub fn push(&mut self, chunk: &[u8]) {
        let (reporter, limits, state) = (self.reporter, self.limits, &mut self.state);
        self.lines
            .push(chunk, &mut |block| state.block(reporter, limits, block));
    }

    /// Whether a crash has been seen in the whole lines pushed so far.
    pub fn crashed(&self) -> bool {
        self.state.window.is_some()
    }

    /// Stream offset of the first crash's header line.
    pub fn crash_offset(&self) -> Option<u64> {
        self.state
            .window
            .as_ref()
            .map(|w| w.offset + w.crash_at as u64)
    }

    /// Bytes pushed so far.
    pub fn bytes_seen(&self) -> u64 {
        self.state.consumed + self.lines.pending() as u64
    }

    /// Ends the stream (an unfinished last line counts) and titles the crash.
    pub fn finish(mut self) -> Option<CrashWindow> {
        let (reporter, limits, state) = (self.reporter, self.limits, &mut self.state);
        self.lines
            .finish(&mut |block| state.block(reporter, limits, block));
        let w = self.state.window?;
        let report = self
            .reporter
            .parse_from(&w.text, w.crash_at)
            .unwrap_or_else(|| fallback_report(&w.text, w.crash_at));
        Some(CrashWindow {
            report,
            crash_offset: w.offset + w.crash_at as u64,
            offset: w.offset,
            text: w.text,
            dropped_after: w.dropped_after,
        })
    }
}

impl ScanState {
    /// One block of whole lines (or an overlong partial line).
    fn block(&mut self, reporter: &Reporter, limits: ScanLimits, block: &[u8]) {
        let base = self.consumed;
        self.consumed += block.len() as u64;
        if let Some(w) = &mut self.window {
            let room = (w.crash_at + limits.after).saturating_sub(w.text.len());
            let take = block.len().min(room);
            w.text.extend_from_slice(&block[..take]);
            w.dropped_after += (block.len() - take) as u64;
            return;
        }
        if !reporter.contains_crash(block) {
            self.remember(block, limits.before);
            return;
        }
        // The header's line start; `parse` finds the same line `contains_crash` did.
        let start = reporter.parse(block).map_or(0, |r| r.start);
        let mut text: Vec<u8> = self.recent.drain(..).collect();
        text.extend_from_slice(&block[..start]);
        let excess = text.len().saturating_sub(limits.before);
        text.drain(..excess);
        // Context starts at a line boundary so no half line is parsed.
        if base + (start as u64) > text.len() as u64 {
            let nl = text
                .iter()
                .position(|&b| b == b'\n')
                .map_or(text.len(), |p| p + 1);
            text.drain(..nl);
        }
        let offset = base + start as u64 - text.len() as u64;
        let crash_at = text.len();
        let end = (start + limits.after).min(block.len());
        text.extend_from_slice(&block[start..end]);
        self.window = Some(Window {
            text,
            offset,
            crash_at,
            dropped_after: (block.len() - end) as u64,
        });
    }

    fn remember(&mut self, block: &[u8], keep: usize) {
        let block = &block[block.len().saturating_sub(keep)..];
        self.recent.extend(block);
        let excess = self.recent.len().saturating_sub(keep);
        self.recent.drain(..excess);
    }
}

/// A report for a header the parser found but could not build (should not
/// happen: both use the same header search): the header line is the title.
fn fallback_report(text: &[u8], at: usize) -> Report {
    let line_end = text[at..]
        .iter()
        .position(|&b| b == b'\n')
        .map_or(text.len(), |p| at + p);
    let line = String::from_utf8_lossy(&text[at..line_end])
        .trim()
        .to_owned();
    Report {
        title: line.chars().take(120).collect(),
        report: text[at..].to_vec(),
        corrupted: true,
        corrupted_reason: "the parser found no report at the header line".into(),
        start: at,
        end: text.len(),
        ..Report::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kbisect_report::{Config, CrashType};

    const WARN: &[u8] =
        b"[   12.000001] WARNING: CPU: 0 PID: 1 at fs/open.c:10 do_sys_open+0x10/0x20\n\
[   12.000002] Modules linked in:\n\
[   12.000003] RIP: 0010:do_sys_open+0x10/0x20\n\
[   12.000004] Call Trace:\n\
[   12.000005]  <TASK>\n\
[   12.000006]  __x64_sys_openat+0x1/0x2\n\
[   12.000007]  do_syscall_64+0x1/0x2\n\
[   12.000008]  </TASK>\n";

    fn reporter() -> Reporter {
        Reporter::new(&Config::default()).unwrap()
    }

    fn stream(before: usize, after: usize) -> Vec<u8> {
        let mut s = Vec::new();
        while s.len() < before {
            s.extend_from_slice(b"[    1.000000] some boot noise line\n");
        }
        s.extend_from_slice(WARN);
        let mut n = 0;
        while n < after {
            s.extend_from_slice(b"[   13.000000] more noise after the oops\n");
            n += 41;
        }
        s
    }

    #[test]
    fn header_split_across_chunks_is_found_at_any_chunk_size() {
        let r = reporter();
        let s = stream(3000, 3000);
        let expect = r.parse(&s).unwrap().title;
        assert_eq!(expect, "WARNING in do_sys_open");
        for size in [1, 2, 5, 13, 64, 100, 4096, s.len()] {
            let mut sc = ConsoleScanner::new(&r);
            for c in s.chunks(size) {
                sc.push(c);
            }
            assert!(sc.crashed(), "chunk size {size}");
            assert_eq!(sc.bytes_seen(), s.len() as u64);
            let w = sc.finish().unwrap();
            assert_eq!(w.report.title, expect, "chunk size {size}");
            assert_eq!(w.report.crash_type, CrashType::Warning);
            let at = usize::try_from(w.crash_offset).unwrap();
            assert!(s[at..].starts_with(b"[   12.000001] WARNING"), "{size}");
        }
    }

    #[test]
    fn window_is_bounded_and_offsets_are_the_streams() {
        let r = reporter();
        let limits = ScanLimits {
            before: 200,
            after: 1000,
            max_line: 4096,
        };
        let s = stream(10_000, 50_000);
        let mut sc = ConsoleScanner::with_limits(&r, limits);
        for c in s.chunks(777) {
            sc.push(c);
        }
        let w = sc.finish().unwrap();
        assert!(w.text.len() <= 1200, "{}", w.text.len());
        let off = usize::try_from(w.offset).unwrap();
        assert_eq!(&s[off..off + w.text.len()], &w.text[..]);
        assert_eq!(
            w.offset + w.text.len() as u64 + w.dropped_after,
            s.len() as u64
        );
        // Context starts at a line start.
        assert!(s[off - 1] == b'\n' && w.text.starts_with(b"[    1.0"));
        assert_eq!(w.report.title, "WARNING in do_sys_open");
    }

    #[test]
    fn no_crash_no_window_and_a_last_line_without_newline_counts() {
        let r = reporter();
        let mut sc = ConsoleScanner::new(&r);
        sc.push(b"[ 1.0] all fine\n[ 1.1] still fine\n");
        assert!(!sc.crashed());
        assert!(sc.finish().is_none());

        let mut sc = ConsoleScanner::new(&r);
        sc.push(b"[ 1.0] fine\n[ 1.1] Kernel panic - not syncing: sysrq triggered crash");
        assert!(!sc.crashed(), "the line is not finished yet");
        let w = sc.finish().unwrap();
        assert!(
            w.report.title.starts_with("kernel panic"),
            "{}",
            w.report.title
        );
    }

    #[test]
    fn a_stream_without_newlines_stays_bounded() {
        let r = reporter();
        let limits = ScanLimits {
            max_line: 1000,
            ..ScanLimits::default()
        };
        let mut sc = ConsoleScanner::with_limits(&r, limits);
        for _ in 0..1000 {
            sc.push(&[b'x'; 999]);
        }
        assert!(sc.lines.carry.len() <= 2000);
        assert!(sc.state.recent.len() <= limits.before);
    }

    #[test]
    fn splitter_yields_whole_lines() {
        let mut sp = LineSplitter::new(100);
        let mut got = Vec::new();
        for c in [&b"ab"[..], b"c\nde", b"f\ng\n", b"h"] {
            sp.push(c, &mut |b| got.push(b.to_vec()));
        }
        sp.finish(&mut |b| got.push(b.to_vec()));
        assert_eq!(
            got,
            vec![b"abc\n".to_vec(), b"def\ng\n".to_vec(), b"h".to_vec()]
        );
    }
}
