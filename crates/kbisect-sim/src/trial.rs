//! One trial: the real engine ([`kbisect_core::Engine`]) bisects the range
//! with the chosen strategy over the simulated adapters, and its result is
//! scored against the planted culprit.

use kbisect_core::dag::{DagBisect, Step};
use kbisect_core::strategy::Bayes;
use kbisect_core::strategy::bayes::{BayesConfig, RangeRules};
use kbisect_core::{BisectConfig, Engine, Event, FoldReason, OutcomeKind, StrategyKind, Verdict};
use kbisect_git::Dag;

use crate::adapters::{SimBuilder, SimTester};
use crate::load::{History, Range};
use crate::vcs::{SimVcs, id_of, number_of};
use crate::world::{Cell, SimConfig, Truth, mix};

/// A strategy of the benchmark.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Strat {
    /// `git bisect run`.
    Plain,
    /// syzbot's rules.
    Syzkaller,
    /// The posterior search.
    Bayes,
}

impl Strat {
    /// Every strategy, in table order.
    pub const ALL: [Strat; 3] = [Strat::Plain, Strat::Syzkaller, Strat::Bayes];

    /// Name on the command line and in tables.
    pub fn name(self) -> &'static str {
        self.kind().name()
    }

    /// Parses a name.
    pub fn parse(s: &str) -> Option<Strat> {
        Strat::ALL.into_iter().find(|x| x.name() == s)
    }

    /// The engine's strategy.
    pub fn kind(self) -> StrategyKind {
        match self {
            Strat::Plain => StrategyKind::Plain,
            Strat::Syzkaller => StrategyKind::Syzkaller,
            Strat::Bayes => StrategyKind::Bayes,
        }
    }
}

/// What a strategy answered in one trial.
#[derive(Clone, Debug, PartialEq)]
pub struct Answer {
    /// The culprit it named as certain (a range index).
    pub culprit: Option<u32>,
    /// It named one as certain (not unsure, inconclusive or an error).
    pub confident: bool,
    /// The confidence it reported (calibration): bayes its posterior (the
    /// top candidate's when unsure), syzkaller its product formula, 1 for
    /// plain.
    pub confidence: f64,
    /// The candidate it would bet on (for calibration), if any.
    pub best: Option<u32>,
    /// Estimated repro chance.
    pub p_est: f64,
}

/// One trial's figures.
#[derive(Clone, Debug, PartialEq)]
pub struct TrialOut {
    /// The strategy's answer.
    pub answer: Answer,
    /// The truth (a range index).
    pub culprit: u32,
    /// Builds made (failed ones included).
    pub builds: usize,
    /// Runs made.
    pub runs: usize,
    /// Builds + run cost × runs.
    pub cost: f64,
    /// Wall-clock minutes under the seed's cost model.
    pub wall: f64,
    /// Builds of an already built binary.
    pub rebuilt: usize,
    /// Commits folded into their parent's evidence (never built).
    pub folded: usize,
    /// Builds whose signature equalled a tested binary's.
    pub shared: usize,
    /// An oracle (git bisect with a deterministic reproducer and no noise)
    /// finds this culprit: false when broken builds hide it from everyone.
    pub identifiable: bool,
}

impl TrialOut {
    /// Named the right culprit as certain.
    pub fn correct(&self) -> bool {
        self.answer.confident && self.answer.culprit == Some(self.culprit)
    }
}

/// A range ready for trials: the history, the range, its DAG for the oracle.
pub struct Prepared<'h> {
    /// The whole history.
    pub history: &'h History,
    /// The range.
    pub range: Range,
    dag: Dag,
    /// Knobs of the bayes strategy (default: its defaults).
    bayes: Option<(BayesConfig, RangeRules)>,
}

impl<'h> Prepared<'h> {
    /// Prepares `range` of `history`.
    pub fn new(history: &'h History, range: Range) -> Self {
        let n = range.len();
        let rl = |i: u32| (n - 1 - i as usize) as u32;
        let dag = Dag {
            commits: (0..n).rev().map(|i| id_of(range.global[i])).collect(),
            parents: (0..n)
                .rev()
                .map(|i| range.parents[i].iter().map(|&p| rl(p)).collect())
                .collect(),
        };
        Prepared {
            history,
            range,
            dag,
            bayes: None,
        }
    }

    /// Runs the bayes strategy with these knobs (experiments).
    pub fn with_bayes(mut self, cfg: BayesConfig, rules: RangeRules) -> Self {
        self.bayes = Some((cfg, rules));
        self
    }

    /// git bisect with p = 1, q = 0 on this truth finds the culprit.
    fn identifiable(&self, truth: &Truth) -> bool {
        let Ok(mut b) = DagBisect::new(self.dag.clone(), &id_of(self.range.bad)) else {
            return false;
        };
        loop {
            match b.next() {
                Step::Test { commit, .. } => {
                    let i = number_of(&commit).map_or(u32::MAX, |n| self.range.local[n as usize]);
                    let v = if i == u32::MAX || truth.broken[i as usize] {
                        Verdict::Skip
                    } else if truth.contains[i as usize] {
                        Verdict::Bad
                    } else {
                        Verdict::Good
                    };
                    if b.mark(&commit, v).is_err() {
                        return false;
                    }
                }
                Step::Found(c) => {
                    return number_of(&c).map(|n| self.range.local[n as usize])
                        == Some(truth.culprit);
                }
                Step::OnlySkipped(_) => return false,
            }
        }
    }

