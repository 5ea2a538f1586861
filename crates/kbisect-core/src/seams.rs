//! The engine's seams: history (`Vcs`), building (`Builder`), testing
//! (`Tester`), and the optional config minimizer. The engine knows nothing
//! else about the world, so it runs the same against real git, kernels and
//! VMs, against scripted fakes, and against a journal being replayed.
//!
//! Adapters implement these in their own crates (`kbisect-build`,
//! `kbisect-kernel`, `kbisect-vm`); the requests carry the directories they
//! may write to, so no adapter knows the work dir's layout.

use std::path::Path;

use kbisect_crash::CrashType;
use kbisect_git::{Commit, CommitId, Dag, GitError, ReleaseTag};

use crate::error::{EngineError, InfraError};
use crate::model::{Build, BuildConfig, BuildOutcome, RunResult, Verdict};

/// The history being bisected: one repository and the branch under test.
pub trait Vcs {
    /// Resolves a revision (hash, tag, ref) to a commit, `None` when unknown.
    fn resolve(&self, rev: &str) -> Result<Option<CommitId>, GitError>;
    /// The commit's metadata (title, author, body, trailers, parents).
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
    /// Whether `ancestor` is reachable from `descendant` (true when equal).
    fn is_ancestor(&self, ancestor: &CommitId, descendant: &CommitId) -> Result<bool, GitError>;
    /// All best common ancestors of `a` and `b`, sorted.
    fn merge_bases(&self, a: &CommitId, b: &CommitId) -> Result<Vec<CommitId>, GitError>;
    /// Release tags that are ancestors of `id` and not on it, newest first.
    fn release_tags_before(&self, id: &CommitId) -> Result<Vec<ReleaseTag>, GitError>;
    /// Whether `name` is a release tag (the job's tag scheme decides).
    fn is_release_tag(&self, name: &str) -> bool;
    /// Names of the tags on the commit, sorted.
    fn tags_on(&self, id: &CommitId) -> Result<Vec<String>, GitError>;
    /// The commits reachable from `bad` and from none of `goods`.
    fn dag(&self, bad: &CommitId, goods: &[CommitId]) -> Result<Dag, GitError>;
    /// `git show --stat` of the commit, for the culprit block.
    fn diffstat(&self, id: &CommitId) -> Result<String, GitError>;
    /// Paths the commit changes relative to its first parent (all of them
    /// for a root commit), sorted: a commit that touches no file a build
    /// used cannot change the binary.
    fn changed_files(&self, id: &CommitId) -> Result<Vec<String>, GitError>;
    /// `base` with `commit` reverted, as a commit that can be built like
    /// any other (not on the branch); `None` when the revert does not
    /// apply cleanly, or this history cannot make commits.
    fn revert_onto(&self, base: &CommitId, commit: &CommitId)
    -> Result<Option<CommitId>, GitError>;
}

/// What to build: the revision, its config, and where the artifact goes.
#[derive(Debug, Clone, Copy)]
pub struct BuildRequest<'a> {
    /// The revision to build.
    pub commit: &'a Commit,
    /// The config to build it with.
    pub config: &'a BuildConfig,
    /// A directory for this (commit, config) build's artifact and logs; the
    /// builder creates it if needed and owns what is inside.
    pub out_dir: &'a Path,
}

/// What a builder says about itself, for the log's wording.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BuilderKind {
    /// A Linux kernel build: the log reads exactly like syzbot's.
    Kernel,
    /// Any other project: generic words (`build signature`, no compiler unless named).
    Generic,
}

