//! Bisection engine, strategies, verdict rules, evidence and result model.
//!
//! The engine drives a bisection through three seams ([`Vcs`], [`Builder`],
//! [`Tester`]) and reports what it does as [`Event`]s; it never prints.

mod engine;
mod error;
mod events;
mod model;
mod result;
mod traits;

pub mod builders;
pub mod dag;
pub mod git_vcs;
pub mod recipients;
pub mod releases;
pub mod representative;
pub mod session;
pub mod testers;
pub mod verdict;

pub use engine::{BisectConfig, Engine, Strategy};
pub use error::{EngineError, ErrorClass, humanize};
pub use events::{Event, EventSink};
pub use model::{
    Build, BuildFailure, BuildOutcome, Commit, CommitId, Crash, KernelConfig, KernelSignature,
    RunOutcome, RunResult, Verdict, duration_secs,
};
pub use result::{BisectResult, OutcomeKind, Purpose, ResultReport, RevisionEvidence};
pub use traits::{Builder, ConfigMinimizer, InfraError, TestRequest, Tester, Vcs, run};
