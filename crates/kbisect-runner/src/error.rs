//! Why a job cannot run, with every source kept; the binary maps each kind
//! to an exit code in one place.

use std::path::PathBuf;

use kbisect_core::EngineError;
use kbisect_git::GitError;

use crate::session::SessionError;

/// A job spec that cannot be resolved.
#[derive(Debug, thiserror::Error)]
pub enum JobError {
    /// A required key is missing.
    #[error("missing key '{key}' ({hint})")]
    Missing {
        /// The key.
        key: &'static str,
        /// What it is and which flag sets it.
        hint: &'static str,
    },
    /// A key has a value that cannot work.
    #[error("key '{key}': {msg}")]
    Invalid {
        /// The key.
        key: &'static str,
        /// Why.
        msg: String,
    },
    /// The job file cannot be read.
    #[error("job file {}", path.display())]
    File {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The job file does not parse.
    #[error("job file {}: {msg}", path.display())]
    Parse {
        /// The file.
        path: PathBuf,
        /// Line, key and message.
        msg: String,
    },
}

/// Why a bisection could not run to a result.
#[derive(Debug, thiserror::Error)]
pub enum RunnerError {
    /// The job is malformed.
    #[error(transparent)]
    Job(#[from] JobError),
    /// The repository cannot be opened (not a git repository, unsafe ownership, ...).
    #[error(transparent)]
    Repo(GitError),
    /// The branch under bisection does not exist.
    #[error("branch '{branch}' does not exist in {}", repo.display())]
    UnknownBranch {
        /// The branch.
        branch: String,
        /// The repository.
        repo: PathBuf,
    },
    /// The work dir cannot be used.
    #[error(transparent)]
    Session(#[from] SessionError),
    /// The bisection stopped.
    #[error(transparent)]
    Engine(#[from] EngineError),
    /// A work dir file (the log, the result) cannot be written.
    #[error("{}", path.display())]
    Output {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}
