//! The services a strategy works with: build a revision, run the reproducer
//! on it (several revisions at once if it likes), keep the per-revision
//! record, and tell the world through events. The context also holds what
//! every strategy shares: the current config, the crash being bisected, the
//! time spent, and the evidence so far.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use kbisect_crash::CrashType;
use kbisect_git::{Commit, CommitId};

use crate::BisectConfig;
use crate::error::{EngineError, InfraError};
use crate::events::{Event, EventSink, FoldReason};
use crate::model::{BuildConfig, BuildOutcome, Crash, RunOutcome, RunResult};
use crate::result::{Purpose, RevisionEvidence};
use crate::seams::{Builder, BuilderKind, RunJob, TestRequest, Tester, Vcs};
use crate::strategy::StrategyKind;

/// How far back along first parents a build looks for a built ancestor
/// with the same binary (with shared evidence on): far enough for runs of
/// docs-only commits, short enough that a walk costs little next to a build.
const FOLD_WALK: usize = 256;

/// The crash being bisected, as the start commit showed it.
#[derive(Clone, Debug, Default)]
pub struct Target {
    /// Crash types of the start commit's representative crash.
    pub types: Vec<CrashType>,
    /// Its title.
    pub title: Option<String>,
}

mod build;

/// The engine's services and shared state, handed to the strategy.
pub struct Context<'a> {
    pub(crate) cfg: BisectConfig,
    vcs: &'a dyn Vcs,
    builder: &'a mut dyn Builder,
    tester: &'a mut dyn Tester,
    events: &'a mut dyn EventSink,
    pub(crate) started: Instant,
    /// The config builds use now (config minimization may change it).
    pub(crate) config: BuildConfig,
    /// syzkaller's `env.commit`: the start commit, then the range end that
    /// crashes (cause: bad end; fix: good end). The fix guard asks for merge
    /// bases with it.
    pub(crate) anchor: Option<Commit>,
    /// What the start commit crashed with: crashes of other transient kinds
    /// are set aside as noise.
    pub(crate) target: Target,
    /// Revisions whose reproducer runs were made (syzkaller's `numTests`):
    /// the first one gets twice the runs.
    revisions_tested: usize,
    build_time: Duration,
    test_time: Duration,
    evidence: Vec<RevisionEvidence>,
    /// The latest judged record of each commit (an index into `evidence`).
    latest: HashMap<CommitId, usize>,
    /// Commits in the order they were first judged, so walks are deterministic.
    order: Vec<CommitId>,
    /// Requests made so far per (commit, config hash): names runs for the journal.
    occurrences: HashMap<(CommitId, String), usize>,
    /// Commits folded into another's binary (never built).
    never_built: std::collections::BTreeSet<CommitId>,
    /// Shared evidence: commits already said to be folded (one event each).
    folded: HashSet<CommitId>,
    /// Shared evidence: the commit that really built a folded commit's binary.
    binary_owner: HashMap<CommitId, CommitId>,
    /// Shared evidence: each walked commit's first parent and changed paths,
    /// so walks that cross the same commits ask git once.
    walked: HashMap<CommitId, (Option<CommitId>, Vec<String>)>,
}

impl<'a> Context<'a> {
    pub(crate) fn new(
        cfg: BisectConfig,
        vcs: &'a dyn Vcs,
        builder: &'a mut dyn Builder,
        tester: &'a mut dyn Tester,
        events: &'a mut dyn EventSink,
    ) -> Self {
        let config = cfg.config.clone();
        Context {
            cfg,
            vcs,
            builder,
            tester,
            events,
            started: Instant::now(),
            config,
            anchor: None,
            target: Target::default(),
            revisions_tested: 0,
            build_time: Duration::ZERO,
            test_time: Duration::ZERO,
            evidence: Vec::new(),
            latest: HashMap::new(),
            order: Vec::new(),
            occurrences: HashMap::new(),
            never_built: Default::default(),
            folded: HashSet::new(),
            binary_owner: HashMap::new(),
            walked: HashMap::new(),
        }
    }

    /// Whether revisions share evidence here: the job asked for it, and
    /// the strategy does not already share within its own search (bayes).
    fn sharing(&self) -> bool {
        self.cfg.share_evidence && self.cfg.strategy != StrategyKind::Bayes
    }

