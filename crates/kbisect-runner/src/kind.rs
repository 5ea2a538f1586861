//! What kind of failure ended a job: the one classification of errors,
//! used for `result.json` and mapped to exit codes by the binary. It reads
//! the error's structure, never its message.

use kbisect_core::{EngineError, InfraError};
use kbisect_git::GitError;

use crate::error::RunnerError;
use crate::session::SessionError;

/// Every way a job can fail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The job spec is missing a key or has a bad value.
    BadJob,
    /// The repository is not a git repository (or git refuses it).
    NotARepo,
    /// A commit or branch is unknown.
    UnknownCommit,
    /// The range is empty, inverted, or has an untrustworthy end.
    BadRange,
    /// No release tag to start the walk from.
    NoReleaseTag,
    /// The work dir is locked, unwritable, corrupt, or holds another job.
    WorkDir,
    /// A build or test command (or tool) cannot run at all.
    BadCommand,
    /// The crash did not reproduce on the start commit.
    NotReproducible,
    /// The machine or environment failed (retried on resume).
    Infra,
    /// The journal could not be written.
    JournalWrite,
    /// The user interrupted.
    Interrupted,
    /// Anything else (a bug).
    Other,
}

impl ErrorKind {
    /// The stable name used in `result.json`.
    pub fn name(self) -> &'static str {
        match self {
            ErrorKind::BadJob => "bad_job",
            ErrorKind::NotARepo => "not_a_repo",
            ErrorKind::UnknownCommit => "unknown_commit",
            ErrorKind::BadRange => "bad_range",
            ErrorKind::NoReleaseTag => "no_release_tag",
            ErrorKind::WorkDir => "work_dir",
            ErrorKind::BadCommand => "bad_command",
            ErrorKind::NotReproducible => "not_reproducible",
            ErrorKind::Infra => "infra",
            ErrorKind::JournalWrite => "journal_write",
            ErrorKind::Interrupted => "interrupted",
            ErrorKind::Other => "other",
        }
    }

    /// The kind of an engine error.
    pub fn of_engine(e: &EngineError) -> ErrorKind {
        match e {
            EngineError::NotReproduced => ErrorKind::NotReproducible,
            EngineError::UnknownCommitNoTitle { .. }
            | EngineError::UnknownCommit { .. }
            | EngineError::UnknownRevision { .. } => ErrorKind::UnknownCommit,
            EngineError::NoReleaseTags { .. } => ErrorKind::NoReleaseTag,
            EngineError::BadRange(_) => ErrorKind::BadRange,
            EngineError::Infra(i) => match i {
                InfraError::Interrupted => ErrorKind::Interrupted,
                InfraError::Setup { .. } => ErrorKind::BadCommand,
                InfraError::Environment { .. } | InfraError::RunLost { .. } => ErrorKind::Infra,
                InfraError::Record { .. } => ErrorKind::JournalWrite,
            },
            EngineError::InfraVerdict | EngineError::Timeout(_) | EngineError::Git(_) => {
                ErrorKind::Infra
            }
            EngineError::OldestReleaseBroken
            | EngineError::MergeBases(_)
            | EngineError::Minimize(_)
            | EngineError::Internal(_) => ErrorKind::Other,
        }
    }

    /// The kind of any runner error.
    pub fn of(e: &RunnerError) -> ErrorKind {
        match e {
            RunnerError::Job(_) => ErrorKind::BadJob,
            RunnerError::Repo(GitError::NotARepo { .. } | GitError::Unsafe { .. }) => {
                ErrorKind::NotARepo
            }
            RunnerError::Repo(_) => ErrorKind::Infra,
            RunnerError::UnknownBranch { .. } => ErrorKind::UnknownCommit,
            RunnerError::Session(SessionError::JournalWrite { .. }) => ErrorKind::JournalWrite,
            RunnerError::Session(_) | RunnerError::Output { .. } => ErrorKind::WorkDir,
            RunnerError::Engine(e) => ErrorKind::of_engine(e),
        }
    }
}