/// Builds one revision with one config.
pub trait Builder {
    /// Kernel or generic (only the log's words depend on it).
    fn kind(&self) -> BuilderKind;
    /// The compiler identity for this revision, logged before the build;
    /// `None` when there is nothing worth naming.
    fn compiler_id(&mut self, commit: &Commit) -> Option<String>;
    /// Checks out and builds the revision. A revision that does not build is
    /// `Ok(BuildOutcome::Failed)`: a skip. `Err` is for failures that are not
    /// the revision's fault (disk full, out of memory, a timeout, a missing
    /// tool): they never become a verdict.
    fn build(&mut self, req: &BuildRequest<'_>) -> Result<BuildOutcome, InfraError>;

    /// How many builds this builder can make at once (a build farm, a
    /// builder with several worktrees); a strategy that can use the answers
    /// of several revisions at once plans that many per round. One by
    /// default.
    fn build_slots(&self) -> usize {
        1
    }

    /// Builds several revisions, at once where the builder can (see
    /// [`Builder::build_slots`]); one after another by default. The
    /// outcomes are in the order of `reqs`; an `Err` ends the batch.
    fn build_many(&mut self, reqs: &[BuildRequest<'_>]) -> Result<Vec<BuildOutcome>, InfraError> {
        reqs.iter().map(|r| self.build(r)).collect()
    }

    /// Whether a commit that changes `path` (repo-relative) could change
    /// what `build` produced: never building a commit that cannot saves a
    /// build. By default, when the build listed the files it read, only
    /// those count; a builder may add its own (a kernel's build system).
    fn may_change_binary(&self, build: &Build, path: &str) -> bool {
        build
            .files_used
            .as_ref()
            .is_none_or(|f| f.binary_search_by(|x| x.as_str().cmp(path)).is_ok())
    }
}

/// What to test: a built revision. One request is one `(revision, config,
/// occurrence)`; its runs are numbered `0..runs`.
#[derive(Debug, Clone, Copy)]
pub struct TestRequest<'a> {
    /// The revision under test.
    pub commit: &'a Commit,
    /// The config it was built with.
    pub config: &'a BuildConfig,
    /// The build to test.
    pub build: &'a Build,
    /// How many runs this request has in total.
    pub runs: usize,
    /// The n-th time this (commit, config) is tested in this bisection
    /// (0-based): with the run index, it names a run for the journal.
    pub occurrence: usize,
    /// Where run logs go (`run-<occurrence>-<index>.log`); the tester
    /// creates it if needed.
    pub log_dir: &'a Path,
}

/// One run to make: run `index` of `request`.
#[derive(Debug, Clone, Copy)]
pub struct RunJob<'a> {
    /// The request the run belongs to.
    pub request: &'a TestRequest<'a>,
    /// Its index among the request's runs.
    pub index: usize,
}

/// Runs the reproducer on built revisions.
pub trait Tester {
    /// Makes every run of `jobs` (in parallel where it can, across requests
    /// too), calling `on_run(position in jobs, result)` as each finishes, in
    /// completion order. An error from `on_run` stops handing out runs and
    /// is returned. Runs addressed by index let a journal skip those it
    /// already holds.
    fn run(
        &mut self,
        jobs: &[RunJob<'_>],
        on_run: &mut dyn FnMut(usize, RunResult) -> Result<(), InfraError>,
    ) -> Result<(), InfraError>;
}

/// Config minimization against a baseline (kernel only; scripted in tests).
pub trait ConfigMinimizer {
    /// Returns the config to bisect with. `test` builds and tests a candidate
    /// config on the start commit and returns its verdict.
    fn minimize(
        &mut self,
        original: &BuildConfig,
        baseline: &BuildConfig,
        crash_types: &[CrashType],
        test: &mut dyn FnMut(&BuildConfig) -> Result<Verdict, EngineError>,
    ) -> Result<BuildConfig, EngineError>;
}

/// Runs `jobs` of one request and returns all of them in index order: the
/// common case of a caller that wants a request's results together.
pub fn run_all(
    tester: &mut dyn Tester,
    req: &TestRequest<'_>,
    on_run: &mut dyn FnMut(usize, &RunResult),
) -> Result<Vec<RunResult>, InfraError> {
    let jobs: Vec<RunJob<'_>> = (0..req.runs)
        .map(|index| RunJob {
            request: req,
            index,
        })
        .collect();
    let mut got: Vec<Option<RunResult>> = vec![None; req.runs];
    tester.run(&jobs, &mut |pos, r| {
        on_run(pos, &r);
        if let Some(slot) = got.get_mut(pos) {
            *slot = Some(r);
        }
        Ok(())
    })?;
    got.into_iter()
        .enumerate()
        .map(|(i, r)| r.ok_or(InfraError::RunLost { index: i }))
        .collect()
}
