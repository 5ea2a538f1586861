//! Replay-only adapters: a builder that answers from the journal's recorded
//! builds and a tester that hands out each (commit, config)'s recorded runs,
//! in (occurrence, index) order, to whatever requests come — so a strategy
//! other than the one that ran (or another confidence target) re-judges
//! the same evidence. Nothing is built or run: a request the journal cannot
//! answer stops the replay, and the report says it is partial.

use std::cell::RefCell;
use std::collections::{BTreeMap, VecDeque};
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::time::Duration;

use kbisect_core::{
    Build, BuildOutcome, BuildRequest, Builder, BuilderKind, Commit, CommitId, InfraError, RunJob,
    RunResult, Tester, Vcs,
};
use kbisect_git::{Dag, GitError, ReleaseTag};

use crate::GitVcs;
use crate::session::{Entry, Stage};

/// What the journal could not answer: where the replay stopped.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NotRecorded {
    /// A build the journal does not hold.
    #[error("partial: not recorded: the journal has no build of {commit} ({title})")]
    Build {
        /// The revision.
        commit: CommitId,
        /// Its title.
        title: String,
    },
    /// More runs than the journal holds.
    #[error(
        "partial: not recorded: the journal has {recorded} run(s) of {commit} ({title}), the replay wanted {wanted}"
    )]
    Runs {
        /// The revision.
        commit: CommitId,
        /// Its title.
        title: String,
        /// Runs recorded for it.
        recorded: usize,
        /// Runs the replay asked for in all.
        wanted: usize,
    },
}

impl NotRecorded {
    /// The revision where the replay stopped.
    pub fn commit(&self) -> &CommitId {
        match self {
            NotRecorded::Build { commit, .. } | NotRecorded::Runs { commit, .. } => commit,
        }
    }
}

/// One recorded run handed to the engine: its result and where it was
/// recorded (which names its console log).
#[derive(Debug, Clone)]
pub struct ServedRun {
    /// The revision.
    pub commit: CommitId,
    /// The config hash it was recorded under.
    pub config_hash: String,
    /// The occurrence it was recorded as.
    pub occurrence: usize,
    /// Its index in that occurrence.
    pub index: usize,
    /// What it showed.
    pub result: RunResult,
}

impl ServedRun {
    /// The run's console log, relative to the work dir.
    pub fn log_path(&self) -> PathBuf {
        Path::new(crate::session::ARTIFACTS_DIR)
            .join(self.commit.as_str())
            .join(&self.config_hash)
            .join(format!("run-{}-{}.log", self.occurrence, self.index))
    }
}

/// (commit, config hash).
type Key = (String, String);

/// What the journal holds, ready for replay, and what the replay used.
#[derive(Debug, Default)]
pub struct Recording {
    builds: BTreeMap<Key, BuildOutcome>,
    /// Recorded runs left to hand out, in (occurrence, index) order.
    runs: BTreeMap<Key, VecDeque<(usize, usize, RunResult)>>,
    /// Runs recorded per key (for the message when they run out).
    recorded_runs: BTreeMap<Key, usize>,
    /// Runs handed out, in the order the engine received them.
    pub served: Vec<ServedRun>,
    /// Where the replay stopped, if it did.
    pub stopped: Option<NotRecorded>,
    /// Test time estimated from the recorded runs' durations.
    pub test_time: Duration,
}

impl Recording {
    /// The recording of a journal's entries. A run lost to the
    /// infrastructure and never made again counts as what the engine saw
    /// last at its place.
    pub fn from_entries(entries: Vec<Entry>) -> Recording {
        let mut permanent: BTreeMap<(Key, usize, usize), RunResult> = BTreeMap::new();
        let mut lost: BTreeMap<(Key, usize, usize), RunResult> = BTreeMap::new();
        let mut rec = Recording::default();
        for e in entries {
            match e {
                Entry::Build {
                    commit,
                    config_hash,
                    outcome,
                } => {
                    rec.builds.insert((commit, config_hash), outcome);
                }
                Entry::Run {
                    commit,
                    config_hash,
                    occurrence,
                    index,
                    result,
                } => {
                    permanent.insert(((commit, config_hash), occurrence, index), result);
                }
                Entry::Transient {
                    commit,
                    config_hash,
                    stage: Stage::Run { occurrence, index },
                    result: Some(result),
                    ..
                } => {
                    lost.insert(((commit, config_hash), occurrence, index), result);
                }
                Entry::Transient { .. } => {}
            }
        }
        for (k, r) in lost {
            permanent.entry(k).or_insert(r);
        }
        for ((key, occurrence, index), result) in permanent {
            *rec.recorded_runs.entry(key.clone()).or_default() += 1;
            rec.runs
                .entry(key)
                .or_default()
                .push_back((occurrence, index, result));
        }
        rec
    }

