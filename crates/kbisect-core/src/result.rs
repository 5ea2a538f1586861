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
    /// Revisions tested (builds that ran the reproducer).
    pub revisions_tested: usize,
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
        self.release || self.merge || self.noop
    }
}
