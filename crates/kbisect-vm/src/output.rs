//! What a local run's output showed, gathered while it streams: the crash
//! (see [`CrashMatcher::stream`]), the last lines (for the reports of
//! signal deaths and timeouts, and the reasons of test failures), and how
//! much there was. Nothing else of the output is kept in memory: the whole
//! of it goes to the run's log file.

use std::collections::VecDeque;

use kbisect_core::Crash;

use crate::matcher::{CrashMatcher, CrashStream, REPORT_LINES};

/// Bytes of the end of the output kept for reports and reasons.
pub const TAIL_BYTES: usize = 64 << 10;

/// What one run's output showed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RunOutput {
    /// The crash the matcher found, with the line that started it.
    pub crash: Option<(Crash, String)>,
    /// The end of the output (at most [`TAIL_BYTES`], whole lines).
    pub tail: Vec<u8>,
    /// Bytes of output the run printed.
    pub bytes: u64,
}

impl RunOutput {
    /// The output of a run that printed `console`, all of it at once.
    pub fn of(console: &[u8], m: &CrashMatcher) -> RunOutput {
        let mut s = OutputScan::new(m);
        s.push(console);
        s.finish()
    }

    /// The last lines of the tail (at most the report's length), joined.
    pub fn last_lines(&self) -> String {
        let text = String::from_utf8_lossy(&self.tail);
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(REPORT_LINES)..].join("\n")
    }

    /// `": <last non-blank line>"`, or nothing when the run printed nothing.
    pub fn last_line_suffix(&self) -> String {
        String::from_utf8_lossy(&self.tail)
            .lines()
            .rev()
            .find(|l| !l.trim().is_empty())
            .map(|l| format!(": {}", l.trim()))
            .unwrap_or_default()
    }
}

/// A run's output being read (see the module docs).
pub struct OutputScan<'m> {
    crash: CrashStream<'m>,
    tail: VecDeque<u8>,
    /// Whether bytes were dropped from the front of `tail`.
    cut: bool,
    bytes: u64,
}

impl<'m> OutputScan<'m> {
    /// A scan with `m`'s crash search.
    pub fn new(m: &'m CrashMatcher) -> OutputScan<'m> {
        OutputScan {
            crash: m.stream(),
            tail: VecDeque::new(),
            cut: false,
            bytes: 0,
        }
    }

    /// Feeds the next piece of output.
    pub fn push(&mut self, chunk: &[u8]) {
        self.bytes += chunk.len() as u64;
        self.crash.push(chunk);
        let chunk = &chunk[chunk.len().saturating_sub(TAIL_BYTES)..];
        self.tail.extend(chunk);
        let excess = self.tail.len().saturating_sub(TAIL_BYTES);
        if excess > 0 {
            self.tail.drain(..excess);
            self.cut = true;
        }
    }

    /// Ends the output.
    pub fn finish(self) -> RunOutput {
        let mut tail = Vec::from(self.tail);
        if self.cut {
            // No half line at the start.
            let nl = tail.iter().position(|&b| b == b'\n').map_or(0, |p| p + 1);
            tail.drain(..nl);
        }
        RunOutput {
            crash: self.crash.finish(),
            tail,
            bytes: self.bytes,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tail_is_bounded_and_starts_at_a_line() {
        let m = CrashMatcher::new(None).unwrap();
        let mut s = OutputScan::new(&m);
        for i in 0..100_000 {
            s.push(format!("line {i}\n").as_bytes());
        }
        let o = s.finish();
        assert!(o.tail.len() <= TAIL_BYTES);
        assert!(o.tail.starts_with(b"line "), "{:?}", &o.tail[..20]);
        assert_eq!(o.last_line_suffix(), ": line 99999");
        assert_eq!(o.last_lines().lines().count(), REPORT_LINES);
        assert!(o.last_lines().ends_with("line 99999"));
        assert!(o.crash.is_none());
    }
}
