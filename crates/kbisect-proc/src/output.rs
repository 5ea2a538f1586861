//! What a run produced: status, captured output (tails), and the error type.

use std::collections::VecDeque;
use std::fmt;
use std::time::Duration;

/// Which pipe a chunk of output came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Stream {
    Stdout,
    Stderr,
}

/// How a run ended. Timeouts and cancellation win over the exit status they caused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Exited(i32),
    Signaled(i32),
    TimedOut,
    NoOutput,
    Cancelled,
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Status::Exited(c) => write!(f, "exit status {c}"),
            Status::Signaled(s) => write!(f, "killed by signal {s}"),
            Status::TimedOut => f.write_str("timed out"),
            Status::NoOutput => f.write_str("no output (idle timeout)"),
            Status::Cancelled => f.write_str("cancelled"),
        }
    }
}

/// The result of a run that could be started.
#[derive(Debug, Clone)]
pub struct Output {
    pub status: Status,
    /// The last `output_cap` bytes written to stdout.
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
    /// Bytes of stdout that did not fit under the cap (from the beginning).
    pub stdout_dropped: u64,
    pub stderr_dropped: u64,
    pub duration: Duration,
}

impl Output {
    pub fn success(&self) -> bool {
        self.status == Status::Exited(0)
    }

    /// The last `max_lines` lines of stderr (lossy UTF-8), trimmed.
    pub fn stderr_tail(&self, max_lines: usize) -> String {
        tail_lines(&self.stderr, max_lines)
    }

    pub fn stdout_str(&self) -> String {
        String::from_utf8_lossy(&self.stdout).into_owned()
    }
}

pub(crate) fn tail_lines(bytes: &[u8], max_lines: usize) -> String {
    let text = String::from_utf8_lossy(bytes);
    let text = text.trim_end();
    let lines: Vec<&str> = text.lines().collect();
    let start = lines.len().saturating_sub(max_lines);
    lines[start..].join("\n").trim().to_owned()
}

/// Why a program could not be run (or, for `run_checked`, did not succeed).
#[derive(Debug, thiserror::Error)]
pub enum ProcError {
    #[error("program not found: {program}")]
    NotFound { program: String },
    #[error("cannot start {argv}: {source}")]
    Spawn {
        argv: String,
        #[source]
        source: std::io::Error,
    },
    #[error("i/o error while running {argv}: {source}")]
    Io {
        argv: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{argv} failed ({status}){}", fmt_tail(.stderr_tail))]
    Failed {
        argv: String,
        status: Status,
        stderr_tail: String,
    },
}

fn fmt_tail(tail: &str) -> String {
    if tail.is_empty() {
        String::new()
    } else {
        format!(":\n{tail}")
    }
}

/// Keeps the last `cap` bytes written to it and counts the rest.
///
/// A deque so trimming the front costs only what is dropped: memory stays
/// bounded by `cap` plus one chunk however much the child writes.
#[derive(Debug)]
pub(crate) struct TailBuf {
    buf: VecDeque<u8>,
    cap: usize,
    dropped: u64,
}

impl TailBuf {
    pub(crate) fn new(cap: usize) -> TailBuf {
        TailBuf {
            buf: VecDeque::new(),
            cap,
            dropped: 0,
        }
    }

    pub(crate) fn push(&mut self, chunk: &[u8]) {
        if chunk.len() >= self.cap {
            self.dropped += (self.buf.len() + chunk.len() - self.cap) as u64;
            self.buf.clear();
            self.buf.extend(&chunk[chunk.len() - self.cap..]);
            return;
        }
        self.buf.extend(chunk);
        let excess = self.buf.len().saturating_sub(self.cap);
        if excess > 0 {
            self.buf.drain(..excess);
            self.dropped += excess as u64;
        }
    }

    pub(crate) fn finish(self) -> (Vec<u8>, u64) {
        (Vec::from(self.buf), self.dropped)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tail_buf_keeps_the_tail_and_counts_the_rest() {
        let mut t = TailBuf::new(5);
        t.push(b"abc");
        t.push(b"defg");
        assert_eq!(t.finish(), (b"cdefg".to_vec(), 2));

        let mut t = TailBuf::new(3);
        t.push(b"ab");
        t.push(b"0123456");
        assert_eq!(t.finish(), (b"456".to_vec(), 6));

        let mut t = TailBuf::new(0);
        t.push(b"xyz");
        assert_eq!(t.finish(), (Vec::new(), 3));
    }

    #[test]
    fn stderr_tail_takes_last_lines() {
        assert_eq!(tail_lines(b"a\nb\nc\n\n", 2), "b\nc");
        assert_eq!(tail_lines(b"", 2), "");
        assert_eq!(tail_lines(b"one", 5), "one");
    }

    #[test]
    fn status_display() {
        assert_eq!(Status::Exited(2).to_string(), "exit status 2");
        assert_eq!(Status::Signaled(9).to_string(), "killed by signal 9");
        let e = ProcError::Failed {
            argv: "make".into(),
            status: Status::Exited(2),
            stderr_tail: "boom".into(),
        };
        assert_eq!(e.to_string(), "make failed (exit status 2):\nboom");
    }
}
