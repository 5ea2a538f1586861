//! What a bisection hands out: the outcome, the flags that make it suspect,
//! how sure it is, and the evidence behind it (every revision tested).

use std::time::Duration;

use kbisect_crash::CrashType;
use kbisect_git::{Commit, CommitId};
use serde::{Deserialize, Serialize};

use crate::model::{ArtifactSignature, BuildConfig, BuildOutcome, Crash, RunResult, Verdict};

/// Why a revision was tested.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Purpose {
    /// The commit the crash was seen on.
    Start,
    /// A candidate config during config minimization.
    ConfigMinimization,
    /// A release tag during the release walk.
    Release {
        /// The tag.
        tag: String,
    },
    /// A commit the user said does not crash (checked, not trusted).
    KnownGood,
    /// HEAD of the branch (fix bisection).
    Head,
    /// A merge base (cross-tree, or the fix-bisection guard).
    MergeBase,
    /// A step of the DAG bisection.
    Bisect,
    /// The culprit's parent, built only to compare signatures.
    ParentBuild,
    /// Re-run to verify a culprit (its own and its parents' runs).
    Verify,
    /// The start commit with the culprit reverted: the crash must be gone.
    Revert,
}

/// Everything observed on one revision tested (or built) once: the one
/// per-revision record, built step by step as the revision is tested and
/// kept as evidence.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RevisionEvidence {
    /// The revision.
    pub commit: CommitId,
    /// Its title.
    pub title: String,
    /// Why it was tested.
    pub purpose: Purpose,
    /// The config it was built with (hash).
    pub config_hash: String,
    /// The compiler identity logged for it, if any.
    pub compiler: Option<String>,
    /// The build's outcome.
    pub build: BuildOutcome,
    /// Every run, in index order.
    pub runs: Vec<RunResult>,
    /// Crash terms (before fix-bisection inversion); `None` for build-only.
    pub verdict: Option<Verdict>,
    /// Runs that passed.
    pub good: usize,
    /// Runs that crashed (transient crashes set aside).
    pub bad: usize,
    /// Runs lost to the infrastructure.
    pub infra: usize,
    /// Boot failures, test failures and ignored crashes.
    pub skip: usize,
    /// Crashed runs among the usable ones.
    pub bad_ratio: f64,
    /// Chance that a good verdict is right (1.0 for other verdicts).
    pub confidence: f64,
    /// The representative crash of the revision, if it crashed.
    pub crash: Option<Crash>,
    /// The crash types the representative crash stands for.
    pub crash_types: Vec<CrashType>,
    /// The report the revision stands for in a result: its crash, or why
    /// it could not be judged (`failed building H: ...`).
    #[serde(default)]
    pub report: Option<ResultReport>,
    /// Time spent in runs.
    #[serde(with = "crate::model::duration_secs")]
    pub test_time: Duration,
}

impl RevisionEvidence {
    /// The record of a revision just built, before any run.
    pub fn built(
        commit: &Commit,
        purpose: Purpose,
        config_hash: String,
        compiler: Option<String>,
        build: BuildOutcome,
    ) -> Self {
        RevisionEvidence {
            commit: commit.id.clone(),
            title: commit.title.clone(),
            purpose,
            config_hash,
            compiler,
            build,
            runs: Vec::new(),
            verdict: None,
            good: 0,
            bad: 0,
            infra: 0,
            skip: 0,
            bad_ratio: 0.0,
            confidence: 1.0,
            crash: None,
            crash_types: Vec::new(),
            report: None,
            test_time: Duration::ZERO,
        }
    }

    /// The artifact's signature, when it built and has one.
    pub fn signature(&self) -> Option<&ArtifactSignature> {
        self.build.signature()
    }

    /// The verdict, or skip for a revision only built.
    pub fn verdict_or_skip(&self) -> Verdict {
        self.verdict.unwrap_or(Verdict::Skip)
    }
}

/// How the bisection ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OutcomeKind {
    /// One commit.
    Culprit,
    /// Several candidates: skipped revisions left the range open.
    Inconclusive,
    /// No commit: the crash is on the oldest release tested (cause), still on
    /// HEAD (fix), or the cross-tree merge base does not have it.
    Horizon,
    /// The strategy could not reach its confidence target within its budget:
    /// `commits` are the top candidates, most likely first, with their
    /// posteriors in [`BisectResult::candidates`]. Never mailed as certain.
    Unsure,
}

/// One candidate for the culprit, as a posterior-keeping strategy ranks them.
#[derive(Clone, Debug, PartialEq)]
pub struct Candidate {
    /// The commit; `None` stands for "no commit of the range": the bug (or
    /// the fix) predates the range's clean end.
    pub commit: Option<CommitId>,
    /// Its title (empty for `None`).
    pub title: String,
    /// Its posterior probability.
    pub posterior: f64,
}

/// Which side of the culprit a verification row is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VerifyRole {
    /// The culprit itself: its own runs must show the crash (cause terms).
    Culprit,
    /// A parent (or a tested revision standing for it): its own runs must
    /// show the crash is absent.
    Parent,
}

