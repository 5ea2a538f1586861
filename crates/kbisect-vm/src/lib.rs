//! Test machines and the testers that run reproducers on them: local
//! processes now (qemu and ssh machines to come); console capture with
//! timeouts; a pool running N tests in parallel.

#![warn(missing_docs)]

mod classify;
mod local;
mod local_tester;
mod pool;

pub use classify::{CrashMatcher, DEFAULT_CRASH_REGEX, VerdictMode, classify};
pub use local::{LocalRun, LocalSpec, RawRun, VmError};
pub use local_tester::{LocalTester, LocalTesterConfig};
pub use pool::run_pool;
