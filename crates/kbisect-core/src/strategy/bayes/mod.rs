//! The `bayes` strategy: a posterior over the culprit (and "none in the
//! range") jointly with the reproducer's unknown rates, runs chosen by
//! expected information per unit of cost, the culprit verified against its
//! parents before it is reported, and an explicit "unsure" when the target
//! cannot be reached within the budget.
//!
//! * [`model`]: what a run shows (flaky reproducer `p`, unrelated crashes
//!   `q`, the title rule) over a grid of (p, q);
//! * [`posterior`]: the joint posterior, kept in equivalence classes of
//!   candidates (those contained in the same tested binaries);
//! * [`decide`] and `plan`: the value of more runs on a revision
//!   (mutual information per cost), and how a round's slots are filled;
//! * `verify`: the parent-vs-culprit table;
//! * [`Machine`]: the pure state machine (no git, no processes, no
//!   randomness: the same answers give the same questions);
//! * [`Bayes`]: the [`crate::Strategy`] that drives it through the engine's
//!   [`crate::Context`]: the start commit and the range ends are judged on
//!   their own runs (adaptively: the start is run until it crashes,
//!   bounded), and every run of the bisection, the release walk's
//!   included, is evidence in the one posterior.
//!
//! Shared evidence: builds with equal signatures are the same binary (their
//! runs are shared, and the commits between them are no candidates); once
//! a build says which files it used (`Build::files_used`), a commit that
//! touches none of them is never built and is folded into its parent.

// Posterior tables are parallel arrays indexed by class and theta.
#![allow(clippy::needless_range_loop)]

pub mod decide;
pub mod gitbisect;
pub mod graph;
mod machine;
pub mod model;
mod plan;
pub mod posterior;
mod search;
mod strategy;
mod verify;

#[cfg(test)]
mod tests;

pub use decide::Costs;
pub use graph::{RangeDag, RangeDagError};
pub use machine::{
    Action, BayesConfig, BuildResult, Job, MAX_UNSURE, Machine, Outcome, Report, Rev, Role,
    VerifyRow,
};
pub use model::{ModelConfig, RunObs};
pub use posterior::{Hyp, Posterior};
pub use strategy::{Bayes, RangeRules};
