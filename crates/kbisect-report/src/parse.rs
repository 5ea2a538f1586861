//! From a located header to a full `Report`: collecting the crashing
//! context's lines, choosing the title format, the frame and the flags.

use regex::bytes::Regex;

use crate::console::{self, contains};
use crate::oops_table::{Format, compile};
use crate::report::{Executor, Report};
use crate::{Error, Reporter, corrupted, crash_type_of_title, guilty, title};

/// Upper bounds that keep memory flat on hostile input.
const MAX_REPORT_BYTES: usize = 512 << 10;
const MAX_LINE_BYTES: usize = 8 << 10;
/// How far past the header the crashing context's lines are looked for.
const MAX_SCAN_BYTES: usize = 1 << 20;
/// Report text kept after the start of a following crash.
const MAX_TAIL_BYTES: usize = 64 << 10;
/// Lines kept before the header (the crash's preamble, e.g. "cut here").
const PREFIX_LINES: usize = 5;

/// Regexps used outside the oops tables.
pub(crate) struct Aux {
    pub executor: Regex,
    pub task_line: Regex,
    pub title_timestamp: Regex,
    pub title_frame: Regex,
    pub source_file: Regex,
    pub guilty_skip: Regex,
    pub guilty_line_skip: Regex,
}

impl Aux {
    pub(crate) fn new() -> Result<Aux, Error> {
        Ok(Aux {
            executor: compile(r"Comm: syz\.([0-9]+)\.([0-9]+)\b")?,
            task_line: compile(r"^CPU: [0-9]+ (?:UID: [0-9]+ )?PID: [0-9]+ Comm: ")?,
            title_frame: compile(r"^.* in ((?:<[a-zA-Z0-9_: ]+>)?[a-zA-Z0-9_:]+)")?,
            title_timestamp: compile(r"\[ *[0-9]+\.[0-9]+\]")?,
            source_file: compile(r"([a-zA-Z0-9_\-./]*[a-zA-Z0-9_\-]+\.(?:c|h|rs|S)):[0-9]+")?,
            guilty_skip: guilty::skip_regex()?,
            guilty_line_skip: compile(
                // Lockdep's held-lock list ("#0: (&lock), at: f+0x1 file.c:1")
                // names where locks were taken, not where the bug is.
                r"(?:hardirqs|softirqs)\s+last\s+(?:enabled|disabled)|^Register r[0-9]+ information|^\s*#[0-9]+:\s",
            )?,
        })
    }
}

/// The lines of the crashing context, prefixes stripped.
struct Collected {
    text: Vec<u8>,
    /// Where the text used for the title ends (before a second crash).
    title_end: usize,
    /// Where the frames of this crash end, when another CPU's oops starts
    /// before our stack.
    frame_end: Option<usize>,
    /// Where the report text ends (before a following crash).
    report_end: usize,
    prefix: Vec<Vec<u8>>,
    end: usize,
    /// Another crash's header was printed in the middle of our stack.
    interleaved: bool,
}

