//! Why a bisection can end without a result. Each variant maps to its own
//! exit code in the binary.

use std::time::Duration;

use kbisect_git::GitError;

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// The start commit did not crash.
    #[error("the crash wasn't reproduced on the original commit")]
    NotReproduced,
    #[error("commit {commit} not reachable in branch '{branch}' and no commit title available")]
    UnknownCommitNoTitle { commit: String, branch: String },
    #[error(
        "commit {commit} not reachable in branch '{branch}' (title '{title}' not found either)"
    )]
    UnknownCommit {
        commit: String,
        branch: String,
        title: String,
    },
    #[error("unknown revision '{rev}'")]
    UnknownRevision { rev: String },
    #[error("no release tags before this commit")]
    NoReleaseTags,
    #[error("bad range: {0}")]
    BadRange(String),
    #[error("oldest tested release had kernel build, boot or test errors")]
    OldestReleaseBroken,
    #[error("expected 1 merge base, got {0}")]
    MergeBases(usize),
    #[error("config minimization failed: {0}")]
    Minimize(String),
    #[error("{0}")]
    Infra(String),
    #[error("bisection is taking too long (>{}), aborting", humanize(*.0))]
    Timeout(Duration),
    #[error("interrupted")]
    Interrupted,
    #[error(transparent)]
    Git(#[from] GitError),
    #[error("internal error: {0}")]
    Internal(String),
}

/// Broad classes, for exit codes and result kinds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorClass {
    NotReproducible,
    UnknownCommit,
    BadRange,
    NoReleaseTag,
    Infra,
    Interrupted,
    Other,
}

impl EngineError {
    pub fn class(&self) -> ErrorClass {
        match self {
            EngineError::NotReproduced => ErrorClass::NotReproducible,
            EngineError::UnknownCommitNoTitle { .. }
            | EngineError::UnknownCommit { .. }
            | EngineError::UnknownRevision { .. } => ErrorClass::UnknownCommit,
            EngineError::BadRange(_) => ErrorClass::BadRange,
            EngineError::NoReleaseTags => ErrorClass::NoReleaseTag,
            EngineError::Infra(_) | EngineError::Timeout(_) | EngineError::Git(_) => {
                ErrorClass::Infra
            }
            EngineError::Interrupted => ErrorClass::Interrupted,
            EngineError::OldestReleaseBroken
            | EngineError::MergeBases(_)
            | EngineError::Minimize(_)
            | EngineError::Internal(_) => ErrorClass::Other,
        }
    }
}

impl From<crate::traits::InfraError> for EngineError {
    fn from(e: crate::traits::InfraError) -> Self {
        match e {
            crate::traits::InfraError::Failed(s) => EngineError::Infra(s),
            crate::traits::InfraError::Interrupted => EngineError::Interrupted,
        }
    }
}

/// Go-style duration text (`4h3m9.655s`), as syzkaller's log prints it.
pub fn humanize(d: Duration) -> String {
    let total = d.as_secs_f64();
    let h = (total / 3600.0).floor();
    let m = ((total - h * 3600.0) / 60.0).floor();
    let s = total - h * 3600.0 - m * 60.0;
    if h > 0.0 {
        format!("{h}h{m}m{s:.3}s")
    } else if m > 0.0 {
        format!("{m}m{s:.3}s")
    } else {
        format!("{s:.3}s")
    }
}
