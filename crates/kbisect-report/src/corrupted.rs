//! Whether a report can be trusted: it must carry a stack trace with at
//! least one frame after each trace keyword, and an intact title.

use crate::Reporter;
use crate::console::contains;
use crate::oops_table::Format;
use crate::parse::Aux;

/// Words that introduce a stack trace in a report. ("stack backtrace:" is
/// lockdep's heading for the dump_stack() that follows, whose own "Call
/// Trace:" is the trace; kmemleak's "backtrace:" is one.)
const TRACE_KEYWORDS: &[&[u8]] = &[
    b"Call Trace",
    b"Call trace",
    b" backtrace:",
    b"Backtrace:",
    b"Allocated by",
    b"Freed by",
    b"Allocated:",
    b"Freed:",
    b"Uninit was created at:",
    b"Uninit was stored to memory at:",
];

/// Where a trace keyword occurs in `text` (not "stack backtrace:").
fn find_keyword(text: &[u8], kw: &[u8]) -> Option<usize> {
    let mut from = 0;
    while let Some(p) = crate::console::find(&text[from..], kw) {
        let at = from + p;
        if !(kw == b" backtrace:" && text[..at].ends_with(b"stack")) {
            return Some(at);
        }
        from = at + kw.len();
    }
    None
}

/// The line holds a trace keyword (the start of the next stack).
fn is_keyword_line(line: &[u8]) -> bool {
    TRACE_KEYWORDS
        .iter()
        .any(|k| find_keyword(line, k).is_some())
}

/// `Some(reason)` when the report is corrupted.
pub(crate) fn check(
    r: &Reporter,
    aux: &Aux,
    title: &str,
    text: &[u8],
    format: Option<&Format>,
) -> Option<&'static str> {
    if aux.title_timestamp.is_match(title.as_bytes()) {
        return Some("title contains a timestamp");
    }
    if format.is_some_and(|f| f.corrupted) {
        return Some("report format is marked as corrupted");
    }
    if format.is_some_and(|f| f.no_stack) {
        return None;
    }
    let mut has_trace = false;
    for kw in TRACE_KEYWORDS {
        let Some(pos) = find_keyword(text, kw) else {
            continue;
        };
        has_trace = true;
        // Registers, raw stack words and markers may come before the frames,
        // but not the next stack's heading: a trace cut right after its
        // heading is what is left of an interleaved or truncated report.
        let lines: Vec<&[u8]> = text[pos..].split(|&c| c == b'\n').collect();
        if lines.len() < 4 {
            return Some("call trace is missed");
        }
        let mut ok = false;
        for l in lines.iter().skip(1).take(15) {
            if is_keyword_line(l) {
                break;
            }
            // (KMSAN's "(stack is not available)" origin is no frame either:
            // the report cannot say where the value came from.)
            if r.frames.is_frame(l) {
                ok = true;
                break;
            }
        }
        if !ok {
            return Some("no frames in a stack trace");
        }
    }
    if !has_trace && !contains(text, b"backtrace") && !has_bare_trace(r, text) {
        return Some("no stack trace in report");
    }
    None
}

/// RISC-V prints the frames right after the registers, with no "Call
/// Trace:" line: a run of "func+off/size" frame lines is a trace. (Old ARM
/// "(f) from (g)" lines without "Backtrace:" stay suspect: they are what is
/// left when the unwinder's header was lost.)
fn has_bare_trace(r: &Reporter, text: &[u8]) -> bool {
    const MIN_RUN: usize = 3;
    let mut run = 0;
    for l in text.split(|&c| c == b'\n') {
        if r.frames.is_offset_frame(l) {
            run += 1;
            if run >= MIN_RUN {
                return true;
            }
        } else {
            run = 0;
        }
    }
    false
}
