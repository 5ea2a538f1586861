//! The services a strategy works with: build a revision, run the reproducer
//! on it (several revisions at once if it likes), keep the per-revision
//! record, and tell the world through events. The context also holds what
//! every strategy shares: the current config, the crash being bisected, the
//! time spent, and the evidence so far.

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use kbisect_crash::CrashType;
use kbisect_git::{Commit, CommitId};

use crate::BisectConfig;
use crate::error::{EngineError, InfraError};
use crate::events::{Event, EventSink};
use crate::model::{BuildConfig, BuildOutcome, Crash, RunOutcome, RunResult};
use crate::result::{Purpose, ResultReport, RevisionEvidence};
use crate::seams::{BuildRequest, Builder, BuilderKind, RunJob, TestRequest, Tester, Vcs};

/// The crash being bisected, as the start commit showed it.
#[derive(Clone, Debug, Default)]
pub struct Target {
    /// Crash types of the start commit's representative crash.
    pub types: Vec<CrashType>,
    /// Its title.
    pub title: Option<String>,
}

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
        }
    }

    /// The bisection's settings.
    pub fn settings(&self) -> &BisectConfig {
        &self.cfg
    }

    /// The history.
    pub fn vcs(&self) -> &dyn Vcs {
        self.vcs
    }

    /// The builder's kind (for strategies that word things differently).
    pub fn builder_kind(&self) -> BuilderKind {
        self.builder.kind()
    }

    /// Tells the world.
    pub fn emit(&mut self, e: Event) {
        self.events.event(&e);
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

    /// Step 1 of testing a revision: build it. The record it returns holds
    /// the build outcome; a failed build is already a skip, with the build
    /// error as the revision's report.
    pub fn build(
        &mut self,
        commit: &Commit,
        purpose: Purpose,
    ) -> Result<RevisionEvidence, EngineError> {
        self.check_timeout()?;
        let compiler = self.builder.compiler_id(commit);
        self.emit(Event::TestingCommit {
            commit: commit.id.clone(),
            title: commit.title.clone(),
            compiler: compiler.clone(),
        });
        let out_dir = self.out_dir(&commit.id);
        let outcome = self.builder.build(&BuildRequest {
            commit,
            config: &self.config,
            out_dir: &out_dir,
        })?;
        self.build_time += outcome.duration();
        let error = match &outcome {
            BuildOutcome::Built(_) => None,
            BuildOutcome::Failed(f) => Some(f.title.clone()),
        };
        self.emit(Event::Built {
            commit: commit.id.clone(),
            signature: outcome.signature().cloned(),
            error,
            duration: outcome.duration(),
        });
        let mut rev =
            RevisionEvidence::built(commit, purpose, self.config.hash(), compiler, outcome);
        if let BuildOutcome::Failed(f) = &rev.build {
            rev.report = Some(ResultReport {
                title: format!("failed building {}: {}", commit.id, f.title),
                crash_type: CrashType::Unknown,
                text: f.error_lines.join("\n"),
            });
        }
        Ok(rev)
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
        let mut plan = Vec::with_capacity(batch.len());
        for (rev, runs) in batch.iter() {
            let key = (rev.commit.clone(), rev.config_hash.clone());
            let occurrence = *self.occurrences.get(&key).unwrap_or(&0);
            self.occurrences.insert(key, occurrence + 1);
            if rev.runs.is_empty() {
                self.revisions_tested += 1;
            }
            plan.push((occurrence, *runs, self.out_dir(&rev.commit)));
            self.emit(Event::RunsStarted {
                commit: rev.commit.clone(),
                runs: *runs,
            });
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
