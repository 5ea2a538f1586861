//! The shape of the oops tables (headers, title formats, stack recipes) and
//! their compilation. The data lives in `table_*.rs`, one file per family.

use regex::bytes::Regex;

use crate::Error;

/// How the guilty frame is picked from the frames a stack recipe collected.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Extractor {
    /// The first frame that is not infrastructure.
    First,
    /// CPU stalls: the frame just above the first dispatch/syscall anchor.
    Stall,
    /// Hung tasks: skip scheduler, locking and waiting frames.
    Hang,
}

/// One step of a stack recipe: a regexp whose first group (if it matched) is
/// a frame, or `TRACE` to read the stack lines that follow.
pub(crate) const TRACE: &str = "";

#[derive(Clone, Copy, Debug)]
pub(crate) struct StackDef {
    pub parts: &'static [&'static str],
    /// Extra frames to skip for this format (regexps on the function name).
    pub skip: &'static [&'static str],
    pub extractor: Extractor,
    /// The frame named on the header line alone is not enough: a stack or
    /// an IP line must follow (a bare WARNING line is a truncated report).
    pub need_body: bool,
}

#[derive(Clone, Copy, Debug)]
pub(crate) struct FormatDef {
    /// Searched in the report text; the earliest match among formats wins.
    pub title: &'static str,
    /// A stricter regexp the report must also match ("" = none); its groups
    /// feed the format string instead of the title's.
    pub report: &'static str,
    /// `{1}`, `{2}`: regexp groups; `{F}`: the guilty frame.
    pub fmt: &'static str,
    /// Alternative titles, same placeholders.
    pub alt: &'static [&'static str],
    pub stack: Option<StackDef>,
    /// A second stack naming where the bad value came from (KMSAN's
    /// "Uninit was created at:"); `{O}` in alternative titles.
    pub origin: Option<StackDef>,
    /// Reports of this kind never carry a stack trace.
    pub no_stack: bool,
    /// Reports of this kind are never trustworthy.
    pub corrupted: bool,
}

impl FormatDef {
    pub(crate) const fn new(title: &'static str, fmt: &'static str) -> FormatDef {
        FormatDef {
            title,
            report: "",
            fmt,
            alt: &[],
            stack: None,
            origin: None,
            no_stack: false,
            corrupted: false,
        }
    }
    pub(crate) const fn report(mut self, r: &'static str) -> FormatDef {
        self.report = r;
        self
    }
    pub(crate) const fn alt(mut self, a: &'static [&'static str]) -> FormatDef {
        self.alt = a;
        self
    }
    /// The stack to take the guilty frame from.
    const fn with_stack(
        mut self,
        parts: &'static [&'static str],
        skip: &'static [&'static str],
        extractor: Extractor,
        need_body: bool,
    ) -> FormatDef {
        self.stack = Some(StackDef {
            parts,
            skip,
            extractor,
            need_body,
        });
        self
    }
    pub(crate) const fn stack(
        self,
        parts: &'static [&'static str],
        skip: &'static [&'static str],
    ) -> FormatDef {
        self.with_stack(parts, skip, Extractor::First, false)
    }
    /// Like `stack`, but a header without a body after it is corrupted.
    pub(crate) const fn stack_body(
        self,
        parts: &'static [&'static str],
        skip: &'static [&'static str],
    ) -> FormatDef {
        self.with_stack(parts, skip, Extractor::First, true)
    }
    pub(crate) const fn stack_ex(
        self,
        parts: &'static [&'static str],
        skip: &'static [&'static str],
        extractor: Extractor,
    ) -> FormatDef {
        self.with_stack(parts, skip, extractor, false)
    }
    /// The origin stack (`{O}` in alternative titles): its first frame
    /// outside infrastructure and `skip`.
    pub(crate) const fn origin(
        mut self,
        parts: &'static [&'static str],
        skip: &'static [&'static str],
    ) -> FormatDef {
        self.origin = Some(StackDef {
            parts,
            skip,
            extractor: Extractor::First,
            need_body: false,
        });
        self
    }
    pub(crate) const fn no_stack(mut self) -> FormatDef {
        self.no_stack = true;
        self
    }
    pub(crate) const fn corrupted(mut self) -> FormatDef {
        self.corrupted = true;
        self
    }
}

#[derive(Clone, Copy, Debug)]
pub(crate) struct OopsDef {
    /// Literal text that starts a crash (found anywhere in a line).
    pub header: &'static str,
    /// Lines holding the header that are not crashes (regexps).
    pub suppress: &'static [&'static str],
    pub formats: &'static [FormatDef],
}

pub(crate) struct Format {
    pub title: Regex,
    pub report: Option<Regex>,
    pub fmt: &'static str,
    pub alt: &'static [&'static str],
    pub stack: Option<Stack>,
    pub origin: Option<Stack>,
    pub no_stack: bool,
    pub corrupted: bool,
}

pub(crate) struct Stack {
    /// `None` = read a stack trace.
    pub parts: Vec<Option<Regex>>,
    /// Which parts are a trace's heading (`{{CALLTRACE}}`): the frames after
    /// a missing heading are not a trace.
    pub heading: Vec<bool>,
    pub need_body: bool,
    pub skip: Option<Regex>,
    pub extractor: Extractor,
}

