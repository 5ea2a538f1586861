//! Whether a report can be trusted: it must carry a stack trace with at
//! least one frame after each trace keyword, and an intact title.

use crate::Reporter;
use crate::console::contains;
use crate::oops_table::Format;
use crate::parse::Aux;

/// Words that introduce a stack trace in a report.
const TRACE_KEYWORDS: &[&[u8]] = &[
    b"Call Trace",
    b"Call trace",
    b"backtrace:",
    b"Backtrace:",
    b"Allocated by",
    b"Freed by",
    b"Allocated:",
    b"Freed:",
    b"Uninit was created at:",
    b"Uninit was stored to memory at:",
];

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
        let Some(pos) = crate::console::find(text, kw) else {
            continue;
        };
        let after = &text[pos..];
        // Registers, raw stack words and markers may come before the frames.
        let ok = after
            .split(|&c| c == b'\n')
            .skip(1)
            .take(15)
            .any(|l| r.frames.is_frame(l));
        if !ok {
            return Some("no frames in a stack trace");
        }
        has_trace = true;
    }
    if !has_trace && !TRACE_KEYWORDS.iter().any(|k| contains(text, k)) && !has_bare_trace(r, text) {
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
