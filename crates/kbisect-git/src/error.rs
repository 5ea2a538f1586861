//! The one error type of this crate.

use std::path::PathBuf;

use kbisect_proc::{ProcError, Status};

#[derive(Debug, thiserror::Error)]
pub enum GitError {
    #[error("not a git repository: {}", path.display())]
    NotARepo { path: PathBuf },
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