    /// Whether a build for `purpose` may be folded into a built ancestor's.
    /// Bayes folds within its search, but the culprit's parent built for
    /// the no-op check is asked for after it, and it is often a commit the
    /// search folded (so it has no record): building it would undo the
    /// saving, so bayes's sharing covers that build too.
    fn folding(&self, purpose: &Purpose) -> bool {
        self.sharing()
            || (self.cfg.strategy == StrategyKind::Bayes && *purpose == Purpose::ParentBuild)
    }

    /// A walked commit's first parent and the paths it changes (cached).
    fn walk_step(&mut self, id: &CommitId) -> Result<(Option<CommitId>, Vec<String>), EngineError> {
        if let Some(x) = self.walked.get(id) {
            return Ok(x.clone());
        }
        let parent = self.vcs.commit(id)?.parents.first().cloned();
        let changed = self.vcs.changed_files(id)?;
        self.walked
            .insert(id.clone(), (parent.clone(), changed.clone()));
        Ok((parent, changed))
    }

    /// The record whose build `commit` must share: that of the nearest
    /// first-parent ancestor built (with the current config) in this
    /// bisection such that no path changed on the way there may change
    /// what that build produced. The walk stops once every build so far
    /// could be changed by the paths gathered: none further up can match.
    fn fold_target(&mut self, commit: &Commit) -> Result<Option<usize>, EngineError> {
        let hash = self.config.hash();
        let mut built: HashMap<CommitId, usize> = HashMap::new();
        for (i, e) in self.evidence.iter().enumerate() {
            if e.config_hash == hash && e.build.built().is_some() {
                built.entry(e.commit.clone()).or_insert(i);
            }
        }
        if built.is_empty() {
            return Ok(None);
        }
        let mut paths: BTreeSet<String> = BTreeSet::new();
        let mut cur = commit.id.clone();
        let mut parent = commit.parents.first().cloned();
        for _ in 0..FOLD_WALK {
            paths.extend(self.walk_step(&cur)?.1);
            let Some(p) = parent else {
                return Ok(None);
            };
            let list: Vec<String> = paths.iter().cloned().collect();
            let changes = |i: usize| {
                self.evidence[i]
                    .build
                    .built()
                    .is_none_or(|b| self.may_change_binary(b, &list))
            };
            if let Some(&i) = built.get(&p)
                && !changes(i)
            {
                return Ok(Some(i));
            }
            if built.values().all(|&i| changes(i)) {
                return Ok(None);
            }
            parent = self.walk_step(&p)?.0;
            cur = p;
        }
        Ok(None)
    }

    /// With shared evidence on: `commit` folded into an ancestor's build
    /// (see [`Self::fold_target`]), as the record [`Self::build`] returns.
    fn folded_build(
        &mut self,
        commit: &Commit,
        purpose: &Purpose,
        compiler: &Option<String>,
    ) -> Result<Option<RevisionEvidence>, EngineError> {
        if !self.folding(purpose) {
            return Ok(None);
        }
        let Some(i) = self.fold_target(commit)? else {
            return Ok(None);
        };
        let built_by = self.evidence[i].commit.clone();
        let owner = self
            .binary_owner
            .get(&built_by)
            .cloned()
            .unwrap_or(built_by);
        let mut outcome = self.evidence[i].build.clone();
        // Nothing was built: the time belongs to the owner's build.
        if let BuildOutcome::Built(b) = &mut outcome {
            b.duration = Duration::ZERO;
        }
        self.folded.insert(commit.id.clone());
        self.binary_owner.insert(commit.id.clone(), owner.clone());
        self.emit(Event::Folded {
            commit: commit.id.clone(),
            into: owner,
            reason: FoldReason::FilesUnused,
        });
        self.emit(Event::Built {
            commit: commit.id.clone(),
            signature: outcome.signature().cloned(),
            error: None,
            duration: Duration::ZERO,
        });
        Ok(Some(RevisionEvidence::built(
            commit,
            purpose.clone(),
            self.config.hash(),
            compiler.clone(),
            outcome,
        )))
    }

    /// With shared evidence on: the recorded runs a revision not run yet
    /// may take as its own — those of the earlier revision with its
    /// signature (same config) that has the most runs.
    fn shared_runs(&self, rev: &RevisionEvidence) -> Option<(CommitId, Vec<RunResult>)> {
        if !self.sharing() || !rev.runs.is_empty() {
            return None;
        }
        let sig = rev.signature()?;
        let mut best: Option<&RevisionEvidence> = None;
        for e in &self.evidence {
            if e.commit != rev.commit
                && e.config_hash == rev.config_hash
                && e.signature() == Some(sig)
                && e.runs.len() > best.map_or(0, |b| b.runs.len())
            {
                best = Some(e);
            }
        }
        best.map(|e| (e.commit.clone(), e.runs.clone()))
    }