fn collect(r: &Reporter, out: &[u8], start: usize, oops: usize) -> Collected {
    let first = console::lines_from(out, start).next();
    let ctx = first.map(|l| console::prefix(l.text).tag).unwrap_or(None);
    let kernel_ctx = first.is_some_and(|l| console::prefix(l.text).kernel);
    let mut prefix: Vec<Vec<u8>> = Vec::new();
    // The preamble: a few lines of the same context just before the header.
    let back_from = start.saturating_sub(16 << 10);
    let back_from = console::line_start(out, back_from.max(1) - 1).min(start);
    for l in console::lines_from(&out[..start], back_from) {
        let p = console::prefix(l.text);
        let body = &l.text[p.body..];
        if p.tag == ctx
            && (p.kernel || !kernel_ctx)
            && !body.is_empty()
            && !console::is_questionable(body)
        {
            prefix.push(body[..body.len().min(MAX_LINE_BYTES)].to_vec());
            if prefix.len() > PREFIX_LINES {
                prefix.remove(0);
            }
        }
    }
    let mut text = Vec::new();
    let mut title_end = None;
    let mut end = start;
    let mut text_lines = prefix.len();
    let mut skip_rest = false;
    // Untagged logs interleave other tasks' frames: only count ours (after a trace header).
    let (mut seen_trace, mut seen_frames, mut last_was_frame) = (ctx.is_some(), false, false);
    // The report has printed its task line ("CPU: 0 PID: 1 Comm: ..."): an
    // oops header after it opens another report (a second CPU's die()),
    // not the continuation of this one (a BUG's "invalid opcode" trap line
    // comes before the task line).
    let mut seen_task_line = false;
    let mut frame_end = None;
    let scan_end = start.saturating_add(MAX_SCAN_BYTES).min(out.len());
    let mut cpu_traceback = false;
    let mut interleaved = false;
    for l in console::lines_from(&out[..scan_end], start) {
        if text.len() >= MAX_REPORT_BYTES
            || title_end.is_some_and(|e| text.len() - e > MAX_TAIL_BYTES)
        {
            break;
        }
        let is_first = l.start == start;
        let p = console::prefix(l.text);
        // Once the crash is known to be kernel console output, lines that are
        // not (the fuzzer's own chatter) belong to no context.
        // After "Sending NMI from CPU", the other CPUs' backtraces (printed in
        // their own contexts) are part of this report.
        let other_ctx = p.tag != ctx && !(cpu_traceback && p.kernel);
        if !is_first && (other_ctx || (kernel_ctx && !p.kernel)) {
            continue;
        }
        let body = &l.text[p.body..];
        if p.tag == ctx
            && (contains(body, b"Sending NMI from CPU")
                || contains(body, b"NMI backtrace for cpus"))
        {
            cpu_traceback = true;
        }
        let second = if !is_first && title_end.is_none() && r.scanner.find(l.text).is_some() {
            r.match_line(l.text)
        } else {
            None
        };
        // Untagged logs: an oops header after this report's task line is a
        // second CPU's report: its registers and stack are not this crash's
        // frames (the text still counts for the corrupted check).
        if let Some(o) = second
            && ctx.is_none()
            && frame_end.is_none()
            && seen_task_line
            && !seen_frames
            && r.oopses[o].header != b"Kernel panic"
            && o != oops
        {
            frame_end = Some(text.len());
        }
        if let Some(o) = second
            // The hung-task detector reports every blocked task in a row: one report.
            && !(o == oops && r.oopses[o].header == b"INFO:")
            && (seen_frames || r.oopses[o].starts_report)
        {
            // Another crash starts once this one has shown its stack; an oops
            // line wedged between two frame lines is interleaved noise.
            let next_is_frame = console::lines_from(out, l.next)
                .next()
                .is_some_and(|n| r.frames.is_frame(&n.text[console::prefix(n.text).body..]));
            if last_was_frame && next_is_frame {
                // A one-line notice (no stack of its own) does not mix frames.
                interleaved |= r.oopses[o].formats.iter().any(|f| f.stack.is_some());
                continue;
            }
            title_end = Some(text.len());
        }
        if r.frames.is_stack_start(body) {
            seen_trace = true;
        }
        let is_frame = r.frames.is_frame(body);
        seen_frames |= is_frame && seen_trace;
        seen_task_line |= !is_first && body.starts_with(b"CPU: ") && r.aux.task_line.is_match(body);
        last_was_frame = is_frame;
        if console::is_questionable(body) {
            continue;
        }
        end = l.next;
        text_lines += 1;
        let mut skip = skip_rest;
        if contains(body, b"Disabling lock debugging due to kernel taint") {
            skip = true;
        } else if text_lines > 25 && contains(body, b"Kernel panic - not syncing") {
            // The panic_on_warn panic repeats the stack already shown.
            skip_rest = true;
            skip = true;
        }
        if !skip {
            text.extend_from_slice(&body[..body.len().min(MAX_LINE_BYTES)]);
            text.push(b'\n');
        }
    }
    // The report ends where the next crash starts; with caller tags the other
    // crash's lines are already filtered out, so the title may use them all.
    let report_end = title_end.unwrap_or(text.len());
    let title_end = if ctx.is_some() {
        text.len()
    } else {
        report_end
    };
    Collected {
        text,
        title_end,
        frame_end,
        report_end,
        prefix,
        end,
        interleaved,
    }
}

/// What the format table says about a report text.
struct Described {
    title: String,
    alts: Vec<String>,
    corrupted: Option<&'static str>,
    format: Option<usize>,
}

fn describe(r: &Reporter, oops: usize, text: &[u8], frame_end: Option<usize>) -> Described {
    let o = &r.oopses[oops];
    let mut best: Option<(usize, usize)> = None;
    for (i, f) in o.formats.iter().enumerate() {
        if let Some(m) = f.title.find(text)
            && best.is_none_or(|(pos, _)| m.start() < pos)
        {
            if f.report.as_ref().is_some_and(|re| !re.is_match(text)) {
                continue;
            }
            best = Some((m.start(), i));
        }
    }
    let Some((pos, fi)) = best else {
        return fallback(r, oops, text);
    };
    let f: &Format = &o.formats[fi];
    let caps_re = f.report.as_ref().unwrap_or(&f.title);
    let groups: Vec<String> = caps_re
        .captures(&text[pos..])
        .map(|c| {
            c.iter()
                .skip(1)
                .map(|m| m.map_or(String::new(), |m| lossy(m.as_bytes())))
                .collect()
        })
        .unwrap_or_default();
    let mut d = Described {
        title: String::new(),
        alts: Vec::new(),
        corrupted: None,
        format: Some(fi),
    };
    let Some(stack) = &f.stack else {
        d.title = title::fill(f.fmt, &groups, "");
        d.alts = f
            .alt
            .iter()
            .map(|a| title::fill(a, &groups, ""))
            .filter(|a| *a != d.title)
            .collect();
        return d;
    };
    // Alternative titles naming the origin stack's frame ({O}); without
    // one, those alternatives are left out.
    let stack_text = &text[pos..frame_end.unwrap_or(text.len()).clamp(pos, text.len())];
    let origin = f
        .origin
        .as_ref()
        .map(|o| r.frames.extract(o, stack_text).raw)
        .unwrap_or_default();
    let alt_fmts: Vec<String> = f
        .alt
        .iter()
        .filter(|a| !a.contains("{O}") || !origin.is_empty())
        .map(|a| a.replace("{O}", &origin))
        .collect();
    let ex = r.frames.extract(stack, stack_text);
    if ex.raw.is_empty() {
        d.corrupted = Some("no frames extracted");
        d.title = title::fill(f.fmt, &groups, "corrupted");
        d.alts = alt_fmts
            .iter()
            .map(|a| title::fill(a, &groups, "corrupted"))
            .collect();
        return d;
    }
    let (canon, mut others) = if ex.name != ex.raw {
        (ex.name.clone(), vec![ex.raw.clone()])
    } else {
        title::frame_variants(&ex.raw)
    };
    others.retain(|o| *o != canon);
    d.title = title::fill(f.fmt, &groups, &canon);
    let mut alts = Vec::new();
    for v in &others {
        alts.push(title::fill(f.fmt, &groups, v));
    }
    for a in &alt_fmts {
        alts.push(title::fill(a, &groups, &canon));
        for v in &others {
            alts.push(title::fill(a, &groups, v));
        }
    }
    d.alts = alts;
    d
}

