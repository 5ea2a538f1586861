//! Why a bisection can end without a result. Errors keep their sources all
//! the way up to the binary, which maps each kind to its own exit code in
//! one place; nothing here is turned into a string on the way.

use std::time::Duration;

use kbisect_git::GitError;

/// Any error from an adapter, kept whole.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// A builder's or tester's failure that is not the revision's fault: the
/// bisection stops (it is never turned into a verdict) and a resumed run
/// tries again.
#[derive(Debug, thiserror::Error)]
pub enum InfraError {
    /// The user interrupted (Ctrl-C, SIGTERM).
    #[error("interrupted")]
    Interrupted,
    /// The job cannot work as set up: a build or test command that does not
    /// exist, a reproducer that cannot be read, qemu missing. Bad input.
    #[error("{what}")]
    Setup {
        /// What is wrong, in one line.
        what: String,
        /// The underlying error, when there is one.
        #[source]
        source: Option<BoxError>,
    },
    /// The environment failed: disk full, out of memory, a build killed, a
    /// timeout, a VM that could not start, git failing. Retried on resume.
    #[error("{what}")]
    Environment {
        /// What failed, in one line.
        what: String,
        /// The underlying error, when there is one.
        #[source]
        source: Option<BoxError>,
    },
    /// The journal could not record an outcome (nothing unrecorded was acted on).
    #[error("cannot record the outcome: {source}")]
    Record {
        /// The journal's error.
        #[source]
        source: BoxError,
    },
    /// A run the tester was asked for was not reported back.
    #[error("run #{index} was not made")]
    RunLost {
        /// The run's index.
        index: usize,
    },
}

impl InfraError {
    /// An environment failure with its cause.
    pub fn environment(what: impl Into<String>, source: impl Into<BoxError>) -> InfraError {
        InfraError::Environment {
            what: what.into(),
            source: Some(source.into()),
        }
    }

    /// A setup problem with its cause.
    pub fn setup(what: impl Into<String>, source: impl Into<BoxError>) -> InfraError {
        InfraError::Setup {
            what: what.into(),
            source: Some(source.into()),
        }
    }
}

/// Why a range cannot be bisected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BadRange {
    /// A known-good commit is the start commit itself.
    #[error("the known-good commit {rev} is the start commit: the range is empty")]
    GoodIsStart {
        /// The commit as given.
        rev: String,
    },
    /// A known-good (cause) commit is not an ancestor of the start, or a
    /// known-fixed (fix) commit is not a descendant.
    #[error("the {what} commit {rev} ({short}) is not {relation} of the start commit {start}")]
    NotRelated {
        /// `known-good` or `known-fixed`.
        what: &'static str,
        /// The commit as given.
        rev: String,
        /// Its short hash.
        short: String,
        /// `an ancestor` or `a descendant`.
        relation: &'static str,
        /// The start commit's short hash.
        start: String,
    },
    /// A known-good commit crashes.
    #[error("the known-good commit {short} crashes")]
    GoodCrashes {
        /// Its short hash.
        short: String,
    },
    /// A known-good commit could not be tested (it does not build or boot):
    /// trusting it would let a wrong end decide the whole bisection.
    #[error("the known-good commit {short} could not be tested ({why}); give another --good")]
    GoodUntestable {
        /// Its short hash.
        short: String,
        /// Why it could not be tested.
        why: String,
    },
}

/// Why a bisection ended without a result.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// The start commit did not crash.
    #[error("the crash wasn't reproduced on the original commit")]
    NotReproduced,
    /// The start commit is unknown and there is no title to find it by.
    #[error("commit {commit} not reachable in branch '{branch}' and no commit title available")]
    UnknownCommitNoTitle {
        /// The commit as given.
        commit: String,
        /// The branch under bisection.
        branch: String,
    },
    /// The start commit is unknown and its title is not on the branch.
    #[error(
        "commit {commit} not reachable in branch '{branch}' (title '{title}' not found either)"
    )]
    UnknownCommit {
        /// The commit as given.
        commit: String,
        /// The branch under bisection.
        branch: String,
        /// The title looked for.
        title: String,
    },
    /// A revision (known-good commit, release tag) names no commit.
    #[error("unknown revision '{rev}'")]
    UnknownRevision {
        /// The revision as given.
        rev: String,
    },
    /// A cause bisection found no release tag to start the walk from.
    #[error(
        "no release tags before this commit{}; give a known-good commit with --good (or `good = [...]`) to skip the release walk",
        scheme.as_ref().map(|s| format!(" (tags matching {s})")).unwrap_or_default()
    )]
    NoReleaseTags {
        /// The tag scheme in force, for the message.
        scheme: Option<String>,
    },
    /// The range is empty, inverted, or has an end that cannot be trusted.
    #[error("bad range: {0}")]
    BadRange(#[from] BadRange),
    /// The oldest release the walk tested could not be tested.
    #[error("oldest tested release had kernel build, boot or test errors")]
    OldestReleaseBroken,
    /// A cross-tree fix bisection needs exactly one merge base.
    #[error("expected 1 merge base, got {0}")]
    MergeBases(usize),
    /// Config minimization failed.
    #[error("config minimization failed: {0}")]
    Minimize(String),
    /// The builder or tester failed (not the revision's fault).
    #[error(transparent)]
    Infra(#[from] InfraError),
    /// The verdict rule could not decide because runs were lost to the infrastructure.
    #[error("unable to determine the verdict because of infra errors")]
    InfraVerdict,
    /// The overall time limit was reached.
    #[error("bisection is taking too long (>{}), aborting", humanize(*.0))]
    Timeout(Duration),
    /// Git failed.
    #[error(transparent)]
    Git(#[from] GitError),
    /// A broken invariant (a bug in kbisect).
    #[error("internal error: {0}")]
    Internal(String),
}

impl EngineError {
    /// Whether the user interrupted.
    pub fn is_interrupted(&self) -> bool {
        matches!(self, EngineError::Infra(InfraError::Interrupted))
    }
}

impl From<crate::dag::DagError> for EngineError {
    fn from(e: crate::dag::DagError) -> Self {
        EngineError::Internal(e.to_string())
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
