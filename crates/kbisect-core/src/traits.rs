//! The three seams of the engine: history (`Vcs`), building (`Builder`) and
//! testing (`Tester`), plus the optional config minimizer. The engine knows
//! nothing else about the world, so it runs the same against real git and
//! kernels, against scripted fakes, and against a journal being replayed.

use kbisect_git::{Commit, CommitId, Dag, GitError, ReleaseTag};
use kbisect_report::CrashType;

use crate::model::{Build, BuildOutcome, KernelConfig, RunOutcome, RunResult, Verdict};

/// The history being bisected: one repository and the branch under test.
pub trait Vcs {
    /// Resolves a revision (hash, tag, ref) to a commit, `None` when unknown.
    fn resolve(&self, rev: &str) -> Result<Option<CommitId>, GitError>;
    fn commit(&self, id: &CommitId) -> Result<Commit, GitError>;
    /// HEAD of the bisection's branch.
    fn branch_head(&self) -> Result<CommitId, GitError>;
    /// Whether the branch contains the commit.
    fn branch_contains(&self, id: &CommitId) -> Result<bool, GitError>;
    /// Looks the commit up by title among the branch's recent commits.
    fn find_by_title(&self, title: &str) -> Result<Option<CommitId>, GitError>;
    /// Tries to make a commit that is not on the branch available (fetch);
    /// `Some` when it exists locally afterwards.
    fn fetch_commit(&self, rev: &str) -> Result<Option<CommitId>, GitError>;
    fn is_ancestor(&self, ancestor: &CommitId, descendant: &CommitId) -> Result<bool, GitError>;
    fn merge_bases(&self, a: &CommitId, b: &CommitId) -> Result<Vec<CommitId>, GitError>;
    /// Release tags that are ancestors of `id` and not on it, newest first.
    fn release_tags_before(&self, id: &CommitId) -> Result<Vec<ReleaseTag>, GitError>;
    fn tags_on(&self, id: &CommitId) -> Result<Vec<String>, GitError>;
    /// The commits reachable from `bad` and from none of `goods`.
    fn dag(&self, bad: &CommitId, goods: &[CommitId]) -> Result<Dag, GitError>;
    /// `git show --stat` of the commit, for the culprit block.
    fn diffstat(&self, id: &CommitId) -> Result<String, GitError>;
}

/// An error that ends the bisection: the infrastructure failed, or the user
/// interrupted it. Anything the revision itself is to blame for is an outcome.
#[derive(Debug, thiserror::Error)]
pub enum InfraError {
    #[error("{0}")]
    Failed(String),
    #[error("interrupted")]
    Interrupted,
}

/// Builds one revision with one config.
pub trait Builder {
    /// The compiler identity for this revision, logged before the build.
    fn compiler_id(&mut self, commit: &Commit) -> String;
    /// Checks out and builds `commit` with `config`. A revision that does not
    /// build is `Ok(BuildOutcome::Failed)`: a skip, not an error.
    fn build(&mut self, commit: &Commit, config: &KernelConfig)
    -> Result<BuildOutcome, InfraError>;
}

/// What to test: the revision, its build, and which runs to make.
#[derive(Debug, Clone)]
pub struct TestRequest<'a> {
    pub commit: &'a Commit,
    pub config: &'a KernelConfig,
    pub build: &'a Build,
    /// How many runs the verdict needs in total.
    pub runs: usize,
    /// The n-th time this (commit, config) is tested in this bisection
    /// (0-based): a journal keys recorded runs by it.
    pub occurrence: usize,
}

/// Runs the reproducer on a built revision.
pub trait Tester {
    /// Makes `req.runs` runs (in parallel where it can), calling `on_run`
    /// with each run's index as soon as that run finishes, and returns all of
    /// them in index order.
    fn test(
        &mut self,
        req: &TestRequest<'_>,
        on_run: &mut dyn FnMut(usize, &RunResult),
    ) -> Result<Vec<RunResult>, InfraError>;
}

/// Config minimization against a baseline (kernel only; scripted in tests).
pub trait ConfigMinimizer {
    /// Returns the config to bisect with. `test` builds and tests a candidate
    /// config on the start commit and returns its verdict.
    fn minimize(
        &mut self,
        original: &KernelConfig,
        baseline: &KernelConfig,
        crash_types: &[CrashType],
        test: &mut dyn FnMut(&KernelConfig) -> Result<Verdict, crate::EngineError>,
    ) -> Result<KernelConfig, crate::EngineError>;
}

/// Convenience for builders/testers: a run outcome with no duration.
pub fn run(outcome: RunOutcome) -> RunResult {
    RunResult {
        outcome,
        duration: std::time::Duration::ZERO,
    }
}