    /// Builds recorded.
    pub fn build_count(&self) -> usize {
        self.builds.len()
    }

    /// Runs recorded.
    pub fn run_count(&self) -> usize {
        self.recorded_runs.values().sum()
    }

    /// The compiler every recorded build names, when they all name the same.
    fn uniform_compiler(&self) -> Option<String> {
        let mut names = self
            .builds
            .values()
            .filter_map(|b| b.built().and_then(|b| b.compiler.clone()));
        let first = names.next()?;
        names.all(|n| n == first).then_some(first)
    }
}

/// How the adapters find recorded keys: the config the engine builds with
/// may be a stand-in when the job's config file changed since (its hash is
/// then mapped to the recorded one).
#[derive(Debug, Clone)]
pub struct ConfigAlias {
    /// The hash of the config the engine is given.
    pub requested: String,
    /// The hash the journal recorded.
    pub recorded: String,
}

impl ConfigAlias {
    fn key(&self, commit: &CommitId, hash: String) -> Key {
        let hash = if hash == self.requested {
            self.recorded.clone()
        } else {
            hash
        };
        (commit.to_string(), hash)
    }
}

fn stop(state: &mut Recording, why: NotRecorded) -> InfraError {
    let what = why.to_string();
    state.stopped.get_or_insert(why.clone());
    InfraError::Environment {
        what,
        source: Some(Box::new(why)),
    }
}

/// A builder that never builds: it answers from the journal.
pub struct ReplayBuilder {
    state: Rc<RefCell<Recording>>,
    alias: ConfigAlias,
    kernel: bool,
    workdir: PathBuf,
    /// The job's build slots: bayes plans a round by them, so the replay
    /// must ask the same questions.
    slots: usize,
}

impl ReplayBuilder {
    /// Answers from `state`; `kernel` when the job used the kernel builder
    /// (its words in the log, its build-system files).
    pub fn new(
        state: Rc<RefCell<Recording>>,
        alias: ConfigAlias,
        kernel: bool,
        workdir: PathBuf,
    ) -> Self {
        ReplayBuilder {
            state,
            alias,
            kernel,
            workdir,
            slots: 1,
        }
    }

    /// Says the job built `slots` revisions at once.
    pub fn with_build_slots(mut self, slots: usize) -> Self {
        self.slots = slots.max(1);
        self
    }
}

impl Builder for ReplayBuilder {
    fn build_slots(&self) -> usize {
        self.slots
    }

    fn kind(&self) -> BuilderKind {
        if self.kernel {
            BuilderKind::Kernel
        } else {
            BuilderKind::Generic
        }
    }

    fn compiler_id(&mut self, commit: &Commit) -> Option<String> {
        let s = self.state.borrow();
        let own = s
            .builds
            .iter()
            .filter(|((c, _), _)| c.as_str() == commit.id.as_str())
            .find_map(|(_, b)| b.built().and_then(|b| b.compiler.clone()));
        own.or_else(|| s.uniform_compiler())
    }

    fn may_change_binary(&self, build: &Build, path: &str) -> bool {
        (self.kernel && kbisect_kernel::is_build_system_file(path))
            || build
                .files_used
                .as_ref()
                .is_none_or(|f| f.binary_search_by(|x| x.as_str().cmp(path)).is_ok())
    }

    fn build(&mut self, req: &BuildRequest<'_>) -> Result<BuildOutcome, InfraError> {
        let key = self.alias.key(&req.commit.id, req.config.hash());
        let mut s = self.state.borrow_mut();
        match s.builds.get(&key).cloned() {
            Some(mut outcome) => {
                if let BuildOutcome::Built(b) = &mut outcome
                    && let Some(p) = &mut b.artifact
                    && p.is_relative()
                {
                    *p = self.workdir.join(&*p);
                }
                Ok(outcome)
            }
            None => Err(stop(
                &mut s,
                NotRecorded::Build {
                    commit: req.commit.id.clone(),
                    title: req.commit.title.clone(),
                },
            )),
        }
    }
}

/// A tester that never runs: it hands out recorded runs.
pub struct ReplayTester {
    state: Rc<RefCell<Recording>>,
    alias: ConfigAlias,
    parallel: usize,
}

impl ReplayTester {
    /// Hands out from `state`; `parallel` is how many runs the bisection
    /// made at once (for the test time estimate).
    pub fn new(state: Rc<RefCell<Recording>>, alias: ConfigAlias, parallel: usize) -> Self {
        ReplayTester {
            state,
            alias,
            parallel: parallel.max(1),
        }
    }
}