/// One row of the parent-vs-culprit table (as the 0-day bot prints it).
#[derive(Clone, Debug, PartialEq)]
pub struct VerificationRow {
    /// Culprit or parent.
    pub role: VerifyRole,
    /// The revision whose runs decide the row.
    pub commit: CommitId,
    /// Runs that showed the target crash.
    pub crashed: usize,
    /// Runs that counted (transient crashes and lost runs left out).
    pub runs: usize,
    /// P(the revision has the culprit | its own runs), from an even prior.
    pub posterior: f64,
    /// The row reached the verification target.
    pub decided: bool,
}

/// The verification a strategy made before reporting its culprit.
#[derive(Clone, Debug, PartialEq)]
pub struct Verification {
    /// The culprit's row first, then one per parent.
    pub rows: Vec<VerificationRow>,
    /// Every row was decided (false: the result failed verification).
    pub verified: bool,
}

/// What became of the crash when the culprit was reverted on the start
/// commit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RevertOutcome {
    /// The revert built and its runs judged it good: the crash is gone.
    Gone,
    /// The revert still crashes: the culprit is not (only) to blame, and
    /// the result failed verification.
    StillCrashes,
    /// The revert does not apply cleanly to the start commit.
    DoesNotApply,
    /// The revert did not build, or its runs decided nothing.
    Undecided,
}

/// The start commit built and run with the culprit reverted.
#[derive(Clone, Debug, PartialEq)]
pub struct RevertCheck {
    /// The commit the revert was made on (the start commit).
    pub base: CommitId,
    /// The revert commit (made in the object store, not on any branch);
    /// `None` when it does not apply.
    pub commit: Option<CommitId>,
    /// Runs that showed the target crash.
    pub crashed: usize,
    /// Runs that counted.
    pub runs: usize,
    /// The verdict.
    pub outcome: RevertOutcome,
}

impl RevertCheck {
    /// The check refutes the culprit.
    pub fn failed(&self) -> bool {
        self.outcome == RevertOutcome::StillCrashes
    }
}

/// The report attached to a result (a crash, or a note such as
/// `failed testing reproducer on H`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResultReport {
    /// The title.
    pub title: String,
    /// The crash type (unknown for notes).
    pub crash_type: CrashType,
    /// The report text.
    pub text: String,
}

impl ResultReport {
    /// `failed testing reproducer on H`: the revision's runs decided nothing.
    pub fn untested(commit: &CommitId) -> Self {
        ResultReport {
            title: format!("failed testing reproducer on {commit}"),
            crash_type: CrashType::Unknown,
            text: String::new(),
        }
    }

    /// The report of a crash.
    pub fn of_crash(c: &Crash) -> Self {
        ResultReport {
            title: c.title.clone(),
            crash_type: c.crash_type.clone(),
            text: c.report.clone(),
        }
    }
}

/// Not serialized as such: renderers (log, result.json) choose their schema.
#[derive(Clone, Debug)]
pub struct BisectResult {
    /// Fix bisection.
    pub fix: bool,
    /// How it ended.
    pub kind: OutcomeKind,
    /// The strategy that produced it.
    pub strategy: &'static str,
    /// The culprit (one) or the candidates (inconclusive); empty for horizon.
    pub commits: Vec<Commit>,
    /// Horizon: the oldest release / HEAD / merge base the result is about.
    pub horizon: Option<Commit>,
    /// The culprit's crash (cause), or the horizon's report.
    pub report: Option<ResultReport>,
    /// The config bisected with (after minimization).
    pub config: BuildConfig,
    /// A release tag points at the culprit.
    pub release: bool,
    /// The culprit is a merge.
    pub merge: bool,
    /// The culprit's binary equals its parent's.
    pub noop: bool,
    /// Who to tell about the culprit.
    pub recipients: crate::recipients::Recipients,
    /// The culprit's artifact signature.
    pub culprit_signature: Option<ArtifactSignature>,
    /// Its parent's.
    pub parent_signature: Option<ArtifactSignature>,
    /// How sure the strategy is of the result (syzkaller: the product over
    /// good verdicts of 1 - (1 - p)^good).
    pub confidence: f64,
    /// The reproducer was judged flaky.
    pub flaky: bool,
    /// The estimated chance that one run on a bad revision crashes.
    pub repro_chance: f64,
    /// The runner-up to the culprit and its posterior (strategies that keep one).
    pub runner_up: Option<Candidate>,
    /// The top candidates, most likely first (strategies that keep a posterior).
    pub candidates: Vec<Candidate>,
    /// The parent-vs-culprit verification, when the strategy made one.
    pub verification: Option<Verification>,
    /// The start commit with the culprit reverted, when the job asked.
    pub revert: Option<RevertCheck>,
    /// Revisions tested (builds that ran the reproducer).
    pub revisions_tested: usize,
    /// Commits never built because shared evidence folded them into
    /// another's binary.
    pub builds_saved: usize,
    /// Time spent building.
    pub build_time: Duration,
    /// Time spent testing.
    pub test_time: Duration,
    /// Wall time.
    pub total_time: Duration,
    /// Every revision tested, in order.
    pub evidence: Vec<RevisionEvidence>,
}

impl BisectResult {
    /// A result shown but never mailed as certain.
    pub fn unreliable(&self) -> bool {
        self.release
            || self.merge
            || self.noop
            || self.kind == OutcomeKind::Unsure
            || self.verification.as_ref().is_some_and(|v| !v.verified)
            || self.revert.as_ref().is_some_and(RevertCheck::failed)
    }
}