pub(crate) struct Oops {
    pub header: &'static [u8],
    /// A line with this header starts a new report even right after another
    /// header (sanitizer and WARN/BUG reports always do; trap lines such as
    /// "invalid opcode" usually continue the report before them).
    pub starts_report: bool,
    /// Lines holding the header that are not crashes, as one regexp.
    pub suppress: Option<Regex>,
    pub formats: Vec<Format>,
}

/// Shared regexp fragments, written `{{NAME}}` in the tables.
const PLACEHOLDERS: &[(&str, &str)] = &[
    ("{{ADDR}}", r"0x[0-9a-f]+"),
    ("{{PC}}", r"\[<?(?:0x)?[0-9a-f]+>?\]"),
    ("{{FUNC}}", r"([a-zA-Z0-9_]+)(?:\.|\+)"),
    ("{{SRC}}", r"(?:[a-zA-Z0-9\-_/.]+\.[a-z]+:[0-9]+)"),
    // The faulting instruction pointer line of all architectures we know
    // (powerpc's show_regs() prints "NIP [addr] f+0x1/0x2", its show_stack()
    // marks an exception frame "--- interrupt: N at f+0x1/0x2").
    (
        "{{RIP}}",
        r"(?:RIP: [0-9a-f]{4}:|EIP: [0-9a-f]{4}:|IP:|NIP:|NIP |PC is at|pc ?:|epc ?:|ip:|--- interrupt: [0-9a-f]+ at)\s*(?:(?:\[<?(?:0x)?[0-9a-f]+>?\]\s+){0,2}([a-zA-Z0-9_]+)(?:\.|\+)|(?:[0-9]+:)?0x[0-9a-f]+|\[<?[0-9a-f]+>?\]\s+\[< *\(null\)>\]\s+\(null\)|\(null\))",
    ),
    ("{{CALLTRACE}}", r"(?:Call (?:T|t)race:)|(?:Backtrace:)"),
];

pub(crate) fn expand(pat: &str) -> String {
    let mut s = pat.to_string();
    for (k, v) in PLACEHOLDERS {
        if s.contains(k) {
            s = s.replace(k, v);
        }
    }
    s
}

/// Compiles a table regexp: bytes, no Unicode classes.
pub(crate) fn compile(pat: &str) -> Result<Regex, Error> {
    let full = format!("(?-u){}", expand(pat));
    regex::bytes::RegexBuilder::new(&full)
        .size_limit(1 << 24)
        .build()
        .map_err(|e| Error::Regex {
            pattern: pat.to_string(),
            message: e.to_string(),
        })
}

fn compile_any(pats: &[&str]) -> Result<Option<Regex>, Error> {
    if pats.is_empty() {
        return Ok(None);
    }
    let joined: Vec<String> = pats.iter().map(|p| format!("(?:{})", expand(p))).collect();
    compile(&joined.join("|")).map(Some)
}

pub(crate) fn compile_oopses(defs: &[OopsDef]) -> Result<Vec<Oops>, Error> {
    defs.iter().map(compile_oops).collect()
}

fn compile_oops(def: &OopsDef) -> Result<Oops, Error> {
    let benign: Vec<&str> = def
        .suppress
        .iter()
        .copied()
        .chain(crate::benign::for_header(def.header))
        .collect();
    let suppress = compile_any(&benign)?;
    let formats = def
        .formats
        .iter()
        .map(compile_format)
        .collect::<Result<Vec<_>, _>>()?;
    let starts_report = matches!(def.header, "BUG:" | "WARNING:" | "INFO:");
    Ok(Oops {
        header: def.header.as_bytes(),
        starts_report,
        suppress,
        formats,
    })
}

fn compile_stack(def: Option<&StackDef>) -> Result<Option<Stack>, Error> {
    let Some(s) = def else {
        return Ok(None);
    };
    let parts = s
        .parts
        .iter()
        .map(|p| {
            if p.is_empty() {
                Ok(None)
            } else {
                compile(p).map(Some)
            }
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Some(Stack {
        parts,
        heading: s.parts.iter().map(|p| *p == "{{CALLTRACE}}").collect(),
        need_body: s.need_body,
        skip: compile_any(s.skip)?,
        extractor: s.extractor,
    }))
}

fn compile_format(def: &FormatDef) -> Result<Format, Error> {
    let stack = compile_stack(def.stack.as_ref())?;
    let origin = compile_stack(def.origin.as_ref())?;
    Ok(Format {
        title: compile(def.title)?,
        report: if def.report.is_empty() {
            None
        } else {
            Some(compile(def.report)?)
        },
        fmt: def.fmt,
        alt: def.alt,
        stack,
        origin,
        no_stack: def.no_stack,
        corrupted: def.corrupted,
    })
}

/// All built-in oops definitions, in priority order (for one line, the first
/// definition whose header it holds wins).
pub(crate) fn builtin() -> Vec<&'static OopsDef> {
    let mut v: Vec<&'static OopsDef> = Vec::new();
    v.extend(crate::table_bug::OOPSES.iter());
    v.extend(crate::table_warn::OOPSES.iter());
    v.extend(crate::table_misc::OOPSES.iter());
    v
}
