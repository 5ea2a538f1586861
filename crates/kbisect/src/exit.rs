//! Exit codes, and the one place errors become them (documented in README.md).

use std::process::ExitCode;

use kbisect_runner::{ErrorKind, RunnerError};

/// Every way kbisect can end, each with its own exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Exit {
    /// The command succeeded: a single culprit was found (or `demo` found
    /// the planted one), or a command without a culprit (`status`,
    /// `parse-log`, `clean`) did its job.
    Success = 0,
    /// Any failure without a more specific code (including panics in libraries).
    Failure = 1,
    /// Command-line usage error (clap's own code).
    Usage = 2,
    /// The job file is missing, malformed, or has an unknown key or bad value.
    BadJob = 3,
    /// The repository path is not a git repository (or git refuses it).
    NotARepo = 4,
    /// A commit or branch (start, good, ...) is unknown and could not be re-identified.
    UnknownCommit = 5,
    /// The range is empty or inverted, or a known-good end cannot be trusted.
    BadRange = 6,
    /// No release tag before the start commit (cause bisection needs one, or --good).
    NoReleaseTag = 7,
    /// The work dir is locked by another kbisect, cannot be written, or holds another job.
    WorkDir = 8,
    /// A build or test command does not exist or cannot be run.
    BadCommand = 9,
    /// The bisection ended with a range of candidates (inconclusive).
    Inconclusive = 10,
    /// Horizon: the crash is already on the oldest release tested, still on HEAD,
    /// or the cross-tree merge base does not have it.
    Horizon = 11,
    /// The crash did not reproduce on the start commit.
    NotReproducible = 12,
    /// `demo`: the culprit found is not the planted one.
    DemoMissed = 13,
    /// The strategy could not reach its confidence target within its
    /// budget (bayes): the log and `result.json` list the top candidates
    /// with their posteriors; nothing is claimed as the culprit.
    Unsure = 14,
    /// `report`: the journal ends before the bisection does (interrupted,
    /// cut short, or re-judged by a strategy that wants evidence never
    /// gathered); the report was written and says where it stops.
    PartialReport = 15,
    /// Infrastructure error (VMs, a build killed for lack of memory, a full
    /// disk, a timeout, git failing): retried when run again.
    Infra = 20,
    /// The journal could not be written (disk full, I/O error): the bisection
    /// stopped before acting on anything unrecorded; the journal is intact.
    JournalWrite = 21,
    /// Interrupted (Ctrl-C / SIGTERM); the work dir is left resumable.
    Interrupted = 130,
}

impl Exit {
    /// The numeric code.
    pub fn code(self) -> u8 {
        self as u8
    }

    /// The exit code of an error kind: the one mapping.
    pub fn of_kind(k: ErrorKind) -> Exit {
        match k {
            ErrorKind::BadJob => Exit::BadJob,
            ErrorKind::NotARepo => Exit::NotARepo,
            ErrorKind::UnknownCommit => Exit::UnknownCommit,
            ErrorKind::BadRange => Exit::BadRange,
            ErrorKind::NoReleaseTag => Exit::NoReleaseTag,
            ErrorKind::WorkDir => Exit::WorkDir,
            ErrorKind::BadCommand => Exit::BadCommand,
            ErrorKind::NotReproducible => Exit::NotReproducible,
            ErrorKind::Infra => Exit::Infra,
            ErrorKind::JournalWrite => Exit::JournalWrite,
            ErrorKind::Interrupted => Exit::Interrupted,
            ErrorKind::Other => Exit::Failure,
        }
    }

    /// The exit code of a finished bisection.
    pub fn of_outcome(kind: kbisect_core::OutcomeKind) -> Exit {
        match kind {
            kbisect_core::OutcomeKind::Culprit => Exit::Success,
            kbisect_core::OutcomeKind::Inconclusive => Exit::Inconclusive,
            kbisect_core::OutcomeKind::Horizon => Exit::Horizon,
            kbisect_core::OutcomeKind::Unsure => Exit::Unsure,
        }
    }
}

impl From<Exit> for ExitCode {
    fn from(e: Exit) -> ExitCode {
        ExitCode::from(e.code())
    }
}

/// An error on its way out: a one-line message and an exit code.
#[derive(Debug)]
pub struct CliError {
    /// The exit code.
    pub exit: Exit,
    /// What to print (`None`: print nothing, e.g. stdout was closed).
    pub error: Option<anyhow::Error>,
}

/// An error with an explicit exit code.
pub fn fail(exit: Exit, error: impl Into<anyhow::Error>) -> CliError {
    CliError {
        exit,
        error: Some(error.into()),
    }
}

impl From<RunnerError> for CliError {
    fn from(e: RunnerError) -> Self {
        fail(Exit::of_kind(ErrorKind::of(&e)), e)
    }
}

impl From<kbisect_runner::JobError> for CliError {
    fn from(e: kbisect_runner::JobError) -> Self {
        fail(Exit::BadJob, e)
    }
}

impl From<kbisect_runner::session::SessionError> for CliError {
    fn from(e: kbisect_runner::session::SessionError) -> Self {
        RunnerError::Session(e).into()
    }
}

impl From<std::io::Error> for CliError {
    /// Writing our own output failed: a closed pipe ends quietly (as
    /// `| head` expects), anything else (a full device) is a failure.
    fn from(e: std::io::Error) -> Self {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            CliError {
                exit: Exit::Success,
                error: None,
            }
        } else {
            fail(
                Exit::Failure,
                anyhow::Error::new(e).context("cannot write the output"),
            )
        }
    }
}