    /// The bisection's settings.
    pub fn settings(&self) -> &BisectConfig {
        &self.cfg
    }

    /// The history.
    pub fn vcs(&self) -> &dyn Vcs {
        self.vcs
    }

    /// Whether a commit changing any of `paths` could change what `build`
    /// produced (see [`Builder::may_change_binary`]).
    pub fn may_change_binary(&self, build: &crate::model::Build, paths: &[String]) -> bool {
        paths
            .iter()
            .any(|p| self.builder.may_change_binary(build, p))
    }

    /// The builder's kind (for strategies that word things differently).
    pub fn builder_kind(&self) -> BuilderKind {
        self.builder.kind()
    }

    /// Tells the world.
    pub fn emit(&mut self, e: Event) {
        if let Event::Folded {
            commit,
            reason: FoldReason::FilesUnused,
            ..
        } = &e
        {
            self.never_built.insert(commit.clone());
        }
        self.events.event(&e);
    }

    /// Commits folded into another's binary instead of being built: the
    /// builds shared evidence saved.
    pub fn builds_saved(&self) -> usize {
        self.never_built.len()
    }

    /// The crash being bisected.
    pub fn target(&self) -> &Target {
        &self.target
    }

    /// The start commit or the crashing end of the range (the fix guard's anchor).
    pub fn anchor(&self) -> Option<&Commit> {
        self.anchor.as_ref()
    }

    /// How many revisions had reproducer runs so far.
    pub fn revisions_tested(&self) -> usize {
        self.revisions_tested
    }

    /// The config builds use now.
    pub fn build_config(&self) -> &BuildConfig {
        &self.config
    }

    /// A fuzzer failure or a lost connection is infrastructure noise unless
    /// the crash being bisected is itself of that kind.
    pub fn is_transient(&self, c: &Crash) -> bool {
        if self.target.types.is_empty() {
            return false;
        }
        matches!(
            c.crash_type,
            CrashType::SyzFailure | CrashType::LostConnection
        ) && !self.target.types.contains(&c.crash_type)
    }

    /// Stops the bisection once it runs over its time limit.
    pub fn check_timeout(&self) -> Result<(), EngineError> {
        match self.cfg.timeout {
            Some(t) if self.started.elapsed() > t => Err(EngineError::Timeout(t)),
            _ => Ok(()),
        }
    }

    fn out_dir(&self, commit: &CommitId) -> PathBuf {
        self.cfg
            .artifacts
            .join(commit.as_str())
            .join(self.config.hash())
    }

    /// Step 2: `runs` more runs of the reproducer on a built revision.
    pub fn run(&mut self, rev: &mut RevisionEvidence, runs: usize) -> Result<(), EngineError> {
        self.run_many(&mut [(rev, runs)])
    }

