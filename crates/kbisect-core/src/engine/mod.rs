//! The engine: drives one bisection through the phases of BISECTION.md,
//! asking its [`Strategy`] how to judge each revision and how to search the
//! range, and keeps the evidence.
//!
//! Phases: find the start commit ([`start`]), reproduce the crash on it,
//! minimize the config, find the range ([`range`]), search it (the
//! strategy), judge the culprit ([`judge`]).

mod context;
mod guard;
mod judge;
mod range;
mod revert;
mod search;
mod start;

pub use context::{Context, Target};
pub use guard::fix_guard;
pub use search::{count_runs, dag_search};

use std::path::PathBuf;
use std::time::{Duration, Instant};

use crate::error::EngineError;
use crate::events::{Event, EventSink};
use crate::model::{BuildConfig, Verdict};
use crate::result::{BisectResult, OutcomeKind, Purpose};
use crate::seams::{Builder, ConfigMinimizer, Tester, Vcs};
use crate::strategy::{Strategy, StrategyKind};

/// What to bisect and how.
#[derive(Clone, Debug)]
pub struct BisectConfig {
    /// Fix bisection (find the commit that made the crash go away).
    pub fix: bool,
    /// The commit the crash was seen on, as given (hash, tag, ref).
    pub start: String,
    /// Its title, to find it again when history was rewritten.
    pub start_title: Option<String>,
    /// The branch under bisection (for messages; the `Vcs` knows it).
    pub branch: String,
    /// The start commit lives in another tree.
    pub cross_tree: bool,
    /// The config to build with.
    pub config: BuildConfig,
    /// A baseline config for minimization (kernel only).
    pub baseline_config: Option<BuildConfig>,
    /// Commits known not to crash (cause) or known to be fixed (fix): they
    /// replace the release walk (cause) or HEAD (fix).
    pub known_good: Vec<String>,
    /// The oldest release tag the compiler can build (`v4.19` for gcc).
    pub compiler_horizon: Option<String>,
    /// A description of the release tag scheme, for messages.
    pub tag_scheme: Option<String>,
    /// Runs per revision (the strategy decides what it does with it).
    pub runs: usize,
    /// Runs the tester makes at the same time (a strategy that batches runs
    /// across revisions fills this many slots).
    pub parallel: usize,
    /// The confidence target of strategies that keep one (bayes: the
    /// culprit's posterior to reach before stopping); others ignore it.
    pub confidence: f64,
    /// The overall time limit.
    pub timeout: Option<Duration>,
    /// The strategy.
    pub strategy: StrategyKind,
    /// After a cause bisection names one culprit: build the start commit
    /// with it reverted and check the crash is gone.
    pub verify_revert: bool,
    /// Share evidence between revisions that must have the same binary
    /// (syzkaller and plain; bayes always does): a commit whose changes,
    /// back to a built first-parent ancestor, touch no file that build
    /// used is not built, and a revision whose signature equals an earlier
    /// one's reuses its runs. Off, the strategies keep their exact rules.
    pub share_evidence: bool,
    /// Where builds put their artifacts: `<artifacts>/<commit>/<config hash>/`.
    pub artifacts: PathBuf,
}

impl BisectConfig {
    /// Defaults: cause bisection, 10 runs, syzkaller's strategy, artifacts
    /// under the system temp dir.
    pub fn new(start: impl Into<String>, branch: impl Into<String>) -> Self {
        BisectConfig {
            fix: false,
            start: start.into(),
            start_title: None,
            branch: branch.into(),
            cross_tree: false,
            config: BuildConfig::default(),
            baseline_config: None,
            known_good: Vec::new(),
            compiler_horizon: None,
            tag_scheme: None,
            runs: 10,
            parallel: 10,
            confidence: 0.95,
            timeout: None,
            strategy: StrategyKind::Syzkaller,
            verify_revert: false,
            share_evidence: false,
            artifacts: std::env::temp_dir().join("kbisect-artifacts"),
        }
    }
}

/// One bisection: the context (services and shared state) and the strategy.
pub struct Engine<'a> {
    cx: Context<'a>,
    strategy: Box<dyn Strategy>,
    minimizer: Option<&'a mut dyn ConfigMinimizer>,
}

/// The end of the range phase: a range to bisect, or already a result.
pub(crate) enum Range {
    Bisect {
        bad: Box<kbisect_git::Commit>,
        good: Vec<kbisect_git::Commit>,
    },
    Done(Box<BisectResult>),
}

impl<'a> Engine<'a> {
    /// An engine with the strategy `cfg.strategy` names.
    pub fn new(
        cfg: BisectConfig,
        vcs: &'a dyn Vcs,
        builder: &'a mut dyn Builder,
        tester: &'a mut dyn Tester,
        events: &'a mut dyn EventSink,
    ) -> Self {
        let strategy = cfg.strategy.build();
        Engine {
            cx: Context::new(cfg, vcs, builder, tester, events),
            strategy,
            minimizer: None,
        }
    }

