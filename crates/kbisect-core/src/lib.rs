//! kbisect's engine: the seams a bisection runs through, the strategies that
//! decide, and the pure rules they are made of.
//!
//! A bisection needs three adapters — [`Vcs`] (the history), [`Builder`]
//! (a revision to an artifact and its signature) and [`Tester`] (runs of the
//! reproducer on a built revision) — and a [`Strategy`] (how to judge a
//! revision, which one to test next, when to stop). The [`Engine`] runs the
//! phases every strategy shares (find the start commit, reproduce the crash,
//! walk the releases, judge the culprit), reports what it does as typed
//! [`Event`]s, and returns a [`BisectResult`] with every revision's
//! evidence. It never prints, reads files or starts programs: adapters live
//! in their own crates (`kbisect-build`, `kbisect-kernel`, `kbisect-vm`),
//! and `kbisect-runner` wires them to a work dir and a journal.
//!
//! ```
//! use kbisect_core::{
//!     Build, BuildOutcome, BuildRequest, Builder, BuilderKind, InfraError, RunJob, RunOutcome,
//!     RunResult, Tester, Vcs,
//! };
//! use kbisect_core::{BisectConfig, Engine, Event, StrategyKind};
//!
//! // A builder whose artifact is just the commit hash.
//! struct Echo;
//! impl Builder for Echo {
//!     fn kind(&self) -> BuilderKind { BuilderKind::Generic }
//!     fn compiler_id(&mut self, _: &kbisect_core::Commit) -> Option<String> { None }
//!     fn build(&mut self, req: &BuildRequest<'_>) -> Result<BuildOutcome, InfraError> {
//!         Ok(BuildOutcome::Built(Build {
//!             compiler: None,
//!             signature: None,
//!             artifact: None,
//!             files_used: None,
//!             duration: Default::default(),
//!         }))
//!     }
//! }
//! // A tester under which every run passes.
//! struct Pass;
//! impl Tester for Pass {
//!     fn run(
//!         &mut self,
//!         jobs: &[RunJob<'_>],
//!         on_run: &mut dyn FnMut(usize, RunResult) -> Result<(), InfraError>,
//!     ) -> Result<(), InfraError> {
//!         (0..jobs.len()).try_for_each(|i| on_run(i, RunResult::new(RunOutcome::Ok)))
//!     }
//! }
//! # fn demo(vcs: &dyn Vcs) {
//! let mut cfg = BisectConfig::new("HEAD", "master");
//! cfg.strategy = StrategyKind::Plain;
//! let (mut b, mut t) = (Echo, Pass);
//! let mut log = Vec::new();
//! let mut sink = |e: &Event| log.push(format!("{e:?}"));
//! // Nothing crashes, so the start commit does not reproduce.
//! let res = Engine::new(cfg, vcs, &mut b, &mut t, &mut sink).run();
//! assert!(matches!(res, Err(kbisect_core::EngineError::NotReproduced)));
//! # }
//! ```

#![warn(missing_docs)]

mod engine;
mod error;
mod events;
mod model;
mod result;
mod seams;

pub mod dag;
pub mod recipients;
pub mod releases;
pub mod representative;
pub mod strategy;
pub mod verdict;

pub use engine::{BisectConfig, Context, Engine, Target, count_runs, dag_search, fix_guard};
pub use error::{BadRange, BoxError, EngineError, InfraError, humanize};
pub use events::{Event, EventSink, FoldReason, GuardStep, RangeEnd, RunLine};
pub use kbisect_crash::CrashType;
pub use model::{
    ArtifactSignature, Build, BuildConfig, BuildFailure, BuildOutcome, Commit, CommitId, Crash,
    RunOutcome, RunResult, Verdict, content_hash, duration_secs,
};
pub use result::{
    BisectResult, Candidate, OutcomeKind, Purpose, ResultReport, RevertCheck, RevertOutcome,
    RevisionEvidence, Verification, VerificationRow, VerifyRole,
};
pub use seams::{
    BuildRequest, Builder, BuilderKind, ConfigMinimizer, RunJob, TestRequest, Tester, Vcs, run_all,
};
pub use strategy::{Strategy, StrategyKind};