    /// Step 2 for several built revisions at once: every run of every
    /// revision is handed to the tester together, so they share its slots.
    pub fn run_many(
        &mut self,
        batch: &mut [(&mut RevisionEvidence, usize)],
    ) -> Result<(), EngineError> {
        let mut commits = Vec::with_capacity(batch.len());
        for (rev, _) in batch.iter() {
            let commit = self.vcs.commit(&rev.commit)?;
            if rev.build.built().is_none() {
                return Err(EngineError::Internal(format!(
                    "runs asked for {}, which did not build",
                    rev.commit
                )));
            }
            commits.push(commit);
        }
        let sharing = self.sharing();
        let mut plan = Vec::with_capacity(batch.len());
        for (rev, runs) in batch.iter_mut() {
            let key = (rev.commit.clone(), rev.config_hash.clone());
            // Taken even when every run is shared, so a request's runs are
            // named the same whether or not an earlier one shared them.
            let occurrence = *self.occurrences.get(&key).unwrap_or(&0);
            self.occurrences.insert(key, occurrence + 1);
            if rev.runs.is_empty() {
                self.revisions_tested += 1;
            }
            let mut todo = *runs;
            if let Some((from, shared)) = self.shared_runs(rev) {
                let n = shared.len().min(todo);
                rev.runs.extend(shared.into_iter().take(n));
                todo -= n;
                if self.folded.insert(rev.commit.clone()) {
                    let into = self.binary_owner.get(&from).cloned().unwrap_or(from);
                    self.binary_owner.insert(rev.commit.clone(), into.clone());
                    self.emit(Event::Folded {
                        commit: rev.commit.clone(),
                        into,
                        reason: FoldReason::SameSignature,
                    });
                }
            }
            plan.push((occurrence, todo, self.out_dir(&rev.commit)));
            if !sharing || todo > 0 {
                self.emit(Event::RunsStarted {
                    commit: rev.commit.clone(),
                    runs: todo,
                });
            }
        }
        let t0 = Instant::now();
        let mut got: Vec<Vec<Option<RunResult>>> =
            plan.iter().map(|(_, runs, _)| vec![None; *runs]).collect();
        let res = {
            let requests: Vec<TestRequest<'_>> = batch
                .iter()
                .zip(&commits)
                .zip(&plan)
                .filter_map(|(((rev, _), commit), (occurrence, runs, dir))| {
                    Some(TestRequest {
                        commit,
                        config: &self.config,
                        build: rev.build.built()?,
                        runs: *runs,
                        occurrence: *occurrence,
                        log_dir: dir,
                    })
                })
                .collect();
            let jobs: Vec<(usize, RunJob<'_>)> = requests
                .iter()
                .enumerate()
                .flat_map(|(r, request)| {
                    (0..request.runs).map(move |index| (r, RunJob { request, index }))
                })
                .collect();
            let only: Vec<RunJob<'_>> = jobs.iter().map(|(_, j)| *j).collect();
            let events = &mut *self.events;
            if sharing && only.is_empty() {
                // Every run was shared: nothing to hand the tester.
                Ok(())
            } else {
                self.tester.run(&only, &mut |pos, result| {
                    let (r, job) = &jobs[pos];
                    events.event(&Event::RunFinished {
                        commit: job.request.commit.id.clone(),
                        index: job.index,
                        result: result.clone(),
                    });
                    got[*r][job.index] = Some(result);
                    Ok(())
                })
            }
        };
        let elapsed = t0.elapsed();
        self.test_time += elapsed;
        let share = elapsed / u32::try_from(batch.len().max(1)).unwrap_or(1);
        res?;
        for ((rev, _), results) in batch.iter_mut().zip(got) {
            rev.test_time += share;
            for (index, r) in results.into_iter().enumerate() {
                rev.runs
                    .push(r.ok_or(EngineError::Infra(InfraError::RunLost { index }))?);
            }
        }
        Ok(())
    }

    /// Keeps a finished record as evidence; a judged one becomes the
    /// commit's latest result. Returns a copy for the caller.
    pub fn record(&mut self, rev: RevisionEvidence) -> RevisionEvidence {
        // A config minimization candidate is not the commit's result: the
        // config chosen is promoted once minimization is over.
        if rev.verdict.is_some() && rev.purpose != Purpose::ConfigMinimization {
            if !self.latest.contains_key(&rev.commit) {
                self.order.push(rev.commit.clone());
            }
            self.latest.insert(rev.commit.clone(), self.evidence.len());
        }
        self.evidence.push(rev.clone());
        rev
    }

    /// Makes `rev` (already recorded) its commit's latest result.
    pub(crate) fn promote(&mut self, rev: &RevisionEvidence) {
        let found = self.evidence.iter().rposition(|e| {
            e.commit == rev.commit && e.config_hash == rev.config_hash && e.verdict.is_some()
        });
        if let Some(i) = found {
            if !self.latest.contains_key(&rev.commit) {
                self.order.push(rev.commit.clone());
            }
            self.latest.insert(rev.commit.clone(), i);
        }
    }

    /// The latest judged record of a commit.
    pub fn result_of(&self, id: &CommitId) -> Option<&RevisionEvidence> {
        self.latest.get(id).and_then(|&i| self.evidence.get(i))
    }

    /// The latest judged records, in the order commits were first judged.
    pub fn judged(&self) -> impl Iterator<Item = &RevisionEvidence> {
        self.order.iter().filter_map(|id| self.result_of(id))
    }

    /// Every record so far, in order.
    pub fn evidence(&self) -> &[RevisionEvidence] {
        &self.evidence
    }

    pub(crate) fn take_evidence(&mut self) -> Vec<RevisionEvidence> {
        std::mem::take(&mut self.evidence)
    }

    /// Time spent building and testing so far.
    pub fn times(&self) -> (Duration, Duration) {
        (self.build_time, self.test_time)
    }

    /// Whether a run counts as the crash (not set aside as noise).
    pub fn counts_as_crash<'r>(&self, r: &'r RunResult) -> Option<&'r Crash> {
        match &r.outcome {
            RunOutcome::Crashed(c) if !self.is_transient(c) => Some(c),
            _ => None,
        }
    }
}