    /// Trial `t` of a cell: the same truth for every strategy and every
    /// (p, q) of the same s; outcomes seeded per (trial, cell, strategy).
    pub fn trial(
        &self,
        cell: Cell,
        strat: Strat,
        t: usize,
        seed: u64,
        sim: &SimConfig,
    ) -> TrialOut {
        self.trial_logged(cell, strat, t, seed, sim, &mut |_| {})
    }

    /// [`Prepared::trial`], handing every engine event to `log` too.
    pub fn trial_logged(
        &self,
        cell: Cell,
        strat: Strat,
        t: usize,
        seed: u64,
        sim: &SimConfig,
        log: &mut dyn FnMut(&Event),
    ) -> TrialOut {
        let tseed = mix(seed, t as u64);
        let truth = Truth::draw(&self.range, cell.s, sim, mix(tseed, (cell.s * 1e6) as u64));
        let wseed = mix(
            mix(tseed, (cell.p * 1e6) as u64),
            mix((cell.q * 1e6) as u64, strat as u64 + 1),
        );
        let identifiable = cell.s == 0.0 || self.identifiable(&truth);
        let vcs = SimVcs::new(self.history, self.range.bad);
        let mut builder = SimBuilder::new(self.history, &self.range, &truth, *sim);
        let mut tester = SimTester::new(&self.range, &truth, cell, *sim, wseed);
        let mut cfg = BisectConfig::new(id_of(self.range.bad).to_string(), "sim");
        cfg.known_good = vec![id_of(self.range.good).to_string()];
        cfg.parallel = sim.slots;
        cfg.confidence = sim.confidence;
        cfg.strategy = strat.kind();
        cfg.share_evidence = sim.share_evidence;
        cfg.artifacts = std::env::temp_dir().join("kbisect-sim-unused");
        let (mut folded, mut shared) = (0, 0);
        let mut sink = |e: &Event| {
            log(e);
            if let Event::Folded { reason, .. } = e {
                match reason {
                    FoldReason::FilesUnused => folded += 1,
                    FoldReason::SameSignature => shared += 1,
                }
            }
        };
        let mut engine = Engine::new(cfg, &vcs, &mut builder, &mut tester, &mut sink);
        if let (Strat::Bayes, Some((c, r))) = (strat, &self.bayes) {
            engine = engine.with_strategy(Box::new(Bayes::with_config(c.clone(), r.clone())));
        }
        let res = engine.run();
        let local = |c: &kbisect_core::Commit| {
            number_of(&c.id)
                .map(|n| self.range.local[n as usize])
                .filter(|&i| i != u32::MAX)
        };
        let answer = match &res {
            Ok(r) => {
                let best = r.commits.first().and_then(local);
                let confident = r.kind == OutcomeKind::Culprit && r.commits.len() == 1;
                Answer {
                    culprit: if confident { best } else { None },
                    confident,
                    confidence: match r.kind {
                        OutcomeKind::Culprit | OutcomeKind::Unsure => r.confidence,
                        _ => 0.0,
                    },
                    best: match r.kind {
                        OutcomeKind::Culprit | OutcomeKind::Unsure => best,
                        _ => None,
                    },
                    p_est: r.repro_chance,
                }
            }
            Err(_) => Answer {
                culprit: None,
                confident: false,
                confidence: 0.0,
                best: None,
                p_est: 0.0,
            },
        };
        let wall = builder.minutes + tester.minutes;
        TrialOut {
            answer,
            culprit: truth.culprit,
            builds: builder.builds,
            runs: tester.runs,
            cost: builder.builds as f64 + sim.run_cost * tester.runs as f64,
            wall,
            rebuilt: builder.rebuilt,
            folded,
            shared,
            identifiable,
        }
    }

    /// `trials` trials of one strategy in one cell, over `threads` threads
    /// (results in trial order: the output does not depend on the threads).
    pub fn cell(
        &self,
        cell: Cell,
        strat: Strat,
        trials: usize,
        seed: u64,
        sim: &SimConfig,
        threads: usize,
    ) -> Vec<TrialOut> {
        let threads = threads.clamp(1, trials.max(1));
        let mut out: Vec<Option<TrialOut>> = vec![None; trials];
        std::thread::scope(|s| {
            let handles: Vec<_> = (0..threads)
                .map(|k| {
                    s.spawn(move || {
                        (k..trials)
                            .step_by(threads)
                            .map(|t| (t, self.trial(cell, strat, t, seed, sim)))
                            .collect::<Vec<_>>()
                    })
                })
                .collect();
            for h in handles {
                if let Ok(v) = h.join() {
                    for (t, r) in v {
                        out[t] = Some(r);
                    }
                }
            }
        });
        out.into_iter().flatten().collect()
    }
}
