//! Strategies: how a revision is judged (how many runs, which verdict) and
//! how the range is searched (which revision next, when to stop). The
//! engine runs the phases every strategy shares — finding the start commit,
//! the release walk, judging the culprit — and asks the strategy at each
//! step. The pieces a strategy is made of are reusable:
//! [`crate::dag::DagBisect`] (git bisect's choice), [`crate::verdict::decide`]
//! (syzkaller's verdict rule), [`crate::engine::dag_search`] (the logged
//! `git bisect` loop) and [`crate::engine::fix_guard`].

pub mod bayes;
mod plain;
mod syzkaller;

pub use bayes::Bayes;
pub use plain::Plain;
pub use syzkaller::Syzkaller;

use kbisect_git::Commit;
use serde::{Deserialize, Serialize};

use crate::engine::Context;
use crate::error::EngineError;
use crate::result::{BisectResult, Purpose, RevisionEvidence};

/// Which strategy a job uses.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StrategyKind {
    /// syzbot's own rules, exactly (the conformance scenarios pin them).
    #[default]
    Syzkaller,
    /// `git bisect run`: one run per revision, any crash is bad.
    Plain,
    /// A posterior over the culprit with flaky runs and unrelated crashes
    /// modelled, runs chosen by information per cost, culprit verified.
    Bayes,
}

impl StrategyKind {
    /// Every strategy, for help texts and errors.
    pub const ALL: &'static [StrategyKind] = &[
        StrategyKind::Syzkaller,
        StrategyKind::Plain,
        StrategyKind::Bayes,
    ];

    /// The name in job files, flags and logs.
    pub fn name(self) -> &'static str {
        match self {
            StrategyKind::Syzkaller => "syzkaller",
            StrategyKind::Plain => "plain",
            StrategyKind::Bayes => "bayes",
        }
    }

    /// The kind a name stands for.
    pub fn from_name(name: &str) -> Option<StrategyKind> {
        Self::ALL.iter().copied().find(|k| k.name() == name)
    }

    /// The fewest runs per revision with which the strategy can ever judge
    /// a revision bad (syzkaller's rule wants two crashed runs; bayes
    /// chooses its runs itself and ignores the setting).
    pub fn min_runs(self) -> usize {
        match self {
            StrategyKind::Syzkaller => 2,
            StrategyKind::Plain | StrategyKind::Bayes => 1,
        }
    }

    /// A fresh strategy of this kind.
    pub fn build(self) -> Box<dyn Strategy> {
        match self {
            StrategyKind::Syzkaller => Box::new(Syzkaller::default()),
            StrategyKind::Plain => Box::new(Plain),
            StrategyKind::Bayes => Box::new(Bayes::default()),
        }
    }
}

impl std::fmt::Display for StrategyKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// How a bisection decides. Implementations keep their own bookkeeping
/// (flakiness, estimates, posteriors); the [`Context`] holds what all share.
pub trait Strategy {
    /// The strategy's name (as in job files).
    fn name(&self) -> &'static str;

    /// Builds, runs and judges one revision: how many runs, and the verdict
    /// in crash terms. Records the revision in the context and returns it.
    fn test_revision(
        &mut self,
        cx: &mut Context<'_>,
        commit: &Commit,
        purpose: Purpose,
    ) -> Result<RevisionEvidence, EngineError>;

    /// Called once the start commit's result is final (after config
    /// minimization): it crashed, and its runs say how often.
    fn start_reproduced(&mut self, _start: &RevisionEvidence) {}

    /// Searches the range between the crashing end `bad` and the clean ends
    /// `good` (cause terms; for a fix bisection `bad` is the fixed end and
    /// `good` the crashing one): one commit is the culprit, several mean
    /// the search could not narrow it down.
    fn search(
        &mut self,
        cx: &mut Context<'_>,
        bad: &Commit,
        good: &[Commit],
    ) -> Result<Vec<Commit>, EngineError>;

    /// What the strategy knows that goes into the result (confidence,
    /// flakiness, the repro chance estimate).
    fn conclude(&self, result: &mut BisectResult);

    /// The repro chance estimate when the reproducer is flaky, for the
    /// closing lines of the log.
    fn flaky_estimate(&self) -> Option<f64>;
}
