//! Testers: turn a built revision and a reproducer into run outcomes.

mod classify;
mod local;

pub use classify::{CrashMatcher, DEFAULT_CRASH_REGEX, classify};
pub use local::{LocalTester, LocalTesterConfig};

use crate::model::RunResult;
use crate::traits::{InfraError, TestRequest};

/// A tester that can make any subset of a request's runs (by index), so a
/// resumed bisection makes only the runs its journal lacks.
pub trait RunTester {
    /// Makes the runs `indices` of `req`, calling `on_run` as each finishes
    /// (in completion order). An error from `on_run` stops the runs.
    fn test_runs(
        &mut self,
        req: &TestRequest<'_>,
        indices: &[usize],
        on_run: &mut dyn FnMut(usize, RunResult) -> Result<(), InfraError>,
    ) -> Result<(), InfraError>;
}