    /// Uses a strategy of the caller's instead of the configured one.
    pub fn with_strategy(mut self, s: Box<dyn Strategy>) -> Self {
        self.strategy = s;
        self
    }

    /// Minimizes the config against `cfg.baseline_config` with `m`.
    pub fn with_minimizer(mut self, m: &'a mut dyn ConfigMinimizer) -> Self {
        self.minimizer = Some(m);
        self
    }

    /// Runs the whole bisection.
    pub fn run(mut self) -> Result<BisectResult, EngineError> {
        self.cx.started = Instant::now();
        // Name the commit by hash when the user gave a ref (`HEAD`, a tag).
        let given = self.cx.cfg.start.clone();
        let resolved = match self.cx.vcs().resolve(&given) {
            Ok(Some(id)) if !id.as_str().starts_with(given.as_str()) => Some(id),
            _ => None,
        };
        self.cx.emit(Event::Started {
            fix: self.cx.cfg.fix,
            given,
            resolved,
            strategy: self.strategy.name(),
        });
        let res = self.bisect();
        let (build, test) = self.cx.times();
        self.cx.emit(Event::Totals {
            revisions: self.cx.revisions_tested(),
            total: self.cx.started.elapsed(),
            build,
            test,
            flaky: self.strategy.flaky_estimate(),
        });
        res.map(|mut r| {
            r.total_time = self.cx.started.elapsed();
            (r.build_time, r.test_time) = self.cx.times();
            r.revisions_tested = self.cx.revisions_tested();
            r.builds_saved = self.cx.builds_saved();
            self.strategy.conclude(&mut r);
            r.evidence = self.cx.take_evidence();
            r
        })
    }

    fn bisect(&mut self) -> Result<BisectResult, EngineError> {
        let start_id = self.identify_start()?;
        let goods = self.resolve_known_good(&start_id)?;
        let start = self.cx.vcs().commit(&start_id)?;
        self.cx.emit(Event::ReproducingStart {
            commit: start_id.clone(),
        });
        self.cx.anchor = Some(start.clone());
        let mut start_res = self
            .strategy
            .test_revision(&mut self.cx, &start, Purpose::Start)?;
        if start_res.verdict != Some(Verdict::Bad) {
            return Err(EngineError::NotReproduced);
        }
        self.cx.target.types = start_res.crash_types.clone();
        self.cx.target.title = start_res.crash.as_ref().map(|c| c.title.clone());
        self.strategy.start_reproduced(&start_res);
        if let Some(r) = self.minimize_config(&start)? {
            // The minimized config may reproduce differently.
            start_res = r;
            self.strategy.start_reproduced(&start_res);
        }

        let (bad, good) = match self.commit_range(&start, goods)? {
            Range::Done(r) => return Ok(*r),
            Range::Bisect { bad, good } => (*bad, good),
        };
        self.cx.anchor = Some(if self.cx.cfg.fix {
            good[0].clone()
        } else {
            bad.clone()
        });
        let commits = self.strategy.search(&mut self.cx, &bad, &good)?;
        let mut res = self.result(OutcomeKind::Culprit);
        if commits.len() == 1 {
            self.judge_culprit(&commits[0], &mut res)?;
            if self.cx.cfg.verify_revert && !self.cx.cfg.fix {
                res.revert = Some(self.check_revert(&start, &commits[0])?);
            }
        } else {
            res.kind = OutcomeKind::Inconclusive;
        }
        res.commits = commits;
        Ok(res)
    }

    /// A result skeleton with what the engine and the strategy know now.
    pub(crate) fn result(&self, kind: OutcomeKind) -> BisectResult {
        let (build_time, test_time) = self.cx.times();
        let mut r = BisectResult {
            fix: self.cx.cfg.fix,
            kind,
            strategy: self.strategy.name(),
            commits: Vec::new(),
            horizon: None,
            report: None,
            config: self.cx.config.clone(),
            release: false,
            merge: false,
            noop: false,
            recipients: Default::default(),
            culprit_signature: None,
            parent_signature: None,
            confidence: 1.0,
            flaky: false,
            repro_chance: 1.0,
            runner_up: None,
            candidates: Vec::new(),
            verification: None,
            revert: None,
            revisions_tested: self.cx.revisions_tested(),
            builds_saved: self.cx.builds_saved(),
            build_time,
            test_time,
            total_time: self.cx.started.elapsed(),
            evidence: Vec::new(),
        };
        self.strategy.conclude(&mut r);
        r
    }
}
