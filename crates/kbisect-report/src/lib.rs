//! Kernel console output to crash reports (title, type, frame, flags).
//!
//! ```
//! use kbisect_report::{Config, CrashType, Reporter};
//!
//! let r = Reporter::new(&Config::default()).unwrap();
//! let log = b"[  1.0] WARNING: CPU: 0 PID: 1 at net/core/dev.c:1 foo_bar+0x1/0x2\n\
//! [  1.1] RIP: 0010:foo_bar+0x1/0x2\n[  1.2] Call Trace:\n[  1.3]  baz+0x1/0x2\n\
//! [  1.4]  do_syscall_64+0x1/0x2\n[  1.5]  entry_SYSCALL_64_after_hwframe+0x1/0x2\n";
//! assert!(r.contains_crash(log));
//! let rep = r.parse(log).unwrap();
//! assert_eq!(rep.title, "WARNING in foo_bar");
//! assert_eq!(rep.crash_type, CrashType::Warning);
//! assert!(!rep.corrupted);
//! ```

mod benign;
mod console;
mod corrupted;
mod crash_type;
mod demangle;
mod frames;
mod guilty;
mod infra_table;
mod oops_table;
mod parse;
mod report;
mod scan;
mod skip_families;
mod skip_libs;
mod skip_list;
mod suppress;
mod table_bug;
mod table_misc;
mod table_warn;
mod title;

pub use crash_type::{CrashType, crash_type_of_title};
pub use report::{Executor, Report};

use regex::bytes::Regex;

/// User additions to the built-in tables.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Config {
    /// Regexps of console lines that must not be taken as a crash header.
    pub ignores: Vec<String>,
    /// Regexps that mark a log's crash as suppressed (not worth reporting).
    pub suppressions: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("invalid regexp {pattern:?}: {message}")]
    Regex { pattern: String, message: String },
    #[error("invalid header table: {0}")]
    Table(String),
}

/// Parses console output. Build once, use from many threads.
pub struct Reporter {
    pub(crate) oopses: Vec<oops_table::Oops>,
    pub(crate) scanner: scan::Scanner,
    ignores: Vec<Regex>,
    suppressions: Vec<Regex>,
    frames: frames::FrameRules,
    norm: title::Normalizer,
    aux: parse::Aux,
}

impl Reporter {
    /// Compiles the built-in tables plus the user's regexps.
    pub fn new(config: &Config) -> Result<Reporter, Error> {
        let defs = oops_table::builtin();
        let owned: Vec<oops_table::OopsDef> = defs.iter().map(|d| **d).collect();
        let oopses = oops_table::compile_oopses(&owned)?;
        let scanner = scan::Scanner::new(oopses.iter().map(|o| o.header))?;
        let ignores = config
            .ignores
            .iter()
            .map(|p| oops_table::compile(p))
            .collect::<Result<_, _>>()?;
        let mut suppressions = suppress::builtin()?;
        for p in &config.suppressions {
            suppressions.push(oops_table::compile(p)?);
        }
        Ok(Reporter {
            oopses,
            scanner,
            ignores,
            suppressions,
            frames: frames::FrameRules::new()?,
            norm: title::Normalizer::new()?,
            aux: parse::Aux::new()?,
        })
    }

    /// Whether `output` holds a crash. Cheap enough to call on every chunk.
    pub fn contains_crash(&self, output: &[u8]) -> bool {
        self.find_oops(output, 0).is_some()
    }

    /// The first crash in `output`.
    pub fn parse(&self, output: &[u8]) -> Option<Report> {
        self.parse_from(output, 0)
    }

    /// The first crash whose header starts at or after `from`.
    pub fn parse_from(&self, output: &[u8], from: usize) -> Option<Report> {
        let (start, oops) = self.find_oops(output, from)?;
        let suppressed = suppress::matches(&self.suppressions, output);
        Some(parse::build(self, output, start, oops, suppressed))
    }

    /// Every crash in `output`, in order.
    pub fn parse_all(&self, output: &[u8]) -> Vec<Report> {
        let mut out = Vec::new();
        let mut from = 0;
        // Suppressions look at the whole log; match them once.
        let mut suppressed = None;
        while from < output.len() {
            let Some((start, oops)) = self.find_oops(output, from) else {
                break;
            };
            let sup =
                *suppressed.get_or_insert_with(|| suppress::matches(&self.suppressions, output));
            let rep = parse::build(self, output, start, oops, sup);
            from = console::line_end(output, rep.start) + 1;
            out.push(rep);
        }
        out
    }

    /// The guilty source file of a report text (as `Report::report`).
    pub fn guilty_file(&self, report: &[u8]) -> String {
        guilty::guilty_file(&self.aux, &self.frames, report)
    }

    /// (line start, oops index) of the first crash header at or after `from`.
    fn find_oops(&self, output: &[u8], from: usize) -> Option<(usize, usize)> {
        let mut pos = from;
        while pos < output.len() {
            let hit = self.scanner.find(&output[pos..])? + pos;
            let ls = console::line_start(output, hit).max(from);
            let le = console::line_end(output, hit);
            if let Some(i) = self.match_line(&output[ls..le]) {
                return Some((ls, i));
            }
            pos = le + 1;
        }
        None
    }

    /// The first oops (in table order) whose header this line holds.
    pub(crate) fn match_line(&self, line: &[u8]) -> Option<usize> {
        // Bound the work on absurdly long lines; headers are near the start.
        let line = &line[..line.len().min(64 * 1024)];
        'oops: for (i, o) in self.oopses.iter().enumerate() {
            if !console::contains(line, o.header) {
                continue;
            }
            if o.suppress.as_ref().is_some_and(|s| s.is_match(line)) {
                continue 'oops;
            }
            for s in &self.ignores {
                if s.is_match(line) {
                    continue 'oops;
                }
            }
            return Some(i);
        }
        None
    }
}