impl Tester for ReplayTester {
    fn run(
        &mut self,
        jobs: &[RunJob<'_>],
        on_run: &mut dyn FnMut(usize, RunResult) -> Result<(), InfraError>,
    ) -> Result<(), InfraError> {
        let keys: Vec<Key> = jobs
            .iter()
            .map(|j| {
                self.alias
                    .key(&j.request.commit.id, j.request.config.hash())
            })
            .collect();
        let served = {
            let mut s = self.state.borrow_mut();
            // The whole batch or nothing: a replay that cannot answer every
            // run stops before the engine sees any of them.
            let mut want: BTreeMap<&Key, usize> = BTreeMap::new();
            for k in &keys {
                *want.entry(k).or_default() += 1;
            }
            for (pos, k) in keys.iter().enumerate() {
                let have = s.runs.get(k).map_or(0, VecDeque::len);
                let n = want.get(k).copied().unwrap_or(0);
                if have < n {
                    let recorded = s.recorded_runs.get(k).copied().unwrap_or(0);
                    let commit = jobs[pos].request.commit;
                    return Err(stop(
                        &mut s,
                        NotRecorded::Runs {
                            commit: commit.id.clone(),
                            title: commit.title.clone(),
                            recorded,
                            wanted: recorded - have + n,
                        },
                    ));
                }
            }
            let mut out = Vec::with_capacity(jobs.len());
            let mut total = Duration::ZERO;
            for (pos, k) in keys.iter().enumerate() {
                let Some((occurrence, index, result)) =
                    s.runs.get_mut(k).and_then(VecDeque::pop_front)
                else {
                    continue;
                };
                total += result.duration;
                s.served.push(ServedRun {
                    commit: jobs[pos].request.commit.id.clone(),
                    config_hash: k.1.clone(),
                    occurrence,
                    index,
                    result: result.clone(),
                });
                out.push((pos, result));
            }
            let slots = u32::try_from(self.parallel.min(jobs.len()).max(1)).unwrap_or(1);
            s.test_time += total / slots;
            out
        };
        for (pos, result) in served {
            on_run(pos, result)?;
        }
        Ok(())
    }
}

/// The repository, read only: a commit that is not there is not fetched.
pub struct ReadOnlyVcs {
    inner: GitVcs,
}

impl ReadOnlyVcs {
    /// Reads through `inner`.
    pub fn new(inner: GitVcs) -> Self {
        ReadOnlyVcs { inner }
    }
}

impl Vcs for ReadOnlyVcs {
    fn resolve(&self, rev: &str) -> Result<Option<CommitId>, GitError> {
        self.inner.resolve(rev)
    }
    fn commit(&self, id: &CommitId) -> Result<Commit, GitError> {
        self.inner.commit(id)
    }
    fn branch_head(&self) -> Result<CommitId, GitError> {
        self.inner.branch_head()
    }
    fn branch_contains(&self, id: &CommitId) -> Result<bool, GitError> {
        self.inner.branch_contains(id)
    }
    fn find_by_title(&self, title: &str) -> Result<Option<CommitId>, GitError> {
        self.inner.find_by_title(title)
    }
    fn fetch_commit(&self, rev: &str) -> Result<Option<CommitId>, GitError> {
        if self.inner.repo().has_commit(rev)? {
            self.inner.resolve(rev)
        } else {
            Ok(None)
        }
    }
    fn is_ancestor(&self, ancestor: &CommitId, descendant: &CommitId) -> Result<bool, GitError> {
        self.inner.is_ancestor(ancestor, descendant)
    }
    fn merge_bases(&self, a: &CommitId, b: &CommitId) -> Result<Vec<CommitId>, GitError> {
        self.inner.merge_bases(a, b)
    }
    fn release_tags_before(&self, id: &CommitId) -> Result<Vec<ReleaseTag>, GitError> {
        self.inner.release_tags_before(id)
    }
    fn is_release_tag(&self, name: &str) -> bool {
        self.inner.is_release_tag(name)
    }
    fn tags_on(&self, id: &CommitId) -> Result<Vec<String>, GitError> {
        self.inner.tags_on(id)
    }
    fn dag(&self, bad: &CommitId, goods: &[CommitId]) -> Result<Dag, GitError> {
        self.inner.dag(bad, goods)
    }
    fn diffstat(&self, id: &CommitId) -> Result<String, GitError> {
        self.inner.diffstat(id)
    }
    fn changed_files(&self, id: &CommitId) -> Result<Vec<String>, GitError> {
        self.inner.changed_files(id)
    }
    fn revert_onto(
        &self,
        base: &CommitId,
        commit: &CommitId,
    ) -> Result<Option<CommitId>, GitError> {
        // The run made this commit already: making it again only writes
        // the same objects (content-addressed) and moves no ref.
        self.inner.revert_onto(base, commit)
    }
}
