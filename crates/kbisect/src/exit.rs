//! Exit codes: the one table the binary answers with (documented in README.md).

use std::process::ExitCode;

/// Every way kbisect can end, each with its own exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Exit {
    /// A single culprit commit was found (or `demo` found the planted one).
    Culprit = 0,
    /// Any failure without a more specific code (including panics in libraries).
    Failure = 1,
    /// Command-line usage error (clap's own code).
    Usage = 2,
    /// The job file is missing, malformed, or has an unknown key or bad value.
    BadJob = 3,
    /// The repository path is not a git repository.
    NotARepo = 4,
    /// A commit (start, good, ...) is unknown and could not be re-identified.
    UnknownCommit = 5,
    /// The range is empty or inverted (good is not an ancestor of bad).
    BadRange = 6,
    /// No release tag before the start commit (cause bisection needs one).
    NoReleaseTag = 7,
    /// The work dir is locked by another kbisect or cannot be written.
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
    /// Infrastructure error (VMs, build killed for lack of memory, git failing, ...).
    Infra = 20,
    /// The journal could not be written (disk full, I/O error): the bisection
    /// stopped before acting on anything unrecorded; the journal is intact.
    JournalWrite = 21,
    /// Interrupted (Ctrl-C / SIGTERM); the work dir is left resumable.
    Interrupted = 130,
}

impl Exit {
    pub fn code(self) -> u8 {
        self as u8
    }
}

impl Exit {
    /// The exit code of an engine error.
    pub fn of_engine_error(e: &kbisect_core::EngineError) -> Exit {
        use kbisect_core::ErrorClass;
        match e.class() {
            ErrorClass::NotReproducible => Exit::NotReproducible,
            ErrorClass::UnknownCommit => Exit::UnknownCommit,
            ErrorClass::BadRange => Exit::BadRange,
            ErrorClass::NoReleaseTag => Exit::NoReleaseTag,
            ErrorClass::Infra => Exit::Infra,
            ErrorClass::Interrupted => Exit::Interrupted,
            ErrorClass::Other => Exit::Failure,
        }
    }

    /// The exit code of a finished bisection.
    pub fn of_outcome(kind: kbisect_core::OutcomeKind) -> Exit {
        match kind {
            kbisect_core::OutcomeKind::Culprit => Exit::Culprit,
            kbisect_core::OutcomeKind::Inconclusive => Exit::Inconclusive,
            kbisect_core::OutcomeKind::Horizon => Exit::Horizon,
        }
    }
}

impl From<Exit> for ExitCode {
    fn from(e: Exit) -> ExitCode {
        ExitCode::from(e.code())
    }
}
