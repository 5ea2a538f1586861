//! A failed build's error, extracted from its output: the first compiler or
//! linker error lines (at most 20) and the file to blame.

use std::sync::OnceLock;
use std::time::Duration;

use regex::Regex;

use kbisect_core::BuildFailure;
use kbisect_proc::Status;

const MAX_ERROR_LINES: usize = 20;

fn error_line() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(r"(?i:\berror\b)|Error|undefined reference|No rule to make target")
            .expect("constant regex")
    })
}

fn guilty() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(r"^(?:\./)?([^\s:]+\.[A-Za-z]+):\d+(?::\d+)?: (?:fatal )?error")
            .expect("constant regex")
    })
}

/// Messages that mean the machine, not the revision, made the build fail.
const ENVIRONMENT: &[(&str, &str)] = &[
    ("No space left on device", "the disk is full (ENOSPC)"),
    ("Disk quota exceeded", "the disk quota is exceeded"),
    ("Cannot allocate memory", "out of memory (ENOMEM)"),
    ("virtual memory exhausted", "out of memory"),
    ("out of memory", "out of memory"),
    ("Out of memory", "out of memory"),
    (
        "fatal error: Killed signal terminated program",
        "a compiler was killed (out of memory?)",
    ),
    ("Read-only file system", "the file system is read-only"),
    ("Too many open files", "too many open files (EMFILE)"),
];

/// Why a failed build is the environment's fault, not the revision's:
/// killed by SIGKILL (the OOM killer's signal; exit 137 from a shell), or a
/// message that names an exhausted resource. Such a failure must never
/// become a skip: it is retried once the machine is fixed.
pub fn is_environment_failure(status: Status, stdout: &[u8], stderr: &[u8]) -> Option<String> {
    match status {
        Status::Signaled(9) | Status::Exited(137) => {
            return Some("killed by SIGKILL (out of memory?)".into());
        }
        _ => {}
    }
    let out = String::from_utf8_lossy(stdout);
    let err = String::from_utf8_lossy(stderr);
    ENVIRONMENT
        .iter()
        .find(|(needle, _)| err.contains(needle) || out.contains(needle))
        .map(|(_, why)| (*why).to_string())
}

/// The failure of a build from its output (`stdout` then `stderr`) and status text.
pub fn extract_failure(
    stdout: &[u8],
    stderr: &[u8],
    status: &str,
    duration: Duration,
) -> BuildFailure {
    let out = String::from_utf8_lossy(stdout);
    let err = String::from_utf8_lossy(stderr);
    let all: Vec<&str> = out.lines().chain(err.lines()).map(str::trim_end).collect();
    let error_lines: Vec<String> = all
        .iter()
        .filter(|l| error_line().is_match(l))
        .take(MAX_ERROR_LINES)
        .map(|l| l.to_string())
        .collect();
    let guilty_file = all
        .iter()
        .find_map(|l| guilty().captures(l.trim_start()).map(|c| c[1].to_string()));
    let last = |s: &str| {
        s.lines()
            .rev()
            .find(|l| !l.trim().is_empty())
            .map(|l| l.trim().to_string())
    };
    let title = error_lines
        .first()
        .map(|l| l.trim().to_string())
        .or_else(|| last(&err))
        .or_else(|| last(&out))
        .unwrap_or_else(|| format!("build command failed ({status})"));
    BuildFailure {
        title,
        error_lines,
        guilty_file,
        duration,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compiler_errors_are_extracted() {
        let stderr = b"cc -o x main.c\nmain.c: In function 'main':\n./src/parse.c:12:3: error: expected ';' before '}' token\nmake: *** [Makefile:3: x] Error 1\n";
        let f = extract_failure(b"", stderr, "exit status 2", Duration::ZERO);
        assert_eq!(
            f.title,
            "./src/parse.c:12:3: error: expected ';' before '}' token"
        );
        assert_eq!(f.error_lines.len(), 2);
        assert_eq!(f.guilty_file.as_deref(), Some("src/parse.c"));
    }

    #[test]
    fn environment_failures_are_told_apart() {
        assert!(is_environment_failure(Status::Exited(137), b"", b"").is_some());
        assert!(is_environment_failure(Status::Signaled(9), b"", b"").is_some());
        let why = is_environment_failure(
            Status::Exited(2),
            b"",
            b"cc: error: write to x.o: No space left on device\n",
        );
        assert_eq!(why.as_deref(), Some("the disk is full (ENOSPC)"));
        assert!(
            is_environment_failure(Status::Exited(2), b"", b"x.c:1:1: error: oops\n").is_none()
        );
    }

    #[test]
    fn linker_errors_and_fallback_to_last_line() {
        let f = extract_failure(
            b"",
            b"x.o: in function `f':\nx.c:(.text+0x5): undefined reference to `g'\n",
            "exit status 1",
            Duration::ZERO,
        );
        assert!(f.title.contains("undefined reference"));
        let f = extract_failure(
            b"building\n",
            b"something odd\nthe end\n",
            "exit status 1",
            Duration::ZERO,
        );
        assert_eq!(f.title, "the end");
        assert!(f.error_lines.is_empty());
        let f = extract_failure(b"", b"", "exit status 1", Duration::ZERO);
        assert_eq!(f.title, "build command failed (exit status 1)");
    }
}
