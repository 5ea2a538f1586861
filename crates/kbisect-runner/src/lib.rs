//! One bisection from a job: the job spec (file and flags), the work dir
//! (lock, journal, worktree, artifacts), the adapters the job names wrapped
//! for resume, and the renderers (`bisect.log` in syzbot's format,
//! `result.json`). [`Bisection`] is the entry point a front end drives:
//!
//! ```no_run
//! use kbisect_runner::{Bisection, Job, JobSpec};
//!
//! let spec = JobSpec::load(std::path::Path::new("job.toml"))?;
//! let job = Job::resolve(spec, &std::env::current_dir()?)?;
//! let mut b = Bisection::open(job, false, &mut |notice| eprintln!("{notice:?}"))?;
//! let cancel = kbisect_proc::CancelToken::new();
//! let finished = b.run(&cancel, &mut |_: &kbisect_core::Event| {}, &mut |_| {})?;
//! println!("{:?}", finished.outcome.map(|r| r.commits));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#![warn(missing_docs)]

mod bisection;
mod error;
mod git_vcs;
mod job;
mod kind;
mod spec;

pub mod render_log;
pub mod report;
pub mod result_json;
pub mod session;

pub use bisection::{Bisection, Finished, Notice};
pub use error::{JobError, RunnerError};
pub use git_vcs::GitVcs;
pub use job::{BuildJob, FileRef, Job, TestJob};
pub use kind::ErrorKind;
pub use spec::{BuildSpec, BuilderChoice, JobSpec, Kind, ReproducerSpec, TestSpec, TesterChoice};
