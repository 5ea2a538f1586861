//! Simulated bisections on real commit DAGs, through the real engine.
//!
//! A range `A..B` between two tags of a DAG file ([`History`], see
//! `shared/dags/README.md`) is bisected by [`kbisect_core::Engine`] with
//! the strategy under test over simulated adapters: [`SimVcs`] (the history
//! in memory; commit ids are the 40-hex encodings of the commit numbers),
//! [`SimBuilder`] (stretches of broken builds, docs-only commits with their
//! parent's binary, the files a build used) and [`SimTester`] (a planted
//! culprit; a run crashes with probability p on revisions that contain it,
//! an unrelated crash with probability q anywhere). Each trial is seeded,
//! so a table is the same for a seed whatever the number of threads.
//! [`Summary`] tabulates accuracy, builds, runs, cost, wall time under the
//! seed's cost model and calibration.

#![warn(missing_docs)]

pub mod adapters;
pub mod load;
pub mod table;
pub mod trial;
pub mod vcs;
pub mod world;

pub use adapters::{SimBuilder, SimTester};
pub use load::{History, LoadError, Range};
pub use table::{Pooled, Report, Summary, pooled, pooled_lines};
pub use trial::{Answer, Prepared, Strat, TrialOut};
pub use vcs::SimVcs;
pub use world::{Cell, SimConfig, Truth};
