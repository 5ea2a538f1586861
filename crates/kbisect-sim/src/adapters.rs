//! The simulated [`Builder`] and [`Tester`] of one trial, with the bill
//! (builds, runs, wall minutes under the seed's cost model).
//!
//! Builds fail on the trial's broken commits; a docs-only commit has its
//! first parent's binary (the same signature), and every build says it
//! used [`SOURCE_FILE`] (so a docs-only commit is foldable) unless the
//! ablation turns `files_used` off. A run on a revision that contains the
//! culprit shows the target crash with probability p; otherwise (and on
//! revisions that do not contain it) an unrelated crash with probability q,
//! with the target's title with probability `same_title` (the prototype's
//! title rule: by default unrelated crashes look like ours). Outcomes are
//! drawn from one seeded stream per trial, in the order the engine asks.

use std::collections::BTreeSet;
use std::time::Duration;

use kbisect_core::{
    ArtifactSignature, Build, BuildFailure, BuildOutcome, BuildRequest, Builder, BuilderKind,
    Commit, Crash, CrashType, InfraError, RunJob, RunOutcome, RunResult, Tester,
};
use rand_chacha::ChaCha8Rng;
use rand_core::SeedableRng;

use crate::load::{History, Range};
use crate::vcs::{SOURCE_FILE, number_of};
use crate::world::{Cell, SimConfig, Truth, unit};

/// The target crash's title.
pub const TARGET_TITLE: &str = "KASAN: use-after-free Read in sim_target";
/// The title of unrelated crashes that do not look like ours.
pub const OTHER_TITLE: &str = "WARNING in sim_unrelated";

/// The simulated builder of one trial.
pub struct SimBuilder<'a> {
    history: &'a History,
    range: &'a Range,
    truth: &'a Truth,
    cfg: SimConfig,
    /// Builds made (failed ones included).
    pub builds: usize,
    /// Builds of a binary built before in this trial (what shared evidence
    /// would save a strategy that does not share).
    pub rebuilt: usize,
    /// Wall-clock minutes spent building.
    pub minutes: f64,
    seen: BTreeSet<u32>,
}

impl<'a> SimBuilder<'a> {
    /// The builder of a trial.
    pub fn new(history: &'a History, range: &'a Range, truth: &'a Truth, cfg: SimConfig) -> Self {
        SimBuilder {
            history,
            range,
            truth,
            cfg,
            builds: 0,
            rebuilt: 0,
            minutes: 0.0,
            seen: BTreeSet::new(),
        }
    }

    /// The commit whose binary history commit `n` has (docs-only commits
    /// have their first parent's).
    fn binary_of(&self, mut n: u32) -> u32 {
        while self.history.docs[n as usize] {
            match self.history.parents[n as usize].first() {
                Some(&p) => n = p,
                None => break,
            }
        }
        n
    }
}

impl Builder for SimBuilder<'_> {
    fn kind(&self) -> BuilderKind {
        BuilderKind::Kernel
    }

    fn compiler_id(&mut self, _commit: &Commit) -> Option<String> {
        None
    }

    fn build_slots(&self) -> usize {
        self.cfg.build_slots.max(1)
    }

    fn build_many(&mut self, reqs: &[BuildRequest<'_>]) -> Result<Vec<BuildOutcome>, InfraError> {
        // The farm builds up to `build_slots` at once: a batch costs its
        // number of waves, not its number of builds.
        let waves = reqs.len().div_ceil(self.build_slots());
        self.minutes += waves as f64 * self.cfg.build_min;
        reqs.iter().map(|r| self.outcome(r)).collect()
    }

    fn build(&mut self, req: &BuildRequest<'_>) -> Result<BuildOutcome, InfraError> {
        self.minutes += self.cfg.build_min;
        self.outcome(req)
    }
}

impl SimBuilder<'_> {
    /// One build's outcome (its minutes are the caller's: one build, or a wave).
    fn outcome(&mut self, req: &BuildRequest<'_>) -> Result<BuildOutcome, InfraError> {
        self.builds += 1;
        let n = number_of(&req.commit.id).ok_or_else(|| InfraError::Environment {
            what: format!("{} is not a simulated commit", req.commit.id),
            source: None,
        })?;
        let bin = self.binary_of(n);
        if !self.seen.insert(bin) {
            self.rebuilt += 1;
        }
        let local = self.range.local[n as usize];
        let broken = local != u32::MAX && self.truth.broken[local as usize];
        let duration = Duration::from_secs_f64(self.cfg.build_min * 60.0);
        if broken {
            return Ok(BuildOutcome::Failed(BuildFailure {
                title: "simulated build failure".into(),
                error_lines: vec!["error: simulated".into()],
                guilty_file: None,
                duration,
            }));
        }
        Ok(BuildOutcome::Built(Build {
            compiler: None,
            signature: Some(ArtifactSignature(format!("bin-{bin}"))),
            artifact: None,
            files_used: self.cfg.files_used.then(|| vec![SOURCE_FILE.to_string()]),
            duration,
        }))
    }
}

/// The simulated tester of one trial.
pub struct SimTester<'a> {
    range: &'a Range,
    truth: &'a Truth,
    cell: Cell,
    cfg: SimConfig,
    rng: ChaCha8Rng,
    /// Runs made.
    pub runs: usize,
    /// Wall-clock minutes spent running (one batch of `slots` runs a minute).
    pub minutes: f64,
}

impl<'a> SimTester<'a> {
    /// The tester of a trial, drawing from `seed`.
    pub fn new(range: &'a Range, truth: &'a Truth, cell: Cell, cfg: SimConfig, seed: u64) -> Self {
        SimTester {
            range,
            truth,
            cell,
            cfg,
            rng: ChaCha8Rng::seed_from_u64(seed),
            runs: 0,
            minutes: 0.0,
        }
    }

    fn one(&mut self, commit: &Commit) -> RunOutcome {
        self.runs += 1;
        let local = number_of(&commit.id)
            .map(|n| self.range.local[n as usize])
            .unwrap_or(u32::MAX);
        let inside = local != u32::MAX && self.truth.contains[local as usize];
        let crash = |title: &str| {
            RunOutcome::Crashed(Crash {
                title: title.to_string(),
                crash_type: CrashType::Unknown,
                report: format!("{title}\nsimulated report\n"),
            })
        };
        if inside && unit(&mut self.rng) < self.cell.p {
            return crash(TARGET_TITLE);
        }
        if unit(&mut self.rng) < self.cell.q {
            return if unit(&mut self.rng) < self.cfg.same_title {
                crash(TARGET_TITLE)
            } else {
                crash(OTHER_TITLE)
            };
        }
        RunOutcome::Ok
    }
}

impl Tester for SimTester<'_> {
    fn run(
        &mut self,
        jobs: &[RunJob<'_>],
        on_run: &mut dyn FnMut(usize, RunResult) -> Result<(), InfraError>,
    ) -> Result<(), InfraError> {
        // One batch over the slots: the runs of a call run side by side.
        self.minutes += jobs.len().div_ceil(self.cfg.slots.max(1)) as f64 * self.cfg.run_min;
        for (pos, job) in jobs.iter().enumerate() {
            let outcome = self.one(job.request.commit);
            on_run(
                pos,
                RunResult {
                    outcome,
                    duration: Duration::from_secs_f64(self.cfg.run_min * 60.0),
                    matched: None,
                },
            )?;
        }
        Ok(())
    }
}
