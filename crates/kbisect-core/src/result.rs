//! What a bisection hands out: the outcome, the flags that make it suspect,
//! how sure it is, and the evidence behind it (every revision tested).

use std::time::Duration;

use kbisect_git::{Commit, CommitId};
use kbisect_report::CrashType;
use serde::{Deserialize, Serialize};

use crate::model::{BuildOutcome, Crash, KernelConfig, KernelSignature, RunResult, Verdict};

/// Why a revision was tested.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Purpose {
    /// The commit the crash was seen on.
    Start,
    /// A candidate config during config minimization.
    ConfigMinimization,
    /// A release tag during the release walk.
    Release { tag: String },
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

/// Everything observed on one revision.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RevisionEvidence {
    pub commit: CommitId,
    pub title: String,
    pub purpose: Purpose,
    pub config_hash: String,
    pub compiler: String,
    pub build: BuildOutcome,
    pub runs: Vec<RunResult>,
    /// Crash terms (before fix-bisection inversion); `None` for build-only.
    pub verdict: Option<Verdict>,
    pub good: usize,
    pub bad: usize,
    pub infra: usize,
    pub skip: usize,
    pub bad_ratio: f64,
    /// Chance that a good verdict is right (1.0 for other verdicts).
    pub confidence: f64,
    /// The representative crash of the revision, if it crashed.
    pub crash: Option<Crash>,
    pub crash_types: Vec<CrashType>,
    #[serde(with = "crate::model::duration_secs")]
    pub test_time: Duration,
}

impl RevisionEvidence {
    /// Evidence of a build, before any run.
    pub fn built(
        commit: &kbisect_git::Commit,
        purpose: Purpose,
        config_hash: String,
        compiler: String,
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
            test_time: Duration::ZERO,
        }
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
    pub title: String,
    pub crash_type: CrashType,
    pub text: String,
}

/// Not serialized as such: renderers (log, result.json) choose their schema.
#[derive(Clone, Debug)]
pub struct BisectResult {
    pub fix: bool,
    pub kind: OutcomeKind,
    /// The culprit (one) or the candidates (inconclusive); empty for horizon.
    pub commits: Vec<Commit>,
    /// Horizon: the oldest release / HEAD / merge base the result is about.
    pub horizon: Option<Commit>,
    pub report: Option<ResultReport>,
    pub config: KernelConfig,
    /// A release tag points at the culprit.
    pub release: bool,
    /// The culprit is a merge.
    pub merge: bool,
    /// The culprit's binary equals its parent's.
    pub noop: bool,
    /// Who to tell about the culprit.
    pub recipients: crate::recipients::Recipients,
    pub culprit_signature: Option<KernelSignature>,
    pub parent_signature: Option<KernelSignature>,
    /// syzkaller's estimate: product over good verdicts of 1 - (1 - p)^good.
    pub confidence: f64,
    pub flaky: bool,
    pub repro_chance: f64,
    pub revisions_tested: usize,
    pub build_time: Duration,
    pub test_time: Duration,
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
