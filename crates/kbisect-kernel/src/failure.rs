//! A failed kernel build, read from make's output: the first error lines (at
//! most 20), the file to blame, and the noise dropped (make's `Error 2`
//! cascade, `Entering/Leaving directory`, warnings and their notes and
//! source excerpts). Also the signs that the machine, not the revision,
//! failed (memory, disk), which make an infrastructure error instead.

use std::path::Path;
use std::sync::OnceLock;
use std::time::Duration;

use regex::Regex;

/// At most this many error lines are kept (BISECTION.md).
pub const MAX_ERROR_LINES: usize = 20;

/// Why a revision did not build: a *skip*, never a verdict.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BuildFailure {
    /// One line: the first error (`kernel/sys.c:12:3: error: ...`).
    pub title: String,
    /// The first error lines, at most [`MAX_ERROR_LINES`], repo-relative.
    pub error_lines: Vec<String>,
    /// The source file the first error names, repo-relative.
    pub guilty_file: Option<String>,
    /// How long the failed build took.
    pub duration: Duration,
}

/// What in a build's output shows the machine failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum InfraSign {
    /// A compiler or the linker was killed or ran out of memory.
    OutOfMemory(String),
    /// `No space left on device`.
    DiskFull(String),
}

fn re(cell: &'static OnceLock<Regex>, pattern: &str) -> &'static Regex {
    cell.get_or_init(|| Regex::new(pattern).unwrap_or_else(|e| panic!("bad constant regex: {e}")))
}

fn noise() -> &'static Regex {
    static R: OnceLock<Regex> = OnceLock::new();
    re(
        &R,
        r"^make(\[\d+\])?: (Entering|Leaving) directory|^make(\[\d+\])?: \*\*\* \[.*\] Error \d+$|^make(\[\d+\])?: \*\*\* Waiting for unfinished jobs|: (warning|note): |^\s*\d*\s*\|| In function |^In file included from|^\s+from |^\s+(CC|LD|AR|AS|GEN|HOSTCC|HOSTLD|CALL|CHK|UPD|OBJCOPY|SYSHDR|SYSTBL|WRAP|LDS|VDSO|RELOCS|MKPIGGY|ZOFFSET|VOFFSET|GZIP|BUILD|DESCEND|INSTALL|MKCAP|POLICY|SORTTAB|KSYMS|NM|COPY|CPP|MODPOST|TOUCH)\s",
    )
}

fn error_line() -> &'static Regex {
    static R: OnceLock<Regex> = OnceLock::new();
    re(
        &R,
        r"(?i:\berror\b)|undefined reference to|multiple definition of|No rule to make target|cannot find -l|Segmentation fault|internal compiler error",
    )
}

fn guilty() -> &'static Regex {
    static R: OnceLock<Regex> = OnceLock::new();
    // `file.c:12:3: error:`, `file.c:12: undefined reference`, `file.c:(.text+0x5): undefined`
    re(
        &R,
        r"^(?:\./)?([A-Za-z0-9_./+-]+\.(?:c|h|S|s|lds|rs|y|l)):(?:\d+:)?(?:\d+:)?(?:\(\.[^)]*\):)? ?(?:(?:fatal )?error|undefined reference|multiple definition)",
    )
}

fn failed_object() -> &'static Regex {
    static R: OnceLock<Regex> = OnceLock::new();
    re(
        &R,
        r"^make(?:\[\d+\])?: \*\*\* \[[^\]]*: ([A-Za-z0-9_./+-]+\.o)\] Error 1$",
    )
}

fn oom() -> &'static Regex {
    static R: OnceLock<Regex> = OnceLock::new();
    re(
        &R,
        r"^Killed$|Killed signal terminated program|fatal error: Killed|virtual memory exhausted|memory exhausted|Cannot allocate memory|[Oo]ut of memory",
    )
}

fn enospc() -> &'static Regex {
    static R: OnceLock<Regex> = OnceLock::new();
    re(&R, r"No space left on device|Disk quota exceeded")
}

/// The lines of `out` with `<source_dir>/` removed, so paths are repo-relative.
fn relative_lines(out: &[u8], source_dir: &Path) -> Vec<String> {
    let text = String::from_utf8_lossy(out);
    let prefix = format!("{}/", source_dir.display());
    text.lines()
        .map(|l| l.trim_end().replace(&prefix, ""))
        .filter(|l| !l.trim().is_empty())
        .collect()
}

/// Machine trouble in the output, checked before blaming the revision.
pub fn infra_sign(output: &[&[u8]]) -> Option<InfraSign> {
    for out in output {
        let text = String::from_utf8_lossy(out);
        for l in text.lines() {
            let l = l.trim();
            if enospc().is_match(l) {
                return Some(InfraSign::DiskFull(l.to_owned()));
            }
            if oom().is_match(l) {
                return Some(InfraSign::OutOfMemory(l.to_owned()));
            }
        }
    }
    None
}

/// The failure of a build from its output (stdout then stderr).
pub fn extract_failure(
    stdout: &[u8],
    stderr: &[u8],
    source_dir: &Path,
    status: &str,
    duration: Duration,
) -> BuildFailure {
    let mut all = relative_lines(stdout, source_dir);
    all.extend(relative_lines(stderr, source_dir));
    let errors: Vec<String> = all
        .iter()
        .filter(|l| !noise().is_match(l) && error_line().is_match(l))
        .take(MAX_ERROR_LINES)
        .cloned()
        .collect();
    let mut guilty_file = errors
        .iter()
        .find_map(|l| guilty().captures(l.trim_start()).map(|c| c[1].to_owned()));
    if guilty_file.is_none() {
        // Only make's own line names what failed: its object's source.
        guilty_file = all.iter().find_map(|l| {
            let obj = failed_object().captures(l)?.get(1)?.as_str().to_owned();
            let stem = obj.strip_suffix(".o")?;
            ["c", "S"]
                .iter()
                .map(|ext| format!("{stem}.{ext}"))
                .find(|f| source_dir.join(f).is_file())
        });
    }
    let title = match errors.first() {
        Some(l) => l.trim().to_owned(),
        None => all
            .iter()
            .find(|l| l.starts_with("make") && l.contains("***"))
            .or_else(|| all.last())
            .map(|l| l.trim().to_owned())
            .unwrap_or_else(|| format!("make failed ({status})")),
    };
    BuildFailure {
        title,
        error_lines: errors,
        guilty_file,
        duration,
    }
}

#[cfg(test)]
#[path = "failure_tests.rs"]
mod tests;