/// No format matched: the header line itself is the title.
fn fallback(r: &Reporter, oops: usize, text: &[u8]) -> Described {
    let o = &r.oopses[oops];
    let first = console::find(text, o.header).unwrap_or(0);
    let end = console::line_end(text, first);
    let matched_title = o.formats.iter().any(|f| f.title.is_match(text));
    let line = &text[first..end];
    // A header with nothing after it ("INFO:" then a cut) says nothing
    // about the bug: name it like a report whose frame was lost.
    if console::trim_start(line.get(o.header.len()..).unwrap_or_default()).is_empty() {
        return Described {
            title: format!("{} corrupted", lossy(o.header).trim_end()),
            alts: Vec::new(),
            corrupted: Some("header without a message"),
            format: None,
        };
    }
    Described {
        title: lossy(line),
        alts: Vec::new(),
        corrupted: matched_title.then_some("matched title but not report"),
        format: None,
    }
}

fn lossy(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

pub(crate) fn build(
    r: &Reporter,
    out: &[u8],
    start: usize,
    oops: usize,
    suppressed: bool,
) -> Report {
    // Frames the unwinder marks unreliable (" ? f+0x1") are never used,
    // even when nothing else is left: a guess is worse than "corrupted".
    let c = collect(r, out, start, oops);
    let d = describe(r, oops, &c.text[..c.title_end], c.frame_end);
    let title = r.norm.title(&d.title);
    let mut alts: Vec<String> = d
        .alts
        .iter()
        .map(|a| r.norm.title(a))
        .filter(|a| *a != title && !a.is_empty())
        .collect();
    alts.sort();
    alts.dedup();
    let format = d.format.map(|i| &r.oopses[oops].formats[i]);
    let mut reason = d.corrupted.map(str::to_string);
    // A bare header line that no format knows is taken at face value.
    if reason.is_none() && format.is_some() {
        reason =
            corrupted::check(r, &r.aux, &title, &c.text[..c.title_end], format).map(str::to_string);
    }
    // Two reports printed at once: which lines are whose is a guess.
    if reason.is_none() && c.interleaved {
        reason = Some("another report interleaved with the stack".into());
    }
    let mut report = Vec::new();
    for p in &c.prefix {
        report.extend_from_slice(p);
        report.push(b'\n');
    }
    report.extend_from_slice(&c.text[..c.report_end]);
    // The frame is what the title blames (also for titles built without a
    // stack, e.g. KCSAN's "in a / b").
    let frame = r
        .aux
        .title_frame
        .captures(title.as_bytes())
        .and_then(|c| c.get(1))
        .map(|m| String::from_utf8_lossy(m.as_bytes()).into_owned())
        .unwrap_or_default();
    let guilty_file = guilty::guilty_file(&r.aux, &r.frames, &c.text);
    let tail = &out[start..start.saturating_add(MAX_SCAN_BYTES).min(out.len())];
    // The executor's "Comm:" line may sit in another CPU's context.
    let executor = executor(&r.aux, &c.text).or_else(|| executor(&r.aux, tail));
    Report {
        crash_type: crash_type_of_title(&title),
        title,
        alt_titles: alts,
        report,
        frame,
        guilty_file,
        corrupted: reason.is_some(),
        corrupted_reason: reason.unwrap_or_default(),
        suppressed,
        panicked: contains(tail, b"Kernel panic - not syncing"),
        executor,
        start,
        end: c.end,
    }
}

fn executor(aux: &Aux, text: &[u8]) -> Option<Executor> {
    let c = aux.executor.captures(text)?;
    let num = |i: usize| {
        std::str::from_utf8(c.get(i)?.as_bytes())
            .ok()?
            .parse::<u64>()
            .ok()
    };
    Some(Executor {
        proc: num(1)?,
        id: num(2)?,
    })
}
