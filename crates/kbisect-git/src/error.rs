//! The one error type of this crate.

use std::path::PathBuf;

use kbisect_proc::{ProcError, Status};

/// Why a git operation failed.
#[derive(Debug, thiserror::Error)]
pub enum GitError {
    /// The path is not a git repository.
    #[error("not a git repository: {}", path.display())]
    NotARepo {
        /// The path.
        path: PathBuf,
    },
    /// Git refuses the repository (owned by another user: "dubious ownership").
    #[error("git refuses {}: {reason}", path.display())]
    Unsafe {
        /// The path.
        path: PathBuf,
        /// Git's own words, with its suggested fix.
        reason: String,
    },
    #[error("unknown revision: {rev}")]
    UnknownRevision { rev: String },
    #[error("{argv} failed ({status}){}", fmt_tail(.stderr_tail))]
    Git {
        argv: String,
        status: Status,
        stderr_tail: String,
    },
    #[error(transparent)]
    Proc(#[from] ProcError),
    #[error("cannot parse {what}: {detail}")]
    Parse { what: String, detail: String },
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

fn fmt_tail(tail: &str) -> String {
    if tail.is_empty() {
        String::new()
    } else {
        format!(":\n{tail}")
    }
}

impl GitError {
    pub(crate) fn parse(what: impl Into<String>, detail: impl Into<String>) -> GitError {
        GitError::Parse {
            what: what.into(),
            detail: detail.into(),
        }
    }
}
